import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The dependency direction of the style guide (§2, docs/architecture.md), read from every
 * import under src/: cli → http → services → {sync, mapping} → store → kysely, and every
 * layer may use scim/ and core/, which import nothing of scimd but each other and no
 * database or HTTP library. There is no list of exceptions: a forbidden edge is a failure.
 */
const ROOT = join(import.meta.dirname, '..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    // .tsx too: the admin UI's pages are JSX.
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

/** Static imports and re-exports, type-only ones included, as repository-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => {
    const spec = m[1] as string
    if (!spec.startsWith('.')) return spec
    return relative(ROOT, join(file, '..', spec)).replace(/\.js$/, '.ts')
  })
}

const files = sourceFiles(join(ROOT, 'src')).map((f) => ({
  path: relative(ROOT, f),
  imports: importsOf(f),
}))

const inFolder = (folder: string) => (path: string) => path.startsWith(`src/${folder}/`)
const isScimd = (i: string) => i.startsWith('src/') || i.startsWith('db/')
const isKysely = (i: string) => i === 'kysely' || i.startsWith('kysely/')
const isHttpLibrary = (i: string) =>
  i === 'hono' || i.startsWith('hono/') || i.startsWith('@hono/') || i.startsWith('node:http')
const isDatabaseLibrary = (i: string) => isKysely(i) || i === 'better-sqlite3' || i === 'pg'

function violations(
  from: (path: string) => boolean,
  forbidden: (target: string) => boolean,
): string[] {
  return files
    .filter((f) => from(f.path))
    .flatMap((f) => f.imports.filter(forbidden).map((i) => `${f.path} → ${i}`))
}

describe('architecture', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(40)
    expect(files.some((f) => f.imports.length > 0)).toBe(true)
  })

  it('keeps core/ a leaf: it imports only core/ and no database or HTTP library', () => {
    const core = inFolder('core')
    expect(
      violations(core, (i) => (isScimd(i) && !core(i)) || isDatabaseLibrary(i) || isHttpLibrary(i)),
    ).toEqual([])
  })

  it('keeps scim/ pure protocol: it imports only scim/ and core/, no database or HTTP library', () => {
    const leaf = (i: string) => inFolder('scim')(i) || inFolder('core')(i)
    expect(
      violations(
        inFolder('scim'),
        (i) => (isScimd(i) && !leaf(i)) || isDatabaseLibrary(i) || isHttpLibrary(i),
      ),
    ).toEqual([])
  })

  it('keeps http/ off the store: it reaches the database only through services/', () => {
    expect(
      violations(inFolder('http'), (i) => inFolder('store')(i) || isDatabaseLibrary(i)),
    ).toEqual([])
  })

  it('keeps services/ free of HTTP', () => {
    expect(
      violations(inFolder('services'), (i) => inFolder('http')(i) || isHttpLibrary(i)),
    ).toEqual([])
  })

  it('keeps the store below everything that uses it', () => {
    const above = ['services', 'http', 'sync', 'mapping'].map(inFolder)
    expect(
      violations(
        inFolder('store'),
        (i) =>
          above.some((is) => is(i)) ||
          i === 'src/cli.ts' ||
          i === 'src/runtime.ts' ||
          isHttpLibrary(i),
      ),
    ).toEqual([])
  })

  it('keeps sync/ and mapping/ below HTTP', () => {
    const from = (p: string) => inFolder('sync')(p) || inFolder('mapping')(p)
    expect(violations(from, (i) => inFolder('http')(i) || isHttpLibrary(i))).toEqual([])
  })

  it('lets only the store import kysely', () => {
    expect(violations((p) => !inFolder('store')(p), isKysely)).toEqual([])
  })

  it('has no import cycle between files', () => {
    const graph = new Map(files.map((f) => [f.path, f.imports.filter((i) => i.startsWith('src/'))]))
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (path: string, trail: string[]): void => {
      if (state.get(path) === 'done') return
      if (state.get(path) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(' → '))
        return
      }
      state.set(path, 'open')
      for (const next of graph.get(path) ?? []) visit(next, [...trail, path])
      state.set(path, 'done')
    }
    for (const path of graph.keys()) visit(path, [])
    expect(cycles).toEqual([])
  })

  it('keeps migrations frozen: they import only kysely', () => {
    const migrations = sourceFiles(join(ROOT, 'db/migrations')).filter(
      (f) => !f.endsWith('index.ts'),
    )
    for (const file of migrations) {
      expect(importsOf(file), relative(ROOT, file)).toEqual(['kysely'])
    }
  })
})
