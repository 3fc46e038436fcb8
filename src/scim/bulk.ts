/** RFC 7644 §3.7 Bulk requests with no I/O: parsing, bulkId references, and the order to run in. */
import { ScimError, type ScimErrorBody } from './errors.js'

export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
export const BULK_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type BulkResourceType = 'User' | 'Group'

/** One operation as the client sent it, checked; `id` may still be a `bulkId:` reference. */
export interface BulkOperation {
  /** Its position in the request. */
  index: number
  method: BulkMethod
  bulkId: string | undefined
  version: string | undefined
  resourceType: BulkResourceType
  /** The resource's id (PUT, PATCH, DELETE), as sent. */
  id: string | undefined
  data: unknown
  /** The bulkIds it refers to, in its path or anywhere in its data. */
  references: string[]
}

/** An operation refused before it ran: its outcome is this error. */
export interface InvalidBulkOperation {
  index: number
  method: string | undefined
  bulkId: string | undefined
  error: ScimError
}

export interface BulkRequest {
  /** RFC 7644 §3.7.3: stop once this many operations failed; undefined: never stop. */
  failOnErrors: number | undefined
  operations: Array<BulkOperation | InvalidBulkOperation>
}

/** What one operation did, as the BulkResponse reports it (RFC 7644 §3.7.3). */
export interface BulkOutcome {
  method: string | undefined
  bulkId: string | undefined
  /** The resource's endpoint and id, when it is known (never for a failed POST). */
  location: { resourceType: BulkResourceType; id: string } | undefined
  version: string | undefined
  status: number
  error: ScimErrorBody | undefined
}

const METHODS: readonly BulkMethod[] = ['POST', 'PUT', 'PATCH', 'DELETE']
const REFERENCE = /^bulkId:(.+)$/

/** The bulkId a string refers to (`bulkId:qwerty` → `qwerty`), if it is a reference. */
export function bulkIdReference(value: string): string | undefined {
  return REFERENCE.exec(value)?.[1]
}

/** Fields of a JSON object by lower-cased name: SCIM attribute names ignore case. */
function fieldsOf(value: unknown): Map<string, unknown> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]))
}

/**
 * Parses a BulkRequest. What makes the whole request unusable (not a BulkRequest, more than
 * `maxOperations` operations: 413 per RFC 7644 §3.7.4) throws; a bad operation is refused
 * alone, as the RFC has each operation succeed or fail on its own.
 */
export function parseBulkRequest(body: unknown, maxOperations: number): BulkRequest {
  const fields = fieldsOf(body)
  if (!fields) throw ScimError.invalidSyntax('A BulkRequest must be a JSON object')
  const schemas = fields.get('schemas')
  const urn = BULK_REQUEST_URN.toLowerCase()
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn)
  ) {
    throw ScimError.invalidSyntax(`A BulkRequest must have schemas ["${BULK_REQUEST_URN}"]`)
  }
  const failOnErrors = fields.get('failonerrors')
  if (
    failOnErrors !== undefined &&
    failOnErrors !== null &&
    !(Number.isSafeInteger(failOnErrors) && (failOnErrors as number) >= 1)
  ) {
    throw ScimError.invalidValue("'failOnErrors' must be an integer of at least 1")
  }
  const operations = fields.get('operations')
  if (!Array.isArray(operations)) {
    throw ScimError.invalidSyntax("A BulkRequest must have an 'Operations' array")
  }
  if (operations.length > maxOperations) {
    throw tooManyOperations(maxOperations)
  }
  const parsed = operations.map((op, index) => parseOperation(op, index))
  // A bulkId names one new resource: a second POST with it is refused, references keep
  // meaning the first.
  const declared = new Set<string>()
  const checked = parsed.map((op) => {
    if ('error' in op || op.method !== 'POST' || op.bulkId === undefined) return op
    if (!declared.has(op.bulkId)) {
      declared.add(op.bulkId)
      return op
    }
    return invalid(op, ScimError.invalidValue(`bulkId '${op.bulkId}' is used by an earlier POST`))
  })
  return {
    failOnErrors: typeof failOnErrors === 'number' ? failOnErrors : undefined,
    operations: checked.map((op) => {
      if ('error' in op) return op
      const unknown = op.references.find((r) => !declared.has(r))
      if (unknown === undefined) return op
      return invalid(
        op,
        ScimError.invalidValue(`bulkId '${unknown}' is not the bulkId of a POST in this request`),
      )
    }),
  }
}

