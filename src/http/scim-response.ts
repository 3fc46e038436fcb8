/** SCIM responses: `application/scim+json` unless the client accepts only `application/json`. */
import { isUtf8 } from 'node:buffer'
import type { Context } from 'hono'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'
import { isWellFormed } from '../core/unicode.js'
import { ScimError } from '../scim/errors.js'
import type { AppEnv } from './env.js'

const SCIM_JSON = 'application/scim+json; charset=utf-8'
const PLAIN_JSON = 'application/json; charset=utf-8'

/**
 * RFC 7644 §8.1: answer with application/scim+json; a client whose Accept lists only
 * application/json (authentik would answer it 406) gets the same body as application/json.
 * Google Workspace speaks plain application/json and fails on a 406 (client-traces.md §3).
 */
export function scimMediaType(c: Context): string {
  const accept = c.req.header('accept')?.toLowerCase()
  if (!accept || accept.includes('application/scim+json') || accept.includes('*/*'))
    return SCIM_JSON
  if (accept.includes('application/json')) return PLAIN_JSON
  return SCIM_JSON
}

export function scimJson(
  c: Context<AppEnv>,
  body: unknown,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Response {
  return scimJsonText(c, JSON.stringify(body), status, headers)
}

/** scimJson for a body already serialized. */
export function scimJsonText(
  c: Context<AppEnv>,
  json: string,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Response {
  return scimResponse(c, json, status, { 'Content-Type': scimMediaType(c), ...headers })
}

/**
 * Every response on a SCIM path, with its X-Request-Id (app.ts leaves SCIM paths to this).
 * Its headers stay a plain object, which @hono/node-server writes as it is; through
 * `c.header` or `c.body` with more than one header, Hono builds a fetch `Headers` first,
 * which node-server then converts back: 5% of an existence check's CPU time.
 */
export function scimResponse(
  c: Context<AppEnv>,
  body: string | null,
  status: StatusCode,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, { status, headers: { 'X-Request-Id': c.get('requestId'), ...headers } })
}

/**
 * Reads a JSON request body. Clients send application/scim+json, application/json
 * (Google) or no Content-Type at all (Okta's SPEC test), so the type is not enforced;
 * the size limit is (413).
 */
export async function readJsonBody(
  c: Context<AppEnv>,
  limit: { maxBytes: number; tooLarge: () => ScimError } = defaultLimit(c),
): Promise<unknown> {
  const text = await readBodyText(c, limit)
  if (text.trim() === '') throw ScimError.invalidSyntax('Request body is empty')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw ScimError.invalidSyntax('Request body is not valid JSON')
  }
  // JSON can carry NUL and lone UTF-16 surrogates only as escapes. PostgreSQL cannot store
  // either (text refuses NUL, json a lone surrogate: a 500; text would turn it into U+FFFD),
  // so both are refused on both databases alike. The walk runs only when an escape appears.
  if (/\\u0000/i.test(text) && someString(body, (s) => s.includes('\0'))) {
    throw ScimError.invalidValue('NUL characters are not allowed')
  }
  if (/\\ud[89a-f]/i.test(text) && someString(body, (s) => !isWellFormed(s))) {
    throw ScimError.invalidValue('Strings must be valid Unicode (a lone surrogate is not)')
  }
  return body
}

function defaultLimit(c: Context<AppEnv>): { maxBytes: number; tooLarge: () => ScimError } {
  const maxBytes = c.get('deps').config.maxBodyBytes
  return { maxBytes, tooLarge: () => ScimError.payloadTooLarge(maxBytes) }
}

/**
 * The body as UTF-8 text (RFC 7644 §3.8): 400 if it is not UTF-8, 415 if it is compressed,
 * 413 beyond `maxBytes` (by its Content-Length before reading, else while reading). Under @hono/node-server it is read from Node's request
 * stream itself: going through the fetch Request (which Hono's bodyLimit and c.req.text()
 * build) cost a tenth of a create's CPU time (npm run bench -- --cpu-prof).
 */
async function readBodyText(
  c: Context<AppEnv>,
  { maxBytes, tooLarge }: { maxBytes: number; tooLarge: () => ScimError },
): Promise<string> {
  const declared = Number(c.req.header('content-length'))
  if (declared > maxBytes) throw tooLarge()
  refuseContentCoding(c)
  const stream: AsyncIterable<Uint8Array> | null = c.env?.incoming ?? c.req.raw.body
  if (!stream) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  const body = Buffer.concat(chunks)
  assertUtf8(body)
  return body.toString('utf8')
}

/** A compressed body is not JSON as sent: 415 for any content coding (RFC 9110 §15.5.16). */
export function refuseContentCoding(c: Context<AppEnv>): void {
  const coding = c.req.header('content-encoding')?.trim().toLowerCase()
  if (coding && coding !== 'identity') {
    throw ScimError.unsupportedMediaType(`Content-Encoding '${coding}' is not supported`)
  }
}

/** Decoding would turn bytes that are not UTF-8 (a Latin-1 é) into U+FFFD, and store that. */
export function assertUtf8(body: Uint8Array | ArrayBuffer): void {
  if (!isUtf8(body)) throw ScimError.invalidSyntax('Request body is not valid UTF-8')
}

/** Whether any string in a JSON value, key or value, satisfies `test`. */
function someString(value: unknown, test: (s: string) => boolean): boolean {
  if (typeof value === 'string') return test(value)
  if (Array.isArray(value)) return value.some((v) => someString(v, test))
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => test(k) || someString(v, test))
  }
  return false
}
