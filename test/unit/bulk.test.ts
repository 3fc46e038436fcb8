import { describe, expect, it } from 'vitest'
import {
  type BulkOperation,
  executionOrder,
  parseBulkRequest,
  resolveReferences,
} from '../../src/scim/bulk.js'
import { ScimError } from '../../src/scim/errors.js'

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'

const request = (operations: unknown[], extra: Record<string, unknown> = {}) =>
  parseBulkRequest({ schemas: [BULK], Operations: operations, ...extra }, 100_000)

const post = (bulkId: string, refs: string[] = []) => ({
  method: 'post',
  path: '/Groups',
  bulkId,
  data: { displayName: bulkId, members: refs.map((r) => ({ value: `bulkId:${r}` })) },
})

function valid(operations: unknown[]): BulkOperation[] {
  return request(operations).operations.filter((o): o is BulkOperation => !('error' in o))
}

describe('parseBulkRequest', () => {
  it('reads keys in any case, upper-cases methods and collects references', () => {
    const parsed = parseBulkRequest(
      {
        SCHEMAS: [BULK],
        failonerrors: 2,
        operations: [
          { METHOD: 'patch', PATH: '/users/bulkId:u', DATA: { x: ['bulkId:g'] }, Version: 'W/"1"' },
          post('u'),
          post('g'),
        ],
      },
      10,
    )
    expect(parsed.failOnErrors).toBe(2)
    expect(parsed.operations[0]).toMatchObject({
      method: 'PATCH',
      resourceType: 'User',
      id: 'bulkId:u',
      version: 'W/"1"',
      references: ['u', 'g'],
    })
  })

  it('throws 413 tooMany past maxOperations, before looking at any operation', () => {
    let error: ScimError | undefined
    try {
      parseBulkRequest({ schemas: [BULK], Operations: [1, 2, 3] }, 2)
    } catch (e) {
      error = e as ScimError
    }
    expect(error).toBeInstanceOf(ScimError)
    expect(error?.status).toBe(413)
    expect(error?.scimType).toBe('tooMany')
  })

  it('decodes a percent-encoded id and refuses paths outside /Users and /Groups', () => {
    const ops = request([
      { method: 'DELETE', path: '/Users/a%20b' },
      { method: 'DELETE', path: '/Users/a/b' },
      { method: 'DELETE', path: '/Schemas/x' },
      { method: 'DELETE', path: 'https://elsewhere/Users/x' },
    ]).operations
    expect(ops[0]).toMatchObject({ id: 'a b' })
    for (const op of ops.slice(1)) expect(op).toMatchObject({ error: { scimType: 'invalidPath' } })
  })
})

describe('executionOrder', () => {
  it('keeps the request order and runs a referenced POST before what refers to it', () => {
    const { order, circular } = executionOrder(
      valid([post('a', ['c']), post('b'), post('c', ['b'])]),
    )
    expect(order.map((o) => o.bulkId)).toEqual(['b', 'c', 'a'])
    expect(circular).toEqual([])
  })

  it('sets apart a cycle, a self-reference and what waits on them, with the cycle named', () => {
    const { order, circular } = executionOrder(
      valid([
        post('x'),
        post('a', ['b']),
        post('b', ['a']),
        post('s', ['s']),
        post('w', ['a', 'x']),
      ]),
    )
    expect(order.map((o) => o.bulkId)).toEqual(['x'])
    expect(circular.map((c) => c.operation.bulkId)).toEqual(['a', 'b', 's', 'w'])
    expect(circular[0]?.cycle).toEqual(['a', 'b', 'a'])
    expect(circular[2]?.cycle).toEqual(['s', 's'])
  })

  it('orders a chain of 10,000 references without running out of stack', () => {
    const ops = Array.from({ length: 10_000 }, (_, i) =>
      post(`n${i}`, i + 1 < 10_000 ? [`n${i + 1}`] : []),
    )
    const { order } = executionOrder(valid(ops))
    expect(order[0]?.bulkId).toBe('n9999')
    expect(order.at(-1)?.bulkId).toBe('n0')
  })
})

describe('resolveReferences', () => {
  it('replaces whole-string references it knows, anywhere, and leaves the rest', () => {
    const ids = new Map([['u', 'id-1']])
    expect(
      resolveReferences({ a: ['bulkId:u', 'xbulkId:u'], b: { c: 'bulkId:u', d: 'bulkId:v' } }, ids),
    ).toEqual({ a: ['id-1', 'xbulkId:u'], b: { c: 'id-1', d: 'bulkId:v' } })
  })
})
