/**
 * The two third-party suite runners themselves: how they read Runscope assertions and how
 * they prepare Microsoft's collection. A runner that passes everything proves nothing.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { compare, readProperty } from '../../scripts/okta-spec-runner.js'
import { collectionVariables, prepareCollection } from '../../scripts/run-ms-collection.js'

describe('okta-spec-runner', () => {
  const list = {
    totalResults: 1,
    Resources: [{ id: 'a', active: false, emails: [{ value: 'x@y' }, { value: 'z@y' }] }],
  }

  it('reads Runscope property paths, mapping a property over an array', () => {
    expect(readProperty(list, 'Resources[0].id')).toBe('a')
    expect(readProperty(list, 'Resources[0].emails[1].value')).toBe('z@y')
    expect(readProperty(list, 'Resources[0].emails.value')).toEqual(['x@y', 'z@y'])
    expect(readProperty(list, 'Resources[1].id')).toBeUndefined()
    expect(readProperty(list, 'totalResults.nope')).toBeUndefined()
  })

  it('compares like Runscope: text for equal, JSON numbers for is_a_number', () => {
    expect(compare('equal', 0, '0')).toBeUndefined()
    expect(compare('equal', true, 'true')).toBeUndefined()
    expect(compare('equal', 'a', 'b')).toBeDefined()
    expect(compare('equal_number', 404, '404')).toBeUndefined()
    expect(compare('equal_number', undefined, '0')).toBeDefined()
    expect(compare('is_a_number', 1, null)).toBeUndefined()
    expect(compare('is_a_number', '1', null)).toBeDefined()
    expect(compare('not_empty', false, null)).toBeUndefined()
    expect(compare('not_empty', [], null)).toBeDefined()
    expect(compare('not_empty', undefined, null)).toBeDefined()
    expect(compare('has_value', ['u', 'v'], 'v')).toBeUndefined()
    expect(compare('has_value', ['u'], 'v')).toBeDefined()
    expect(compare('has_value', ['x@y'], null)).toBeUndefined()
    expect(compare('contains', 'application/scim+json', 'scim')).toBeUndefined()
    expect(compare('is_less_than', 5, '10')).toBeUndefined()
    expect(compare('is_less_than', 10, '10')).toBeDefined()
    expect(compare('matches_regex', 'a', 'a')).toBeDefined()
  })
})

describe('run-ms-collection', () => {
  it('drops the Get Token folder and labels every request by folder, repeats numbered', () => {
    const prepared = prepareCollection({
      item: [
        { name: 'Get Token', item: [{ name: 'Get Token' }] },
        { name: 'Group tests', item: [{ name: 'Get group by id' }, { name: 'Get group by id' }] },
        { name: 'Get all users' },
      ],
    })
    expect(prepared.item.map((i) => i.name)).toEqual(['Group tests', 'Get all users'])
    expect(prepared.item[0]?.item?.map((i) => i.id)).toEqual([
      'Group tests / Get group by id',
      'Group tests / Get group by id #2',
    ])
    expect(prepared.item[1]?.id).toBe('Get all users')
  })

  it('derives the collection variables from the SCIM base URL', () => {
    expect(collectionVariables('http://127.0.0.1:9000/source/scim/ms/v2', 'k')).toEqual([
      { key: 'Protocol', value: 'http' },
      { key: 'Server', value: '127.0.0.1' },
      { key: 'Port', value: ':9000' },
      { key: 'Api', value: 'source/scim/ms/v2' },
      { key: 'token', value: 'k' },
    ])
  })
})
