/**
 * A fuzz request as data (saved as a regression case and replayed by a test), how its large
 * bodies are rebuilt from a small recipe, and how it is sent over HTTP or a raw socket.
 */
import { type Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'

/**
 * A body: text as is, bytes as base64 (not UTF-8 on purpose), or a recipe that builds a
 * large body (kept small in the corpus and in reports).
 */
export type FuzzBody =
  | { text: string }
  | { base64: string }
  | { recipe: Recipe; gzip?: boolean }
  | { textGzip: string }

export type Recipe =
  /** `open` × depth, then `core`, then `close` × depth, as the value of a User attribute. */
  | { kind: 'nested'; depth: number; open: string; close: string; core: string; wrap: boolean }
  /** A User with `n` emails (`distinct` values, or one value repeated). */
  | { kind: 'emails'; n: number; distinct: boolean }
  /** A Group with `n` members whose values are `{{user}}` or made-up ids. */
  | { kind: 'members'; n: number; distinct: boolean }
  /** A PatchOp with `n` operations `op` on `path`, each with a value made from its index. */
  | { kind: 'patch-ops'; n: number; op: string; path: string; value: 'string' | 'email' | 'member' }
  /** A User whose userName is `bytes` long. */
  | { kind: 'long-string'; bytes: number }
  /** A User with `n` extra attributes. */
  | { kind: 'many-keys'; n: number }
  /** A filter nested `depth` deep in a SearchRequest. */
  | { kind: 'search-nested'; depth: number; open: string; close: string }
  /** `bytes` of padding in a JSON object (over the body limit for 413). */
  | { kind: 'padding'; bytes: number }

export interface FuzzRequest {
  /** Which generator made it, for the report. */
  kind: string
  method: string
  /**
   * Path and query from the server's root; placeholders `{{slug}}`, `{{user}}`, `{{group}}`,
   * `{{fresh}}` and `{{freshGroup}}` (a user or group the run created) are replaced before
   * sending.
   */
  path: string
  /** Header values may hold `{{key}}` (the source's token) or `{{adminKey}}`. */
  headers: Record<string, string>
  body?: FuzzBody
  /** 'raw': the request line and headers are written to a socket exactly as given. */
  transport?: 'http' | 'raw'
}

export interface Placeholders {
  slug: string
  key: string
  adminKey: string
  user: string
  group: string
  fresh: string
  freshGroup: string
}

export function fill(text: string, p: Placeholders): string {
  return text.replace(
    /\{\{(slug|key|adminKey|user|group|freshGroup|fresh)\}\}/g,
    (_, name: string) => {
      return p[name as keyof Placeholders]
    },
  )
}

function madeUpId(i: number): string {
  const hex = i.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${hex.slice(-12)}`
}

/** Builds a recipe's JSON text (placeholders are filled afterwards, like any body). */
export function expandRecipe(recipe: Recipe): string {
  const USER = '"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]'
  switch (recipe.kind) {
    case 'nested': {
      const inner = `${recipe.open.repeat(recipe.depth)}${recipe.core}${recipe.close.repeat(recipe.depth)}`
      return recipe.wrap ? `{${USER},"userName":"nested","x":${inner}}` : inner
    }
    case 'emails': {
      const emails = Array.from(
        { length: recipe.n },
        (_, i) => `{"value":"u${recipe.distinct ? i : 0}@example.com","type":"work"}`,
      )
      return `{${USER},"userName":"emails-${recipe.n}-{{fresh}}","emails":[${emails.join(',')}]}`
    }
    case 'members': {
      const members = Array.from(
        { length: recipe.n },
        (_, i) => `{"value":"${recipe.distinct && i > 0 ? madeUpId(i) : '{{user}}'}"}`,
      )
      return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"members-${recipe.n}-{{fresh}}","members":[${members.join(',')}]}`
    }
    case 'patch-ops': {
      const value = (i: number) =>
        recipe.value === 'email'
          ? `[{"value":"p${i}@example.com","type":"t${i % 7}"}]`
          : recipe.value === 'member'
            ? `[{"value":"{{user}}"}]`
            : `"v${i}@example.com"`
      const ops = Array.from(
        { length: recipe.n },
        (_, i) =>
          `{"op":${JSON.stringify(recipe.op)},"path":${JSON.stringify(recipe.path)},"value":${value(i)}}`,
      )
      return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[${ops.join(',')}]}`
    }
    case 'long-string':
      return `{${USER},"userName":"${'a'.repeat(recipe.bytes)}"}`
    case 'many-keys': {
      const keys = Array.from({ length: recipe.n }, (_, i) => `"k${i}":${i}`)
      return `{${USER},"userName":"keys-{{fresh}}",${keys.join(',')}}`
    }
    case 'search-nested':
      return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":${JSON.stringify(`${recipe.open.repeat(recipe.depth)}userName eq "x"${recipe.close.repeat(recipe.depth)}`)}}`
    case 'padding':
      return `{${USER},"userName":"pad","pad":"${'x'.repeat(recipe.bytes)}"}`
  }
}

