import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, parseDatabaseUrl } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'

describe('config', () => {
  it('defaults to SQLite in ./data on port 9000', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({ host: '0.0.0.0', port: 9000, dataDir: './data' })
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/scimd.db' })
  })

  it('reads the three database URL forms', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' })
    expect(parseDatabaseUrl('sqlite:/var/lib/scimd/db.sqlite')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/scimd/db.sqlite',
    })
    expect(parseDatabaseUrl('postgres://u@h/db')).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
    })
    expect(() => parseDatabaseUrl('mysql://x')).toThrow(ConfigError)
  })

  it('requires SCIMD_SECRET_KEY with PostgreSQL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db' })).toThrow(/SCIMD_SECRET_KEY/)
  })

  it('maps no part of a SQLite file unless told to, and at most what SQLite can', () => {
    expect(loadConfig({}).sqliteMmapMb).toBe(0)
    expect(loadConfig({ SCIMD_SQLITE_MMAP_MB: '256' }).sqliteMmapMb).toBe(256)
    expect(loadConfig({ SCIMD_SQLITE_MMAP_MB: '2047' }).sqliteMmapMb).toBe(2047)
    for (const bad of ['-1', '2048', '1.5', 'lots']) {
      expect(() => loadConfig({ SCIMD_SQLITE_MMAP_MB: bad })).toThrow(/SCIMD_SQLITE_MMAP_MB/)
    }
  })

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', SCIMD_BOOTSTRAP_TOKEN: 'short' })
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/)
      expect((err as Error).message).toMatch(/LOG_LEVEL/)
      expect((err as Error).message).toMatch(/SCIMD_BOOTSTRAP_TOKEN/)
    }
  })
})

describe('logger', () => {
  it('writes JSON lines and never the values of secret-looking fields', () => {
    const lines: string[] = []
    const logger = createLogger('info', (l) => lines.push(l))
    logger.debug('hidden')
    logger.info('hello', {
      authorization: 'Bearer abc',
      token: 'abc',
      password: 'pw',
      slug: 'entra',
    })
    expect(lines).toHaveLength(1)
    const entry = JSON.parse(lines[0] as string)
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'hello',
      slug: 'entra',
      authorization: '[redacted]',
      token: '[redacted]',
      password: '[redacted]',
    })
    expect(lines[0]).not.toContain('abc')
  })

  it('says which levels it writes', () => {
    const logger = createLogger('info', () => undefined)
    expect(logger.enabled('debug')).toBe(false)
    expect(logger.enabled('info')).toBe(true)
    expect(logger.enabled('error')).toBe(true)
    expect(createLogger('silent', () => undefined).enabled('error')).toBe(false)
  })
})