/** RFC 7644 §3.7.4: more operations than maxOperations is 413. */
export function tooManyOperations(maxOperations: number): ScimError {
  // §3.12 has no scimType for 413; tooMany ("more than the server is willing to process")
  // is the closest, and tells a client which of the two limits it passed.
  return new ScimError(
    413,
    `The number of operations exceeds the maxOperations (${maxOperations})`,
    'tooMany',
  )
}

/** RFC 7644 §3.7.4: a body larger than maxPayloadSize is 413, naming the limit. */
export function bulkPayloadTooLarge(maxPayloadSize: number): ScimError {
  return new ScimError(
    413,
    `The size of the bulk operation exceeds the maxPayloadSize (${maxPayloadSize})`,
  )
}

function invalid(
  op: { index: number; method: string | undefined; bulkId: string | undefined },
  error: ScimError,
): InvalidBulkOperation {
  return { index: op.index, method: op.method, bulkId: op.bulkId, error }
}

function parseOperation(raw: unknown, index: number): BulkOperation | InvalidBulkOperation {
  const fields = fieldsOf(raw)
  if (!fields) {
    return invalid(
      { index, method: undefined, bulkId: undefined },
      ScimError.invalidSyntax('An operation must be a JSON object'),
    )
  }
  const rawMethod = fields.get('method')
  const rawBulkId = fields.get('bulkid')
  const bulkId = typeof rawBulkId === 'string' && rawBulkId !== '' ? rawBulkId : undefined
  const method = typeof rawMethod === 'string' ? rawMethod.toUpperCase() : undefined
  const refuse = (error: ScimError) => invalid({ index, method, bulkId }, error)
  if (!method || !METHODS.includes(method as BulkMethod)) {
    return refuse(ScimError.invalidValue("'method' must be one of POST, PUT, PATCH, DELETE"))
  }
  if (rawBulkId !== undefined && rawBulkId !== null && bulkId === undefined) {
    return refuse(ScimError.invalidValue("'bulkId' must be a non-empty string"))
  }
  if (method === 'POST' && bulkId === undefined) {
    return refuse(ScimError.invalidValue("A POST operation needs a 'bulkId' (RFC 7644 §3.7)"))
  }
  const rawVersion = fields.get('version')
  if (rawVersion !== undefined && rawVersion !== null && typeof rawVersion !== 'string') {
    return refuse(ScimError.invalidValue("'version' must be a string"))
  }
  const target = parsePath(fields.get('path'), method as BulkMethod)
  if ('error' in target) return refuse(target.error)
  const data = fields.get('data')
  if (method !== 'DELETE' && (data === undefined || data === null)) {
    return refuse(ScimError.invalidSyntax(`A ${method} operation needs 'data'`))
  }
  const references: string[] = []
  const idReference = target.id === undefined ? undefined : bulkIdReference(target.id)
  if (idReference !== undefined) references.push(idReference)
  if (method !== 'DELETE') collectReferences(data, references)
  return {
    index,
    method: method as BulkMethod,
    bulkId,
    version: typeof rawVersion === 'string' ? rawVersion : undefined,
    resourceType: target.resourceType,
    id: target.id,
    data: method === 'DELETE' ? undefined : data,
    references: [...new Set(references)],
  }
}

/**
 * An operation's path: `/Users` or `/Groups` for a POST, `/Users/<id>` or `/Groups/<id>`
 * otherwise (RFC 7644 §3.7). Nothing else: a bulk operation reaches the source's own Users
 * and Groups and no other endpoint.
 */