/** The body's bytes, placeholders filled (recipes and text; never inside base64 bytes). */
export function bodyBytes(body: FuzzBody | undefined, p: Placeholders): Buffer | undefined {
  if (!body) return undefined
  if ('text' in body) return Buffer.from(fill(body.text, p), 'utf8')
  if ('base64' in body) return Buffer.from(body.base64, 'base64')
  if ('textGzip' in body) return gzipSync(Buffer.from(fill(body.textGzip, p), 'utf8'))
  const text = Buffer.from(fill(expandRecipe(body.recipe), p), 'utf8')
  return body.gzip ? gzipSync(text) : text
}

export type Outcome =
  | { kind: 'response'; status: number; ms: number; bodyStart: string; location?: string }
  | { kind: 'hang'; ms: number }
  /** The connection failed without a response (reset, closed early, refused). */
  | { kind: 'network'; ms: number; error: string }
  /** The client library refused to send it (e.g. a header value Node will not write). */
  | { kind: 'unsendable'; error: string }

const KEEP_BODY = 1024

/** Sends one request to `origin` and waits for the whole response, at most `timeoutMs`. */
export async function send(
  origin: string,
  req: FuzzRequest,
  p: Placeholders,
  timeoutMs: number,
  agent?: Agent,
): Promise<Outcome> {
  const body = bodyBytes(req.body, p)
  const path = fill(req.path, p)
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, fill(v, p)] as const),
  )
  if (req.transport === 'raw') return sendRaw(origin, req.method, path, headers, body, timeoutMs)
  const outcome = await sendHttp(origin, req.method, path, headers, body, timeoutMs, agent)
  if (outcome.kind !== 'unsendable') return outcome
  // Node's client will not write some header values or paths (control characters, lone
  // surrogates, spaces): a raw socket writes them as they are, which is what the test is for.
  const withLength = body ? { ...headers, 'Content-Length': String(body.length) } : headers
  return sendRaw(origin, req.method, path, withLength, body, timeoutMs)
}

function sendHttp(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs: number,
  agent: Agent | undefined,
): Promise<Outcome> {
  const url = new URL(origin)
  const started = performance.now()
  const elapsed = () => performance.now() - started
  return new Promise((resolve) => {
    let settled = false
    const done = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    let req: ReturnType<typeof httpRequest>
    try {
      req = httpRequest({
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: body ? { 'content-length': String(body.length), ...headers } : headers,
        ...(agent ? { agent } : {}),
      })
    } catch (error) {
      resolve({ kind: 'unsendable', error: String(error) })
      return
    }
    const timer = setTimeout(() => {
      done({ kind: 'hang', ms: elapsed() })
      req.destroy()
    }, timeoutMs)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let kept = 0
      res.on('data', (chunk: Buffer) => {
        if (kept < KEEP_BODY) {
          chunks.push(chunk)
          kept += chunk.length
        }
      })
      res.on('end', () =>
        done({
          kind: 'response',
          status: res.statusCode ?? 0,
          ms: elapsed(),
          bodyStart: Buffer.concat(chunks).toString('utf8').slice(0, KEEP_BODY),
          ...(res.headers.location ? { location: res.headers.location } : {}),
        }),
      )
      res.on('error', (error) => done({ kind: 'network', ms: elapsed(), error: String(error) }))
    })
    req.on('error', (error) => done({ kind: 'network', ms: elapsed(), error: String(error) }))
    try {
      req.end(body)
    } catch (error) {
      done({ kind: 'unsendable', error: String(error) })
    }
  })
}

/**
 * Writes the request line, headers and body to a fresh socket as given (no validation, no
 * Content-Length unless the headers say so) and reads the status of the first response.
 */
function sendRaw(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs: number,
): Promise<Outcome> {
  const url = new URL(origin)
  const started = performance.now()
  const elapsed = () => performance.now() - started
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    let received = ''
    let settled = false
    const done = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => done({ kind: 'hang', ms: elapsed() }), timeoutMs)
    socket.on('connect', () => {
      const head = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`]
      for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`)
      // Characters beyond Latin-1 are written as UTF-8 bytes, as a careless client would.
      socket.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'))
      if (body) socket.write(body)
    })
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1')
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received)
      // The first response's status line is enough: raw requests test what the server
      // answers and that it answers at all, not the body.
      if (match) {
        done({
          kind: 'response',
          status: Number(match[1]),
          ms: elapsed(),
          bodyStart: received.slice(0, KEEP_BODY),
        })
      }
    })
    socket.on('error', (error) => done({ kind: 'network', ms: elapsed(), error: String(error) }))
    socket.on('close', () =>
      done({ kind: 'network', ms: elapsed(), error: 'closed without a response' }),
    )
  })
}
