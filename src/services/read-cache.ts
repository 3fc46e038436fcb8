/**
 * Results of reads kept for as long as the database is unchanged: deps.readVersion names
 * the state the read connection sees, and moves on any commit, by this process or another
 * (store/read-snapshot.ts). A value is served only under the version it was read in, so a
 * cached read returns exactly what the query would. Where the version is unknown
 * (PostgreSQL, in-memory SQLite) nothing is kept.
 */
import type { Deps } from './deps.js'

export class ReadCache<V> {
  readonly #maxEntries: number
  readonly #byReader = new WeakMap<Deps['reader'], { version: number; entries: Map<string, V> }>()

  /** Past `maxEntries` the cache starts over. */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** The value for `key`: kept, or loaded now (and kept unless undefined). */
  async get(deps: Deps, key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const version = deps.readVersion()
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
    if (loaded !== undefined && deps.readVersion() === version) {
      if (cache.entries.size >= this.#maxEntries) cache.entries.clear()
      cache.entries.set(key, loaded)
    }
    return loaded
  }
}
