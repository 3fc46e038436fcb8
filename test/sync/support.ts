/** Helpers for the provider tests: a provider row pointing at a target, and a worker for it. */
import type { CompatibilityMode } from '../../src/store/providers.js'
import { insertProvider, updateProvider } from '../../src/store/providers.js'
import { SyncWorker } from '../../src/sync/worker.js'
import type { TestApp } from '../support/app.js'

export const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

export async function addProvider(
  t: TestApp,
  target: { url: string; token: string },
  opts: {
    mode?: CompatibilityMode
    dryRun?: boolean
    filterGroup?: string | null
    excludeServiceAccounts?: boolean
    verifyCertificates?: boolean
  } = {},
): Promise<number> {
  return insertProvider(t.runtime.deps.db, {
    name: `to ${target.url}`,
    url: target.url,
    tokenSealed: await t.runtime.deps.secrets.seal(target.token),
    verifyCertificates: opts.verifyCertificates ?? true,
    compatibilityMode: opts.mode ?? 'default',
    excludeUsersServiceAccount: opts.excludeServiceAccounts ?? false,
    filterGroup: opts.filterGroup ?? null,
    dryRun: opts.dryRun ?? false,
    now: new Date().toISOString(),
  })
}

/** A worker with short timeouts and few retries, driven by hand (runOnce). */
export function worker(t: TestApp, opts: { owner?: string } = {}): SyncWorker {
  return new SyncWorker(t.runtime.deps, {
    timeoutMs: 2000,
    maxAttempts: 3,
    ...(opts.owner ? { owner: opts.owner } : {}),
  })
}

export async function requestFullSync(t: TestApp, pk: number): Promise<void> {
  await updateProvider(t.runtime.deps.db, pk, {
    full_sync_requested_at: new Date().toISOString(),
  })
}

export async function outboxCount(t: TestApp): Promise<number> {
  const row = await t.runtime.deps.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function scimJson<T = Record<string, unknown>>(res: Response): Promise<T> {
  if (res.status >= 300) throw new Error(`${res.status}: ${await res.text()}`)
  return (await res.json()) as T
}
