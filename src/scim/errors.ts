/** The one error vocabulary of scimd: RFC 7644 §3.12 errors, rendered by the SCIM and admin renderers. */

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

/** The scimType values of RFC 7644 §3.12 (Table 9). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA]
  status: string
  scimType?: ScimType
  detail: string
}

export class ScimError extends Error {
  readonly status: number
  readonly scimType: ScimType | undefined
  /** Extra response headers (e.g. WWW-Authenticate on 401). */
  readonly headers: Record<string, string>

  constructor(
    status: number,
    detail: string,
    scimType?: ScimType,
    headers: Record<string, string> = {},
  ) {
    super(detail)
    this.name = 'ScimError'
    this.status = status
    this.scimType = scimType
    this.headers = headers
  }

  get detail(): string {
    return this.message
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      detail: this.message,
    }
    if (this.scimType) body.scimType = this.scimType
    return body
  }

  static badRequest(scimType: ScimType, detail: string): ScimError {
    return new ScimError(400, detail, scimType)
  }
  static invalidSyntax(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidSyntax')
  }
  static invalidValue(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidValue')
  }
  static invalidFilter(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidFilter')
  }
  static invalidPath(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidPath')
  }
  static noTarget(detail: string): ScimError {
    return new ScimError(400, detail, 'noTarget')
  }
  static mutability(detail: string): ScimError {
    return new ScimError(400, detail, 'mutability')
  }
  static tooMany(detail: string): ScimError {
    return new ScimError(400, detail, 'tooMany')
  }
  /** RFC 7644 §3.3: a uniqueness conflict is 409 with scimType "uniqueness". */
  static uniqueness(detail: string): ScimError {
    return new ScimError(409, detail, 'uniqueness')
  }
  static notFound(detail = 'Resource not found'): ScimError {
    return new ScimError(404, detail)
  }
  /** RFC 6750 §3: a missing or invalid bearer token is 401 with a WWW-Authenticate challenge. */
  static unauthorized(detail = 'Authentication required', error?: 'invalid_token'): ScimError {
    const challenge = error ? `Bearer realm="scimd", error="${error}"` : 'Bearer realm="scimd"'
    return new ScimError(401, detail, undefined, { 'WWW-Authenticate': challenge })
  }
  static forbidden(detail: string): ScimError {
    return new ScimError(403, detail)
  }
  /** RFC 9110 §15.5.6: a 405 names the methods the resource does support in `Allow`. */
  static methodNotAllowed(method: string, allowed: readonly string[]): ScimError {
    return new ScimError(405, `Method "${method}" not allowed.`, undefined, {
      Allow: allowed.join(', '),
    })
  }
  /** RFC 7644 §3.14: If-Match did not match the current version. */
  static preconditionFailed(detail = 'Resource version does not match If-Match'): ScimError {
    return new ScimError(412, detail)
  }
  /**
   * 413, and the connection is closed after the answer: otherwise Node reads and discards the
   * rest of the body (100 MB, say) to keep the connection alive for the next request.
   */
  static payloadTooLarge(limit: number): ScimError {
    return new ScimError(413, `Request body exceeds ${limit} bytes`, undefined, {
      Connection: 'close',
    })
  }
  static unsupportedMediaType(detail: string): ScimError {
    return new ScimError(415, detail)
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`)
}
