/**
 * The SCIM routes' own query-string reader: it must read every query string exactly as
 * Hono's `c.req.query()` does (decoding, `+`, malformed escapes, empty names, repeats), with
 * names folded to lower case and the first of a name's spellings winning.
 */
import fc from 'fast-check'
import { HonoRequest } from 'hono/request'
import { describe, expect, it } from 'vitest'
import { queryStringParams } from '../../src/http/scim/shared.js'

const BASE = 'http://scimd.test/source/scim/s/v2/Users'

/** What Hono reads, case-folded with the first spelling of each name kept. */
function honoReads(url: string): Map<string, string> {
  const folded = new Map<string, string>()
  for (const [name, value] of Object.entries(new HonoRequest(new Request(url)).query())) {
    if (!folded.has(name.toLowerCase())) folded.set(name.toLowerCase(), value)
  }
  return folded
}

describe('queryStringParams', () => {
  it('reads what SCIM clients send, names in any case', () => {
    const get = queryStringParams(
      `${BASE}?filter=userName%20eq%20%22a%2Bb%40x.example%22&startindex=3&Count=+10+&attributes`,
    )
    expect(get('filter')).toBe('userName eq "a+b@x.example"')
    expect(get('startIndex')).toBe('3')
    expect(get('count')).toBe(' 10 ')
    expect(get('attributes')).toBe('')
    expect(get('sortBy')).toBeUndefined()
  })

  it('reads nothing from a URL without a query, or whose query is empty', () => {
    for (const url of [BASE, `${BASE}?`, `${BASE}?&&`, `${BASE}?=x`]) {
      expect(queryStringParams(url)('filter'), url).toBeUndefined()
    }
  })

  it('keeps the first of repeated names, whatever their case', () => {
    const get = queryStringParams(`${BASE}?count=1&COUNT=2&count=3`)
    expect(get('count')).toBe('1')
  })

  it('keeps a malformed escape as sent and decodes the rest', () => {
    const get = queryStringParams(`${BASE}?filter=userName%20eq%20%22100%%22&x=%E0%A4%A`)
    expect(get('filter')).toBe('userName eq "100%"')
    expect(get('x')).toBe('%E0%A4%A')
  })

  it('agrees with Hono on any query string', () => {
    const part = fc
      .array(fc.constantFrom('a', 'B', 'c', 'é', '%', '2', '0', 'F', 'e', '+', '=', '&', ' '), {
        maxLength: 12,
      })
      .map((chars) => chars.join(''))
    fc.assert(
      // Names start with a letter: Hono's plain object would reorder digits-only names.
      fc.property(fc.array(part, { maxLength: 5 }), (parts) => {
        const query = parts
          .map((p) => `x${p.replaceAll(' ', '%20').replaceAll('é', '%C3%A9')}`)
          .join('&')
        const url = `${BASE}?${query}`
        const expected = honoReads(url)
        const get = queryStringParams(url)
        for (const [name, value] of expected) expect(get(name), url).toBe(value)
        expect(get('zz'), url).toBeUndefined()
      }),
      { numRuns: 500 },
    )
  })
})
