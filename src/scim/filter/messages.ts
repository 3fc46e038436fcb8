/** Filter syntax errors as sentences a person can act on, instead of the parser's internals. */

const COMPARE = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])
const LOGICAL = new Set(['and', 'or', 'not'])
const OPERATOR_LIST = 'eq, ne, co, sw, ew, gt, ge, lt, le or pr'

/** The filter's words, quoted strings shown as "…" (a value is the client's data, not ours to echo). */
function words(text: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out.push('"…"')
      i = j + 1
    } else if ('()[]'.includes(ch)) {
      out.push(ch)
      i++
    } else {
      let j = i
      while (j < text.length && !/[\s()[\]"]/.test(text[j] as string)) j++
      out.push(text.slice(i, j).slice(0, 40))
      i = j
    }
  }
  return out
}

function quote(parts: string[]): string {
  return `\`${parts
    .join(' ')
    .replace(/([([]) /g, '$1')
    .replace(/ ([)\]])/g, '$1')
    .replace(/\] \./g, '].')}\``
}

/** What is missing after the filter's last word. */
function missingAfter(last: string | undefined): string {
  const word = last?.toLowerCase() ?? ''
  if (COMPARE.has(word)) return 'a value is missing'
  if (LOGICAL.has(word)) return `a condition is missing after \`${last}\``
  if (word === '(' || word === '[') return `a condition is missing after \`${last}\``
  return 'it is incomplete'
}

/**
 * A sentence for a filter the parser refused: `text` is what the client sent, `parserMessage`
 * what scim2-parse-filter said (its wording is matched here and nowhere else). Falls back to
 * a generic sentence; never repeats a quoted value.
 */
export function describeFilterError(text: string, parserMessage: string): string {
  const all = words(text)
  const tail = all.slice(-3)
  if (/\(EOT\)/.test(parserMessage) && !/expected '/.test(parserMessage)) {
    return `the filter ends after ${quote(tail)}; ${missingAfter(all.at(-1))}`
  }
  if (/expected '\)'/.test(parserMessage)) {
    return 'a `(` is never closed; add the `)` that ends its group'
  }
  if (/expected '\]'/.test(parserMessage)) {
    return 'a `[` is never closed; add the `]` that ends its value filter'
  }
  const operator = /Unexpected token (\S+) ?(\S*) as valFilter operator/.exec(parserMessage)
  if (operator) {
    const [, attribute, op] = operator
    if (LOGICAL.has((attribute ?? '').toLowerCase())) {
      return `\`${attribute}\` must stand between two conditions, e.g. \`userName eq "a" ${attribute} active eq true\``
    }
    if (!op) {
      return `\`${attribute}\` needs an operator and a value, e.g. \`${attribute} eq "…"\``
    }
    return `\`${op}\` after \`${attribute}\` is not an operator; use ${OPERATOR_LIST}`
  }
  const extra = /unexpected EOT .*\[(.*)\],?$/.exec(parserMessage)
  if (extra) {
    const word = extra[1] === '"…"' || /^"\d+"$/.test(extra[1] ?? '') ? '"…"' : extra[1]
    if (word === ')' || word === ']') {
      return `\`${word}\` has no matching \`${word === ')' ? '(' : '['}\``
    }
    return `a complete condition is followed by \`${word}\`; join conditions with \`and\` or \`or\``
  }
  if (/\(Quoted\)/.test(parserMessage)) {
    return 'a quoted value stands where an attribute name belongs; write the attribute first, e.g. `userName eq "…"`'
  }
  return `the filter ${quote(all.slice(0, 8))} cannot be read (RFC 7644 §3.4.2.2)`
}

/** `attr[filter].sub op` with nothing after the operator (read before the parser runs). */
export function incompleteFilter(text: string): string {
  const all = words(text)
  return `the filter ends after ${quote(all.slice(-3))}; ${missingAfter(all.at(-1))}`
}
