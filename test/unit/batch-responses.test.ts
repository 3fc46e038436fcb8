import { describe, expect, it } from 'vitest'
import { batchResponses } from '../../src/http/batch-responses.js'

const nextCheckPhase = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('batchResponses', () => {
  it('hands the responses finished in one turn over together, after the turn', async () => {
    const fetch = batchResponses(async (request: Request) => new Response(request.url))
    const handed: string[] = []
    const pending = ['http://a/1', 'http://a/2', 'http://a/3'].map((url) =>
      fetch(new Request(url)).then(async (r) => handed.push(await r.text())),
    )
    // Every handler has finished by now (a few microtask turns), yet none is handed over.
    for (let i = 0; i < 10; i++) await Promise.resolve()
    expect(handed).toEqual([])
    await Promise.all(pending)
    expect(handed).toEqual(['http://a/1', 'http://a/2', 'http://a/3'])
  })

  it('hands over a response that finishes after a batch went out, in the next one', async () => {
    let finish: (r: Response) => void = () => {}
    const slow = new Promise<Response>((resolve) => {
      finish = resolve
    })
    const fetch = batchResponses((request: Request) =>
      request.url.endsWith('slow') ? slow : new Response('fast'),
    )
    const first = fetch(new Request('http://a/fast'))
    const second = fetch(new Request('http://a/slow'))
    expect(await (await first).text()).toBe('fast')
    await nextCheckPhase()
    finish(new Response('slow'))
    expect(await (await second).text()).toBe('slow')
  })

  it('passes a failure through', async () => {
    const fetch = batchResponses(async (): Promise<Response> => {
      throw new Error('broken')
    })
    await expect(fetch(new Request('http://a/'))).rejects.toThrow('broken')
  })
})
