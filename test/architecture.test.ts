import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The dependency direction of the style guide (§2): cli → http → routes → services → store
 * → kysely. Routes never import kysely or store/, services never import hono, the store
 * never imports services, routes or http/, and the protocol modules in src/scim never run
 * queries. The one allowed edge into the store from src/scim is the filter compiler's use
 * of store/query/json-sql.ts (SQL fragments per dialect, never executed there) and its types.
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

function violations(
  from: (path: string) => boolean,
  forbidden: (target: string, path: string) => boolean,
): string[] {
  return files
    .filter((f) => from(f.path))
    .flatMap((f) => f.imports.filter((i) => forbidden(i, f.path)).map((i) => `${f.path} → ${i}`))
}

const isRoute = (p: string) => p.startsWith('src/http/scim/') || p.startsWith('src/http/admin/')

describe('architecture', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(40)
    expect(files.some((f) => f.imports.length > 0)).toBe(true)
  })

  it('keeps routes away from SQL', () => {
    expect(violations(isRoute, (i) => i === 'kysely' || i.startsWith('src/store/'))).toEqual([])
  })

  it('keeps services free of HTTP', () => {
    expect(
      violations(
        (p) => p.startsWith('src/services/'),
        (i) =>
          i === 'hono' ||
          i.startsWith('hono/') ||
          i.startsWith('@hono/') ||
          i.startsWith('src/http/'),
      ),
    ).toEqual([])
  })

  it('keeps the store below the services, routes and HTTP', () => {
    expect(
      violations(
        (p) => p.startsWith('src/store/'),
        (i) => i.startsWith('src/services/') || i.startsWith('src/http/'),
      ),
    ).toEqual([])
  })

  it('lets the protocol modules build SQL fragments but never reach the services or run queries', () => {
    const protocol = (p: string) => p.startsWith('src/scim/') && !isRoute(p)
    const allowed = new Set(['src/store/query/json-sql.ts', 'src/store/database.ts'])
    expect(
      violations(
        protocol,
        (i, path) =>
          i.startsWith('src/services/') ||
          i.startsWith('src/http/') ||
          (i.startsWith('src/store/') && !(path === 'src/scim/filter.ts' && allowed.has(i))),
      ),
    ).toEqual([])
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
