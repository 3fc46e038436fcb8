/** Turns any thrown error into a response: SCIM error bodies on SCIM paths, authentik shapes on /api. */

import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { FieldErrors } from '../core/field-errors.js'
import { ScimError } from '../scim/errors.js'
import type { AppEnv } from './env.js'
import { scimMediaType, scimResponse } from './scim-response.js'

/** An admin API validation error: authentik's `{field: [messages], non_field_errors, code}`. */
export class ValidationError extends Error {
  readonly fields: Record<string, string[]>
  constructor(fields: Record<string, string[]>) {
    super('Validation failed')
    this.name = 'ValidationError'
    this.fields = fields
  }
}

function asScimError(err: unknown): ScimError | undefined {
  if (err instanceof ScimError) return err
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ScimError(413, 'Request body is too large')
    return new ScimError(err.status, err.message || 'Request failed')
  }
  return undefined
}

export function renderScimError(c: Context<AppEnv>, err: unknown): Response {
  const scim = asScimError(err) ?? internalError(c, err)
  c.set('scimType', scim.scimType)
  return scimResponse(c, JSON.stringify(scim.toBody()), scim.status as ContentfulStatusCode, {
    'Content-Type': scimMediaType(c),
    ...scim.headers,
  })
}

const ADMIN_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'not_authenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'throttled',
  500: 'error',
}

export function renderAdminError(c: Context<AppEnv>, err: unknown): Response {
  if (err instanceof ValidationError || err instanceof FieldErrors) {
    return c.json({ ...err.fields, code: 'invalid' }, 400)
  }
  const scim = asScimError(err) ?? internalError(c, err)
  c.set('scimType', scim.scimType)
  const code = ADMIN_CODES[scim.status] ?? 'error'
  if (scim.status === 400 || scim.status === 409) {
    return c.json({ non_field_errors: [scim.detail], code }, scim.status as ContentfulStatusCode)
  }
  const detail =
    scim.status === 404
      ? 'Not found.'
      : scim.status === 415 && err instanceof HTTPException
        ? `Unsupported media type "${c.req.header('content-type') ?? ''}" in request: send JSON (Content-Type: application/json).`
        : scim.detail
  return c.json({ detail, code }, scim.status as ContentfulStatusCode, scim.headers)
}

/** Logs an unexpected error with the request id and hides its details from the client. */
function internalError(c: Context<AppEnv>, err: unknown): ScimError {
  c.get('deps')?.logger.error('unhandled error', {
    requestId: c.get('requestId'),
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  })
  return new ScimError(500, 'Internal server error')
}