function parsePath(
  raw: unknown,
  method: BulkMethod,
): { resourceType: BulkResourceType; id: string | undefined } | { error: ScimError } {
  if (typeof raw !== 'string')
    return { error: ScimError.invalidSyntax("An operation needs 'path'") }
  const match = /^\/?(users|groups)(?:\/([^/?#]+))?\/?$/i.exec(raw)
  if (!match) {
    return {
      error: ScimError.invalidPath(`'${raw}' is not /Users, /Groups or one of their resources`),
    }
  }
  const resourceType: BulkResourceType = match[1]?.toLowerCase() === 'users' ? 'User' : 'Group'
  let id = match[2]
  if (id !== undefined) {
    try {
      id = decodeURIComponent(id)
    } catch {
      return { error: ScimError.invalidPath(`'${raw}' is not a valid path`) }
    }
  }
  if (method === 'POST' && id !== undefined) {
    return { error: ScimError.invalidPath(`A POST goes to /Users or /Groups, not '${raw}'`) }
  }
  if (method !== 'POST' && id === undefined) {
    return { error: ScimError.invalidPath(`A ${method} needs a resource's path, not '${raw}'`) }
  }
  return { resourceType, id }
}

function collectReferences(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    const ref = bulkIdReference(value)
    if (ref !== undefined) out.push(ref)
  } else if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, out)
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectReferences(v, out)
  }
}

/** A copy of `value` with every `bulkId:` reference replaced by the id it resolved to. */
export function resolveReferences(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    const ref = bulkIdReference(value)
    return ref === undefined ? value : (ids.get(ref) ?? value)
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, ids))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, ids)]))
  }
  return value
}

/**
 * The order to run the operations in: the request's order, except that an operation waits for
 * the POSTs whose bulkIds it refers to (a reference may point forward, RFC 7644 §3.7.2).
 * Operations caught in a cycle of references, and those that wait on one, cannot run: they
 * are returned apart, with the cycle that stopped them (RFC 7644 §3.7.1 allows 409 there).
 */
export function executionOrder(operations: readonly BulkOperation[]): {
  order: BulkOperation[]
  circular: Array<{ operation: BulkOperation; cycle: string[] }>
} {
  const byBulkId = new Map<string, BulkOperation>()
  for (const op of operations) {
    if (op.method === 'POST' && op.bulkId !== undefined) byBulkId.set(op.bulkId, op)
  }
  const state = new Map<BulkOperation, 'visiting' | 'done' | { cycle: string[] }>()
  const order: BulkOperation[] = []
  const circular: Array<{ operation: BulkOperation; cycle: string[] }> = []
  // Depth-first, dependencies before dependants; the stack is explicit so that a long chain
  // of references cannot overflow the call stack.
  for (const start of operations) {
    if (state.has(start)) continue
    const stack: Array<{ op: BulkOperation; next: number }> = [{ op: start, next: 0 }]
    state.set(start, 'visiting')
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { op: BulkOperation; next: number }
      const ref = top.op.references[top.next++]
      if (ref !== undefined) {
        const dep = byBulkId.get(ref)
        if (!dep) continue
        const seen = state.get(dep)
        if (seen === undefined) {
          state.set(dep, 'visiting')
          stack.push({ op: dep, next: 0 })
        } else if (seen === 'visiting') {
          // A back edge: the operations from `dep` up the stack refer to each other.
          const from = stack.findIndex((s) => s.op === dep)
          const cycle = stack.slice(from).map((s) => s.op.bulkId ?? `#${s.op.index}`)
          for (const s of stack.slice(from))
            state.set(s.op, { cycle: [...cycle, cycle[0] as string] })
        } else if (seen !== 'done' && state.get(top.op) === 'visiting') {
          state.set(top.op, seen)
        }
        continue
      }
      stack.pop()
      const mine = state.get(top.op)
      if (mine === 'visiting') {
        state.set(top.op, 'done')
        order.push(top.op)
      } else if (mine !== undefined && mine !== 'done') {
        circular.push({ operation: top.op, cycle: mine.cycle })
        // Whoever waits on this one cannot run either.
        const parent = stack[stack.length - 1]
        if (parent && state.get(parent.op) === 'visiting') state.set(parent.op, mine)
      }
    }
  }
  circular.sort((a, b) => a.operation.index - b.operation.index)
  return { order, circular }
}
