/** A PatchOp request body (RFC 7644 §3.5.2) read into operations, with the spellings clients send. */
import { ScimError } from '../errors.js'
import { isJsonObject } from '../normalize.js'
import { PATCH_OP_URN } from '../schema/resource-types.js'

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace'
  path?: string
  value?: unknown
}

type JsonObject = Record<string, unknown>

export const MAX_PATCH_OPERATIONS = 1000

/**
 * Validates a PatchOp request body (RFC 7644 §3.5.2). `Operations` and each operation's
 * keys are matched ignoring case; `op` too, since Entra sends "Replace"/"Add"/"Remove".
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('Request body must be a JSON object')
  const fields = lowerKeys(body)
  const schemas = fields.schemas
  if (schemas !== undefined) {
    const isPatchOp =
      Array.isArray(schemas) &&
      schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_URN.toLowerCase())
    if (!isPatchOp) throw ScimError.invalidSyntax(`'schemas' must contain '${PATCH_OP_URN}'`)
  }
  const operations = fields.operations
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimError.invalidSyntax("'Operations' must be a non-empty array")
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw ScimError.tooMany(`At most ${MAX_PATCH_OPERATIONS} operations are allowed per request`)
  }
  return operations.map((operation, index) => parseOperation(operation, index))
}

function parseOperation(operation: unknown, index: number): PatchOperation {
  const where = `Operation ${index + 1}`
  if (!isJsonObject(operation)) throw ScimError.invalidSyntax(`${where} must be an object`)
  // Other keys (Microsoft's test collection sends `name`) are ignored.
  const fields = lowerKeys(operation)
  const op = typeof fields.op === 'string' ? fields.op.toLowerCase() : undefined
  if (op !== 'add' && op !== 'remove' && op !== 'replace') {
    throw ScimError.invalidSyntax(`${where}: 'op' must be one of add, remove, replace`)
  }
  const result: PatchOperation = { op }
  if (fields.path !== undefined && fields.path !== null) {
    if (typeof fields.path !== 'string') {
      throw ScimError.invalidSyntax(`${where}: 'path' must be a string`)
    }
    result.path = fields.path
  }
  if ('value' in fields) result.value = fields.value
  if (op === 'remove' && result.path === undefined && result.value === undefined) {
    // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails" with noTarget.
    throw ScimError.noTarget(`${where}: 'remove' needs a 'path'`)
  }
  if (op !== 'remove' && !('value' in fields)) {
    throw ScimError.invalidSyntax(`${where}: '${op}' needs a 'value'`)
  }
  return result
}

function lowerKeys(value: JsonObject): JsonObject {
  const result: JsonObject = {}
  for (const [key, item] of Object.entries(value)) result[key.toLowerCase()] = item
  return result
}
