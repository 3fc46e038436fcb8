/**
 * On PostgreSQL, a number naming the state of the credentials (sources and their tokens) that
 * moves whenever any instance commits a change to them, so that each instance can keep what
 * its token lookups returned (services/read-cache.ts) and still stop accepting a revoked key
 * as soon as the change is committed anywhere.
 *
 * A trigger on `sources` and `tokens` notifies CREDENTIALS_CHANNEL, with the schema's name,
 * at every commit that changes them (migration 2026_11_24_1200); each instance LISTENs on a
 * connection of its own, in the schema its pool uses.
 * The number is known only while that connection is proven to hear: PROBE_EVERY_MS after
 * each probe it heard, the instance sends another through the pool, and if that is not heard
 * within PROBE_TIMEOUT_MS of being sent (a connection that died without a word, a pooler that
 * does not pass notifications, a probe stuck on a dead pooled connection) the number becomes
 * unknown and callers keep nothing until a new connection hears again. version() checks the
 * age of the last probe heard itself, so however timers and queries stall, nothing is served
 * from the cache more than PROBE_EVERY_MS + PROBE_TIMEOUT_MS after the instance last proved
 * it hears.
 * PostgreSQL delivers notifications in commit order, so hearing a probe means having heard
 * every change committed before it.
 */
import type pg from 'pg'

export const CREDENTIALS_CHANNEL = 'scimd_credentials'

/**
 * A probe ($2 on channel $1), sent only while both triggers are in place and enabled in the
 * schema of the connection: without them changes go untold, so nothing may be kept (a
 * trigger dropped or disabled by hand, a PostgreSQL-compatible engine without triggers).
 */
export const PROBE_SQL = `select pg_notify($1, $2) where (
    select count(*) from pg_trigger
    where tgenabled in ('O', 'A') and (tgrelid, tgname) in (
      (to_regclass('sources'), 'sources_notify_credentials'),
      (to_regclass('tokens'), 'tokens_notify_credentials'))
  ) = 2`
const PROBE_PREFIX = 'probe:'
const PROBE_EVERY_MS = 5_000
const PROBE_TIMEOUT_MS = 2_000
const MAX_RETRY_MS = 30_000

export interface CredentialWatchOptions {
  /** A new client for the listening connection (not from the pool), in the pool's schema. */
  client(): pg.Client
  /** Sends a probe (PROBE_SQL) through another connection. */
  notify(payload: string): Promise<unknown>
  /** Told when notifications stop being heard, and when they are heard again. */
  onChange?(hearing: boolean, error?: Error): void
  /** PROBE_EVERY_MS and PROBE_TIMEOUT_MS, unless given (tests). */
  probeEveryMs?: number
  probeTimeoutMs?: number
}

export class CredentialWatch {
  readonly #options: CredentialWatchOptions
  readonly #probeEveryMs: number
  readonly #probeTimeoutMs: number
  /** The age past which the last probe heard proves nothing. */
  readonly #staleAfterMs: number
  #client: pg.Client | undefined
  /** The schema whose changes count, as the listening connection resolves it. */
  #schema: string | undefined
  #hearing = false
  /** When the last probe was heard (Date.now()). */
  #lastHeard = 0
  /** Whether onChange was told of the current spell of not hearing. */
  #toldDeaf = false
  #version = 0
  #closed = false
  #failures = 0
  #probe: string | undefined
  #probeCount = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: CredentialWatchOptions) {
    this.#options = options
    this.#probeEveryMs = options.probeEveryMs ?? PROBE_EVERY_MS
    this.#probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS
    this.#staleAfterMs = this.#probeEveryMs + this.#probeTimeoutMs
    void this.#listen()
  }

  /** Unknown (undefined) while notifications are not known to be heard. */
  version(): number | undefined {
    return this.#hearing && Date.now() - this.#lastHeard <= this.#staleAfterMs
      ? this.#version
      : undefined
  }

  /**
   * Moves the number now, for a change this process just committed: its own notification
   * comes back a moment later, and until then its own reads must not be answered from what
   * was kept before.
   */
  changed(): void {
    this.#version++
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#setTimer(undefined)
    await this.#drop()
  }

  async #listen(): Promise<void> {
    const client = this.#options.client()
    this.#client = client
    client.on('notification', (message) => {
      if (client === this.#client) this.#heard(message.payload ?? '')
    })
    client.on('error', (err) => this.#lost(client, err))
    client.on('end', () => this.#lost(client, new Error('connection ended')))
    try {
      await client.connect()
      const { rows } = await client.query<{ schema: string }>('select current_schema() as schema')
      this.#schema = rows[0]?.schema
      // Without one, no change would be recognised as this deployment's.
      if (!this.#schema) throw new Error('the listening connection has no current schema')
      await client.query(`listen ${CREDENTIALS_CHANNEL}`)
      await this.#sendProbe(client)
    } catch (err) {
      this.#lost(client, err as Error)
    }
  }

  async #sendProbe(client: pg.Client): Promise<void> {
    if (client !== this.#client) return
    const payload = `${PROBE_PREFIX}${process.pid}:${++this.#probeCount}:${Math.random()}`
    this.#probe = payload
    // From the moment it is sent: a probe stuck in the pool is not heard either.
    this.#setTimer(this.#probeTimeoutMs, () => this.#lost(client, new Error('probe not heard')))
    await this.#options.notify(payload)
  }

  #heard(payload: string): void {
    if (!payload.startsWith(PROBE_PREFIX)) {
      if (payload === this.#schema) this.#version++
      return
    }
    // Other instances' probes change nothing.
    if (payload !== this.#probe) return
    this.#probe = undefined
    this.#failures = 0
    const stale = Date.now() - this.#lastHeard > this.#staleAfterMs
    this.#lastHeard = Date.now()
    if (!this.#hearing || stale) {
      // What was kept before may have missed changes: start over.
      this.#version++
      this.#hearing = true
      this.#toldDeaf = false
      this.#options.onChange?.(true)
    }
    const client = this.#client
    this.#setTimer(this.#probeEveryMs, () => {
      if (client) this.#sendProbe(client).catch((err) => this.#lost(client, err as Error))
    })
  }

  #lost(client: pg.Client, error: Error): void {
    if (client !== this.#client) return
    // Told once: when hearing stops, or when it never started (a pooler that drops
    // notifications), not at every retry.
    if (!this.#toldDeaf) this.#options.onChange?.(false, error)
    this.#toldDeaf = true
    this.#hearing = false
    this.#probe = undefined
    void this.#drop()
    if (this.#closed) return
    const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** this.#failures++)
    this.#setTimer(delay, () => void this.#listen())
  }

  async #drop(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    if (!client) return
    client.removeAllListeners('notification')
    // An error on a connection being dropped is no news, nor is waiting long on a dead one.
    client.on('error', () => {})
    await new Promise<void>((done) => {
      setTimeout(done, 1_000).unref()
      client.end().then(done, done)
    })
  }

  #setTimer(ms: number | undefined, run?: () => void): void {
    clearTimeout(this.#timer)
    this.#timer = ms === undefined || !run ? undefined : setTimeout(run, ms)
    this.#timer?.unref()
  }
}
