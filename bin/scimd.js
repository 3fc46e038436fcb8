#!/usr/bin/env node
// Runs the compiled CLI from dist/, which `npm install` builds (the `prepare` script). A
// missing or stale build is refused with what to run, rather than rebuilt here: building
// takes TypeScript (a dev dependency) and many seconds, and a server must start at once.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = join(import.meta.dirname, '..')
const entry = join(root, 'dist', 'src', 'cli.js')

if (!existsSync(entry)) {
  process.stderr.write('scimd: dist/ is missing: run `npm run build` (npm install runs it)\n')
  process.exit(1)
}

/** The newest .ts under a directory (src/ and db/ are absent from a dist-only install). */
function newestSource(dir) {
  let newest
  if (!existsSync(dir)) return newest
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const path = join(entry.parentPath ?? entry.path, entry.name)
    const mtime = statSync(path).mtimeMs
    if (!newest || mtime > newest.mtime) newest = { path, mtime }
  }
  return newest
}

const built = statSync(entry).mtimeMs
for (const dir of ['src', 'db']) {
  const newest = newestSource(join(root, dir))
  if (newest && newest.mtime > built) {
    process.stderr.write(
      `scimd: dist/ is older than ${newest.path.slice(root.length + 1)}: run \`npm run build\`\n`,
    )
    process.exit(1)
  }
}

await import(pathToFileURL(entry).href)
