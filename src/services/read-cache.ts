/**
 * Results of reads kept for as long as what they read is unchanged. A version function names
 * that state: deps.readVersion the whole database as the read connection sees it (moved by
 * any commit, by this process or another: store/sqlite/read-snapshot.ts), deps.credentialsVersion
 * only sources and tokens (on PostgreSQL, from other instances' notifications:
 * store/postgres/credential-watch.ts). A value is served only under the version it was read in, so a
 * cached read returns exactly what the query would. Where the version is unknown (the whole
 * database on PostgreSQL, in-memory SQLite) nothing is kept.
 */
import type { Deps } from './deps.js'

export class ReadCache<V> {
  readonly #maxEntries: number
  readonly #versionOf: (deps: Deps) => number | undefined
  readonly #byReader = new WeakMap<Deps['reader'], { version: number; entries: Map<string, V> }>()

  /** Past `maxEntries` the cache starts over. */
  constructor(maxEntries: number, versionOf: (deps: Deps) => number | undefined) {
    this.#maxEntries = maxEntries
    this.#versionOf = versionOf
  }

  /** The value for `key`: kept, or loaded now (and kept unless undefined). */
  async get(deps: Deps, key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const version = this.#versionOf(deps)
    if (version === undefined) return load()
    let cache = this.#byReader.get(deps.reader)
    if (cache?.version !== version) {
      cache = { version, entries: new Map() }
      this.#byReader.set(deps.reader, cache)
    }
    const kept = cache.entries.get(key)
    if (kept !== undefined) return kept
    const loaded = await load()
    // Kept only if it was read in the version the cache stands for.
    if (loaded !== undefined && this.#versionOf(deps) === version) {
      if (cache.entries.size >= this.#maxEntries) cache.entries.clear()
      cache.entries.set(key, loaded)
    }
    return loaded
  }
}
