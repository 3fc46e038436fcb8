/**
 * Filter syntax errors read as sentences that say what to fix, never the parser's internals.
 * @see issue 24
 */
import { describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.js'
import { parseFilter } from '../../src/scim/filter/parse.js'

function detailOf(filter: string): string {
  try {
    parseFilter(filter)
  } catch (err) {
    expect(err).toBeInstanceOf(ScimError)
    expect((err as ScimError).scimType).toBe('invalidFilter')
    return (err as ScimError).detail
  }
  throw new Error(`${filter} parsed`)
}

describe('filter error messages', () => {
  it.each([
    ['userName eq', 'the filter ends after `userName eq`; a value is missing'],
    [
      'userName eq "a" and',
      'the filter ends after `eq "…" and`; a condition is missing after `and`',
    ],
    ['emails[type eq "work"].value eq', 'the filter ends after `].value eq`; a value is missing'],
    ['userName', '`userName` needs an operator and a value, e.g. `userName eq "…"`'],
    [
      'userName zz "a"',
      '`zz` after `userName` is not an operator; use eq, ne, co, sw, ew, gt, ge, lt, le or pr',
    ],
    ['(userName eq "a"', 'a `(` is never closed; add the `)` that ends its group'],
    ['emails[type eq "work"', 'a `[` is never closed; add the `]` that ends its value filter'],
    ['userName eq "a")', '`)` has no matching `(`'],
    [
      'userName eq "a" active',
      'a complete condition is followed by `active`; join conditions with `and` or `or`',
    ],
    [
      '"a" eq userName',
      'a quoted value stands where an attribute name belongs; write the attribute first, e.g. `userName eq "…"`',
    ],
    ['userName eq "open', 'a string opened with `"` is never closed; end it with `"`'],
  ])('%s', (filter, sentence) => {
    expect(detailOf(filter)).toBe(`Invalid filter: ${sentence}`)
  })

  it('never shows the parser’s wording nor a value the client sent', () => {
    const valid =
      'emails[type eq "work" and value co "secret-ish"] or (userName sw "ad" and active eq true)'
    for (let end = 1; end < valid.length; end++) {
      const cut = valid.slice(0, end)
      let detail: string
      try {
        parseFilter(cut)
        continue
      } catch (err) {
        detail = (err as ScimError).detail
      }
      expect(detail, cut).not.toMatch(/EOT|valFilter|json|Unexpected token/i)
      expect(detail, cut).not.toContain('secret-ish')
    }
  })
})
