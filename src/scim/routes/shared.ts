/** Helpers the SCIM resource routes share: projection options, list params, ETags. */
import type { Context } from 'hono'
import type { AppEnv } from '../../http/env.js'
import { ScimError } from '../errors.js'
import { caseInsensitiveParams, type ListParams, parseListParams } from '../list.js'
import { parseAttributeList } from '../projection.js'
import { type ResourceSchema, SEARCH_REQUEST_URN } from '../schemas.js'

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

/** The query string's parameters, read case-insensitively; parsed once per request. */
const queryOf = new WeakMap<Context<AppEnv>, (name: string) => string | undefined>()
function queryParams(c: Context<AppEnv>): (name: string) => string | undefined {
  let get = queryOf.get(c)
  if (!get) {
    get = caseInsensitiveParams(c.req.query())
    queryOf.set(c, get)
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
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === tag || t === '*')
}
