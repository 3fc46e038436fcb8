/**
 * Node's server limits as scimd sets them (src/http/server.ts): a 413 closes the connection
 * instead of reading the rest of a huge body, connections are capped, and a client that
 * trickles its headers is disconnected. Over real sockets. @see issue 29
 */
import { connect, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { listen } from '../../src/http/server.js'
import { createTestApp, type TestApp } from '../support/app.js'

async function served(t: TestApp): Promise<number> {
  const config = t.runtime.deps.config
  const server = await new Promise<ReturnType<typeof listen>>((resolve) => {
    const s = listen(t.app.fetch, { hostname: '127.0.0.1', port: 0, limits: config.http }, () =>
      resolve(s),
    )
  })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** What the server sent until it closed the connection. */
function untilClosed(socket: Socket): Promise<string> {
  let received = ''
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1')
  })
  return new Promise((resolve) => {
    socket.once('close', () => resolve(received))
    socket.once('error', () => {})
  })
}

const HUNDRED_MB = 100 * 1024 * 1024

describe('a body over the limit', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`is answered 413 and the connection closed, not read to its end (${framing})`, async () => {
      const t = await createTestApp({ env: { SCIMD_MAX_BODY_BYTES: String(64 * 1024) } })
      const port = await served(t)
      const socket = await open(port)
      const closed = untilClosed(socket)
      let isClosed = false
      socket.once('close', () => {
        isClosed = true
      })
      socket.write(
        `POST /source/scim/${t.slug}/v2/Users HTTP/1.1\r\nHost: x\r\n` +
          `Authorization: Bearer ${t.key}\r\nContent-Type: application/scim+json\r\n` +
          (framing === 'content-length'
            ? `Content-Length: ${HUNDRED_MB}\r\n\r\n`
            : 'Transfer-Encoding: chunked\r\n\r\n'),
      )
      // Send the 100 MB in 64 KiB pieces while the server still listens.
      const piece = Buffer.alloc(64 * 1024, 'a')
      let sent = 0
      while (!isClosed && sent < HUNDRED_MB) {
        const data =
          framing === 'chunked'
            ? Buffer.concat([
                Buffer.from(`${piece.length.toString(16)}\r\n`),
                piece,
                Buffer.from('\r\n'),
              ])
            : piece
        const flushed = socket.write(data)
        sent += piece.length
        if (!flushed) {
          await new Promise<void>((resolve) => {
            socket.once('drain', resolve)
            socket.once('close', resolve)
          })
        }
      }
      const response = await closed
      expect(response).toMatch(/^HTTP\/1\.1 413 /)
      expect(response.toLowerCase()).toContain('connection: close')
      expect(sent).toBeLessThan(HUNDRED_MB / 4)
    })
  }
})

describe('connections', () => {
  it('beyond SCIMD_MAX_CONNECTIONS are closed on arrival; the others are served', async () => {
    const t = await createTestApp({ env: { SCIMD_MAX_CONNECTIONS: '3' } })
    const port = await served(t)
    const held = await Promise.all([open(port), open(port), open(port)])
    const extra = await open(port)
    // Closed by the server without a response, even though it asks for one.
    const extraClosed = untilClosed(extra)
    extra.write('GET /-/health/live/ HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await extraClosed).toBe('')
    // The held ones still work.
    const first = held[0] as Socket
    const answered = new Promise<string>((resolve) =>
      first.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
    )
    first.write('GET /-/health/live/ HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await answered).toMatch(/^HTTP\/1\.1 204 /)
    for (const s of held) s.destroy()
  })

  it('a client that trickles its headers is disconnected after SCIMD_HEADERS_TIMEOUT_MS', async () => {
    const t = await createTestApp({
      env: { SCIMD_HEADERS_TIMEOUT_MS: '500', SCIMD_REQUEST_TIMEOUT_MS: '1000' },
    })
    const port = await served(t)
    const socket = await open(port)
    const closed = untilClosed(socket)
    socket.write('GET /-/health/live/ HTTP/1.1\r\nHost: x\r\n')
    // One header line every 100 ms, never the blank line that ends them.
    const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100)
    onTestFinished(() => clearInterval(timer))
    const response = await closed
    clearInterval(timer)
    // Node answers 408 Request Timeout as it closes.
    expect(response).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('a body that never arrives is answered 408 after SCIMD_REQUEST_TIMEOUT_MS', async () => {
    // The fuzzer's one "hang" in 100,000 requests: a chunked POST whose body never comes. The
    // server waits for it only until the request deadline, then answers and closes.
    const t = await createTestApp({
      env: { SCIMD_HEADERS_TIMEOUT_MS: '500', SCIMD_REQUEST_TIMEOUT_MS: '1000' },
    })
    const port = await served(t)
    const socket = await open(port)
    const closed = untilClosed(socket)
    socket.write(
      `POST /source/scim/test/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.key}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n',
    )
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /)
  })

  it('refuses a header section over SCIMD_MAX_HEADER_BYTES with 431', async () => {
    const t = await createTestApp({ env: { SCIMD_MAX_HEADER_BYTES: '4096' } })
    const port = await served(t)
    const socket = await open(port)
    const closed = untilClosed(socket)
    socket.write(`GET /-/health/live/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)
    expect(await closed).toMatch(/^HTTP\/1\.1 431 /)
  })
})
