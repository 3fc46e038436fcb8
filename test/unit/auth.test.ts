/** Pure helpers of src/http/auth.ts and src/http/origin.ts. */
import { describe, expect, it } from 'vitest'
import { bearerKey } from '../../src/http/auth.js'
import { originOf } from '../../src/http/origin.js'

describe('originOf', () => {
  it('is what new URL(url).origin gives for the URLs the server builds', () => {
    for (const url of [
      'http://127.0.0.1:9000/source/scim/a/v2/Users?filter=userName%20eq%20%22x%22',
      'http://localhost/source/scim/a/v2/Users/abc',
      'https://scim.example.com:8443/source/scim/a//v2',
      'http://[::1]:9000/source/scim/a/v2/Groups',
      'http://example.com',
      'http://example.com?x=1',
      // Not plain: what the URL parser rewrites.
      'http://1.2.3/source/scim/a/v2/Users',
      'http://010.0.0.1:9000/x',
      'http://u:p@example.com/x',
      'http://EXAMPLE.com:80/x',
      'http://0x7f.1/x',
    ]) {
      expect(originOf(url)).toBe(new URL(url).origin)
    }
  })
})

describe('bearerKey', () => {
  it('reads the credential of a Bearer header, scheme case-insensitive', () => {
    expect(bearerKey('Bearer abc')).toBe('abc')
    expect(bearerKey('bearer   abc  ')).toBe('abc')
    expect(bearerKey('Basic abc')).toBeUndefined()
    expect(bearerKey('Bearer a b')).toBeUndefined()
    expect(bearerKey(undefined)).toBeUndefined()
  })
})
