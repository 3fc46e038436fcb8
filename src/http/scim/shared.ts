/** Helpers the SCIM resource routes share: projection options, list params, ETags. */
import type { Context } from 'hono'
import { tryDecode } from 'hono/utils/url'
import { ScimError } from '../../scim/errors.js'
import { type ListParams, parseListParams } from '../../scim/list.js'
import { parseAttributeList, project } from '../../scim/projection.js'
import type { ScimResource } from '../../scim/resources.js'
import { type ResourceSchema, SEARCH_REQUEST_URN } from '../../scim/schema/resource-types.js'
import type { AppEnv, QueryParams } from '../env.js'

export interface Projection {
  attributes?: string[]
  excludedAttributes?: string[]
}

function projectionFrom(
  resource: ResourceSchema,
  attributes: string | undefined,
  excluded: string | undefined,
): Projection {
  const a = parseAttributeList(resource, attributes)
  const e = parseAttributeList(resource, excluded)
  return { ...(a ? { attributes: a } : {}), ...(e ? { excludedAttributes: e } : {}) }
}

const NO_PARAMS: QueryParams = () => undefined

/** A query string's part as `application/x-www-form-urlencoded` reads it: `+` is a space. */
function decodeQueryPart(part: string): string {
  const spaced = part.includes('+') ? part.replaceAll('+', ' ') : part
  return spaced.includes('%') ? tryDecode(spaced, decodeURIComponent) : spaced
}

/**
 * The query string of `url`, read by parameter name ignoring case (Entra's inbound collection
 * sends `startindex`); the first of repeated names wins. One pass over the query string,
 * decoding as Hono's `c.req.query()` does (a malformed escape is kept as sent): going through
 * that, then a case-folding copy, was a twentieth of an existence check's time (cpu-prof).
 */
export function queryStringParams(url: string): QueryParams {
  const hash = url.indexOf('#')
  const query = url.indexOf('?')
  if (query === -1 || (hash !== -1 && hash < query)) return NO_PARAMS
  const end = hash === -1 ? url.length : hash
  const params = new Map<string, string>()
  let start = query + 1
  while (start <= end) {
    let next = url.indexOf('&', start)
    if (next === -1 || next > end) next = end
    const eq = url.indexOf('=', start)
    const nameEnd = eq === -1 || eq > next ? next : eq
    const name = decodeQueryPart(url.slice(start, nameEnd)).toLowerCase()
    if (name !== '' && !params.has(name)) {
      params.set(name, nameEnd === next ? '' : decodeQueryPart(url.slice(nameEnd + 1, next)))
    }
    start = next + 1
  }
  return params.size === 0 ? NO_PARAMS : (name) => params.get(name.toLowerCase())
}

/** The query string's parameters, read case-insensitively; parsed once per request. */
function queryParams(c: Context<AppEnv>): QueryParams {
  // Most reads have no query string at all: nothing to parse, nothing to keep.
  if (!c.req.url.includes('?')) return NO_PARAMS
  let get = c.get('queryParams')
  if (!get) {
    get = queryStringParams(c.req.url)
    c.set('queryParams', get)
  }
  return get
}

/** `attributes` / `excludedAttributes` of the query string (RFC 7644 §3.9). */
export function queryProjection(c: Context<AppEnv>, resource: ResourceSchema): Projection {
  const get = queryParams(c)
  return projectionFrom(resource, get('attributes'), get('excludedAttributes'))
}

/** Whether the client named attributes to return, which makes a group PATCH answer 200. */
export function asksForAttributes(projection: Projection): boolean {
  return projection.attributes !== undefined || projection.excludedAttributes !== undefined
}

/**
 * A resource as the response's JSON text. Stored documents are kept in the form the default
 * projection returns (no `returned: never` attributes, no empty values: test/unit/
 * stored-form.test.ts), so without `attributes` or `excludedAttributes` there is no
 * projection pass and the text is made directly (`json`, which can splice stored text).
 */
export function renderResource(
  resource: ResourceSchema,
  projection: Projection,
  wire: () => ScimResource,
  json: () => string,
): string {
  return asksForAttributes(projection)
    ? JSON.stringify(project(resource, wire(), projection))
    : json()
}

export function queryListParams(c: Context<AppEnv>): ListParams {
  const get = queryParams(c)
  const parsed = parseListParams(get, c.get('deps').config.maxResults)
  if (!parsed.ok) throw parsed.error
  return parsed.value
}

/** A SearchRequest body (RFC 7644 §3.4.3) as list parameters and projection. */
export function searchRequest(
  body: unknown,
  resource: ResourceSchema,
  maxResults: number,
): { params: ListParams; projection: Projection } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw ScimError.invalidSyntax('A SearchRequest must be a JSON object')
  }
  const fields = new Map<string, unknown>()
  for (const [k, v] of Object.entries(body)) fields.set(k.toLowerCase(), v)
  // RFC 7644 §3.4.3: on the root and on /Users/.search, /Groups/.search alike.
  const schemas = fields.get('schemas')
  const urn = SEARCH_REQUEST_URN.toLowerCase()
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === urn)
  ) {
    throw ScimError.invalidSyntax(`A search request must have schemas ["${SEARCH_REQUEST_URN}"]`)
  }
  const list = (name: string): string | undefined => {
    const v = fields.get(name.toLowerCase())
    if (v === undefined || v === null) return undefined
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',')
    if (typeof v === 'string') return v
    throw ScimError.invalidSyntax(`'${name}' must be an array of strings`)
  }
  const get = (name: string): string | number | undefined => {
    const v = fields.get(name.toLowerCase())
    if (v === undefined || v === null) return undefined
    if (typeof v === 'string' || typeof v === 'number') return v
    // `attributes` / `excludedAttributes` are arrays of strings (RFC 7644 §3.4.3).
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',')
    throw ScimError.invalidSyntax(`'${name}' must be a string or number`)
  }
  const parsed = parseListParams(get, maxResults)
  if (!parsed.ok) throw parsed.error
  return {
    params: parsed.value,
    projection: projectionFrom(resource, list('attributes'), list('excludedAttributes')),
  }
}

/** RFC 7644 §3.14: If-None-Match on a GET answers 304 when the version is unchanged. */
export function notModified(c: Context<AppEnv>, tag: string): boolean {
  const header = c.req.header('if-none-match')
  if (!header) return false
  // Weak comparison (RFC 7232 §3.2): `"1"` and `W/"1"` name the same version.
  const wanted = opaqueTag(tag)
  return header.split(',').some((raw) => {
    const t = raw.trim()
    return t === '*' || opaqueTag(t) === wanted
  })
}

const opaqueTag = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)
