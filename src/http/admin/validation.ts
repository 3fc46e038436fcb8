/** Turns zod validation failures of admin requests into authentik's `{field: [messages]}` errors. */
import type { Hook } from '@hono/zod-openapi'
import type * as z from 'zod'
import { ScimError } from '../../scim/errors.js'
import type { AppEnv } from '../env.js'
import { ValidationError } from '../render-error.js'

export const UNKNOWN_FIELD = 'Unknown field.'
export const REQUIRED = 'This field is required.'

/**
 * One list of messages per top-level field, as Django REST framework reports them; errors
 * about the body as a whole go under `non_field_errors`, unknown fields each under their name.
 */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  // No prototype: a client's field may be called `valueOf` or `__proto__` (found by the
  // property test in test/api/errors.test.ts).
  const fields: Record<string, string[]> = Object.create(null)
  const add = (key: string, message: string) => {
    const list = fields[key] ?? []
    if (!list.includes(message)) list.push(message)
    fields[key] = list
  }
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(key, UNKNOWN_FIELD)
      continue
    }
    const [head] = issue.path
    add(head === undefined ? 'non_field_errors' : String(head), issue.message)
  }
  return fields
}

/** Parses with a schema or throws the ValidationError the admin renderer shows as a 400. */
export function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input)
  if (parsed.success) return parsed.data
  throw new ValidationError(fieldErrors(parsed.error))
}

/**
 * The hook every admin route's validators call: an invalid body or query is a 400 naming each
 * field; an invalid path parameter names nothing that exists, so it is a 404.
 */
// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route, whatever its input type
export const adminValidationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (result.success) return
  if (result.target === 'param') throw ScimError.notFound()
  throw new ValidationError(fieldErrors(result.error))
}
