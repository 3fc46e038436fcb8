/**
 * A start with a secret that does not open the database's sealed tokens is refused, naming
 * the expected secret by its fingerprint (never the secret), instead of generating a new
 * secret and answering 401 to everyone.
 * @see issue 24
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { createSecrets } from '../../src/secrets.js'
import { createScratchSchema, isPostgres } from '../support/pg.js'

const SECRET_A = 'secret-a-0123456789abcdef0123456789abcdef'
const SECRET_B = 'secret-b-0123456789abcdef0123456789abcdef'
const BOOTSTRAP = 'bootstrap-token-0123456789abcdef'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-secret-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(isPostgres)('the server secret on SQLite', () => {
  const start = (env: Record<string, string>) =>
    startRuntime(
      loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}`, LOG_LEVEL: 'silent', ...env }),
      { logger: createLogger('silent') },
    )

  it('refuses another secret, naming the expected one by fingerprint', async () => {
    await (await start({ SCIMD_SECRET_KEY: SECRET_A, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })).close()
    const expected = createSecrets(SECRET_A).fingerprint
    const error = await start({ SCIMD_SECRET_KEY: SECRET_B }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toContain(`fingerprint is ${expected}`)
    expect((error as Error).message).toContain(createSecrets(SECRET_B).fingerprint)
    expect((error as Error).message).not.toContain(SECRET_A)
    expect((error as Error).message).not.toContain(SECRET_B)
    // The right secret still opens it.
    await (await start({ SCIMD_SECRET_KEY: SECRET_A })).close()
  })

  it('does not generate a new secret.key for a database sealed with another secret', async () => {
    // After an import with SCIMD_SECRET_KEY, a start without it.
    await (await start({ SCIMD_SECRET_KEY: SECRET_A, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })).close()
    const error = await start({}).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/secret\.key is missing and SCIMD_SECRET_KEY is unset/)
    expect((error as Error).message).toContain(createSecrets(SECRET_A).fingerprint)
    expect(existsSync(join(dir, 'secret.key'))).toBe(false)
  })

  it('checks a database from before the fingerprint by opening a sealed key', async () => {
    const first = await start({ SCIMD_SECRET_KEY: SECRET_A, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })
    await first.deps.db.deleteFrom('server_state').execute()
    await first.close()
    const error = await start({ SCIMD_SECRET_KEY: SECRET_B }).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/does not open this database's tokens/)
    const again = await start({ SCIMD_SECRET_KEY: SECRET_A })
    const recorded = await again.deps.db.selectFrom('server_state').selectAll().execute()
    expect(recorded).toMatchObject([
      { name: 'secret_fingerprint', value: createSecrets(SECRET_A).fingerprint },
    ])
    await again.close()
  })

  it('lets any secret start a database that holds no sealed key yet', async () => {
    await (await start({ SCIMD_SECRET_KEY: SECRET_A })).close()
    await (await start({ SCIMD_SECRET_KEY: SECRET_B })).close()
  })
})

describe.skipIf(!isPostgres)('the server secret on PostgreSQL', () => {
  it('refuses another secret, naming the expected one by fingerprint', async () => {
    const schema = await createScratchSchema()
    try {
      const start = (secret: string) =>
        startRuntime(
          loadConfig({
            DATABASE_URL: process.env.DATABASE_URL as string,
            SCIMD_SECRET_KEY: secret,
            SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP,
            LOG_LEVEL: 'silent',
          }),
          { logger: createLogger('silent'), searchPath: schema.schema },
        )
      await (await start(SECRET_A)).close()
      const error = await start(SECRET_B).catch((e: Error) => e)
      expect((error as Error).message).toContain(
        `fingerprint is ${createSecrets(SECRET_A).fingerprint}`,
      )
      await (await start(SECRET_A)).close()
    } finally {
      await schema.drop()
    }
  })
})
