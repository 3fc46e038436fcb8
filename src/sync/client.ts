/** The provider's SCIM client: one remote's base URL and token, timeouts, retries and dry run. */
import { Agent, type Dispatcher, getGlobalDispatcher } from 'undici'

export const SCIM_MEDIA_TYPE = 'application/scim+json'
export const USER_AGENT = 'scimd-provider/0.1'

/** What a request that went out (or would have, in dry run) was. */
export interface SentRequest {
  method: string
  url: string
  body?: unknown
}

/** A remote answer that is not a success: its status and what it said (never the token). */
export class RemoteError extends Error {
  override name = 'RemoteError'
  readonly status: number
  readonly detail: string
  readonly request: SentRequest
  constructor(status: number, detail: string, request: SentRequest) {
    super(`${request.method} ${request.url} → ${status || 'no answer'}: ${detail}`)
    this.status = status
    this.detail = detail
    this.request = request
  }
  /** Worth trying again later: throttled, unavailable, a server error or no answer at all. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

/** Thrown instead of sending a write in dry run: carries the request that was not sent. */
export class DryRunRejected extends Error {
  override name = 'DryRunRejected'
  readonly request: SentRequest
  constructor(request: SentRequest) {
    super(`dry run: ${request.method} ${request.url} not sent`)
    this.request = request
  }
}

export interface ClientOptions {
  baseUrl: string
  token: string
  verifyCertificates: boolean
  dryRun: boolean
  /** Per request, in ms. */
  timeoutMs?: number
  /** Attempts of one request when the remote is throttling, unavailable or unreachable. */
  maxAttempts?: number
  /** Longest single wait between attempts (Retry-After is capped to it), in ms. */
  maxWaitMs?: number
  /** Base of the exponential backoff, in ms. */
  backoffMs?: number
}

export interface RemoteResponse {
  status: number
  body: Record<string, unknown>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Retry-After as seconds or an HTTP date, in ms; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined
  const seconds = Number(header)
  if (header.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Full-jitter exponential backoff (AWS architecture blog), capped. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt)
}

/**
 * A SCIM client for one provider. Certificates are verified unless the provider says
 * `verify_certificates: false`, which is then the only way a self-signed one is accepted
 * (its own undici Agent; no process-wide setting changes).
 */
export class ScimClient {
  readonly #options: Required<ClientOptions>
  readonly #dispatcher: Agent | undefined
  /** The base URL split once: undici's `request(url)` parsed it into a URL on every call. */
  readonly #origin: string
  readonly #basePath: string

  constructor(options: ClientOptions) {
    this.#options = {
      timeoutMs: 30_000,
      maxAttempts: 4,
      maxWaitMs: 30_000,
      backoffMs: 250,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    }
    this.#dispatcher = options.verifyCertificates
      ? undefined
      : new Agent({ connect: { rejectUnauthorized: false } })
    const base = new URL(this.#options.baseUrl)
    this.#origin = base.origin
    this.#basePath = base.pathname.replace(/\/+$/, '')
  }

  get dryRun(): boolean {
    return this.#options.dryRun
  }

  async close(): Promise<void> {
    await this.#dispatcher?.close()
  }

  /**
   * Sends a request and returns its JSON answer ({} for none). Transient failures (429, 5xx,
   * network errors, timeouts) are retried after Retry-After or a jittered backoff, a bounded
   * number of times; then, like any other failure, they are thrown as RemoteError.
   */
  async request(
    method: string,
    path: string,
    body?: unknown,
    opts: { discardBody?: boolean } = {},
  ): Promise<RemoteResponse> {
    const url = `${this.#options.baseUrl}${path}`
    const sent: SentRequest = body === undefined ? { method, url } : { method, url, body }
    const target = `${this.#basePath}${path}`
    if (this.#options.dryRun && method !== 'GET') throw new DryRunRejected(sent)
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(sent, target, opts.discardBody === true)
      } catch (err) {
        if (!(err instanceof RemoteError) || !err.isTransient) throw err
        if (attempt >= this.#options.maxAttempts) throw err
        const wait =
          (err as RemoteError & { retryAfter?: number }).retryAfter ??
          backoffDelay(attempt, this.#options.backoffMs, this.#options.maxWaitMs)
        await sleep(Math.min(wait, this.#options.maxWaitMs))
      }
    }
  }

  /**
   * `discard`: a JSON success answer is read and dropped, never built into a string or
   * parsed (`{}` is returned). A member PATCH answers with the whole group: at 10,000 members
   * that is megabytes per request, parsed for nothing, and it was A's peak memory.
   */
  async #once(sent: SentRequest, path: string, discard: boolean): Promise<RemoteResponse> {
    // undici's request, not fetch: fetch's web streams cost about a millisecond of CPU per
    // request, which made the client the provider's bottleneck (docs/benchmark.md, Provider).
    let response: Dispatcher.ResponseData
    let text: string
    try {
      // The dispatcher's own request (the global one unless certificates are not verified):
      // keep-alive connections are shared as with `request(url)`, without its URL parsing.
      response = await (this.#dispatcher ?? getGlobalDispatcher()).request({
        origin: this.#origin,
        path,
        method: sent.method as Dispatcher.HttpMethod,
        headers: {
          accept: SCIM_MEDIA_TYPE,
          authorization: `Bearer ${this.#options.token}`,
          'user-agent': USER_AGENT,
          ...(sent.body === undefined ? {} : { 'content-type': SCIM_MEDIA_TYPE }),
        },
        ...(sent.body === undefined ? {} : { body: JSON.stringify(sent.body) }),
        // No answer, or an answer that stops, within the timeout: given up (then retried).
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
      })
      const type = String(response.headers['content-type'] ?? '')
      const ok = response.statusCode >= 200 && response.statusCode < 300
      if (discard && ok && (response.statusCode === 204 || /json/i.test(type))) {
        for await (const _chunk of response.body) {
          // Read to the end (the connection is kept alive), kept nowhere.
        }
        return { status: response.statusCode, body: {} }
      }
      text = await response.body.text()
    } catch (err) {
      // No answer: refused, reset, a TLS failure or the timeout. The error names the host
      // and the reason, never the request's headers.
      const e = err as { code?: string; message?: string; cause?: { code?: string } }
      const detail = e.code ?? e.cause?.code ?? e.message ?? String(err)
      throw new RemoteError(0, String(detail), sent)
    }
    let parsed: unknown
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
    }
    const status = response.statusCode
    if (status >= 200 && status < 300) {
      if (text.trim() !== '' && (parsed === undefined || typeof parsed !== 'object')) {
        // A success with a body that is not JSON (a proxy's page): nothing can be read from it.
        const error = new RemoteError(502, 'the remote answered with a body that is not JSON', sent)
        throw error
      }
      return { status, body: (parsed ?? {}) as Record<string, unknown> }
    }
    const detail =
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as { detail?: unknown }).detail === 'string'
        ? (parsed as { detail: string }).detail
        : text.slice(0, 200).replace(/\s+/g, ' ')
    const error = new RemoteError(status, detail, sent) as RemoteError & {
      retryAfter?: number
    }
    const header = response.headers['retry-after']
    const after = retryAfterMs(Array.isArray(header) ? (header[0] ?? null) : (header ?? null))
    if (after !== undefined) error.retryAfter = after
    throw error
  }
}
