/**
 * What `scimd serve` does with its HTTP server's 'error' events (src/http/server.ts): fatal
 * before it listens (the port), a throttled warning after (a connection not accepted).
 */
import { connect, createServer, type Server } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { watchServerErrors } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'

function watched(server: Server) {
  const lines: Array<Record<string, unknown>> = []
  const fatal: NodeJS.ErrnoException[] = []
  const logger = createLogger('info', (line) => lines.push(JSON.parse(line)))
  watchServerErrors(server, logger, (error) => fatal.push(error))
  return { lines, fatal }
}

const listening = (server: Server, port = 0) =>
  new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))

function acceptError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, syscall: 'accept' })
}

describe('the server error watch', () => {
  it('hands an error before listening, a taken port, to the caller', async () => {
    const taken = createServer()
    await listening(taken)
    onTestFinished(() => void taken.close())
    const server = createServer()
    const { lines, fatal } = watched(server)
    const failed = new Promise((resolve) => server.once('error', resolve))
    server.listen((taken.address() as { port: number }).port, '127.0.0.1')
    await failed
    expect(fatal.map((e) => e.code)).toEqual(['EADDRINUSE'])
    expect(lines).toEqual([])
  })

  it('keeps serving after a connection it could not accept, and logs one line a minute', async () => {
    const server = createServer((socket) => socket.end('hello'))
    const { lines, fatal } = watched(server)
    await listening(server)
    onTestFinished(() => void server.close())
    // What Node emits when libuv reports a failed accept.
    server.emit('error', acceptError('ENOBUFS'))
    server.emit('error', acceptError('ENOBUFS'))
    server.emit('error', acceptError('ENOMEM'))
    expect(fatal).toEqual([])
    expect(lines).toMatchObject([
      { level: 'warn', msg: 'cannot accept a connection', code: 'ENOBUFS', count: 1 },
    ])
    expect(lines).toHaveLength(1)
    // Still listening, still answering.
    const { port } = server.address() as { port: number }
    const reply = await new Promise<string>((resolve, reject) => {
      let text = ''
      const socket = connect(port, '127.0.0.1')
      socket.setEncoding('utf8').on('data', (d: string) => (text += d))
      socket.on('end', () => resolve(text)).on('error', reject)
    })
    expect(reply).toBe('hello')
  })
})
