/** Typed request state shared by middleware and routes (Hono's c.var). */
import type { HttpBindings } from '@hono/node-server'
import type { DirectoryUser, Source, Token } from '../core/domain.js'
import type { Deps } from '../services/deps.js'

/** A request's query parameters by name, ignoring case (http/scim/shared.ts). */
export type QueryParams = (name: string) => string | undefined

export interface AppEnv {
  /** Node's request and response when served by @hono/node-server; absent in app.request(). */
  Bindings: Partial<HttpBindings> | undefined
  Variables: {
    deps: Deps
    requestId: string
    /** The authenticated source of a SCIM request. */
    source: Source
    /** SCIM base URL of the source, e.g. https://host/source/scim/<slug>/v2. */
    baseUrl: string
    /** The query string, once a route has read it (parsed once per request). */
    queryParams: QueryParams
    /** The admin API caller. */
    adminToken: Token
    adminUser: DirectoryUser
    /** The scimType of the error a request was answered with, for its log line. */
    scimType: string | undefined
  }
}
