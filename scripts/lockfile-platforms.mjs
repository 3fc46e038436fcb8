#!/usr/bin/env node
// Adds package-lock.json entries for @biomejs/biome's optional per-platform binaries that
// the registry mirror used here does not serve (it answers 404 for them), so that they are
// missing from a lockfile written by `npm install` and `npm ci` then refuses the lockfile.
// npm skips these entries on platforms they do not match; the one for this platform is
// installed as usual. Run after any `npm install` that rewrites the lockfile:
//   node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const packages = lock.packages
const biome = packages['node_modules/@biomejs/biome']
let added = 0
for (const [name, version] of Object.entries(biome.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`
  if (packages[key]) continue
  const parts = name.split('cli-')[1].split('-')
  const [os, cpu] = parts
  packages[key] = {
    version,
    cpu: [cpu],
    dev: true,
    license: 'MIT OR Apache-2.0',
    optional: true,
    os: [os],
    ...(os === 'linux' ? { libc: [parts.at(-1) === 'musl' ? 'musl' : 'glibc'] } : {}),
    engines: { node: '>=14.21.3' },
  }
  added++
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
)
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`added ${added} lockfile entries`)
