/** A small keep-alive HTTP client for seeding and the Entra-style sync (node:http, no fetch overhead). */
import { Agent, request as httpRequest } from 'node:http'

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export class HttpError extends Error {
  readonly method: string
  readonly path: string
  readonly response: HttpResponse

  constructor(method: string, path: string, response: HttpResponse) {
    super(`${method} ${path} answered ${response.status}: ${response.text.slice(0, 500)}`)
    this.name = 'HttpError'
    this.method = method
    this.path = path
    this.response = response
  }
}

export class HttpClient {
  readonly #agent: Agent
  readonly #url: URL
  readonly #authorization: string

  constructor(origin: string, token: string, maxSockets = 32) {
    this.#url = new URL(origin)
    this.#authorization = `Bearer ${token}`
    this.#agent = new Agent({ keepAlive: true, maxSockets })
  }

  request(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          agent: this.#agent,
          hostname: this.#url.hostname,
          port: this.#url.port,
          method,
          path,
          headers: {
            Authorization: this.#authorization,
            Accept: 'application/scim+json',
            ...(payload !== undefined
              ? {
                  'Content-Type': 'application/scim+json',
                  'Content-Length': Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          )
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
  }

  /** A request that must answer `expected`; anything else throws an HttpError. */
  async expect(expected: number, method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, path, body)
    if (res.status !== expected) throw new HttpError(method, path, res)
    return res.text === '' ? undefined : JSON.parse(res.text)
  }

  close(): void {
    this.#agent.destroy()
  }
}

/**
 * Runs `work(i)` for i in [0, count) with at most `concurrency` calls in flight; the first
 * failure stops new calls and is rethrown once those in flight have settled.
 */
export async function runConcurrently(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: unknown
  const lane = async () => {
    while (failure === undefined) {
      const i = next++
      if (i >= count) return
      try {
        await work(i)
      } catch (err) {
        failure ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
  if (failure !== undefined) throw failure
}
