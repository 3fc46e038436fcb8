/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self time per function and per package.
 * Also runnable on its own: `npx tsx scripts/bench/profile.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { REPO_ROOT } from './processes.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface SelfTime {
  name: string
  ms: number
  /** Share of the busy (non-idle) time, 0–1. */
  share: number
}

export interface ProfileSummary {
  busyMs: number
  idleMs: number
  functions: SelfTime[]
  packages: SelfTime[]
}

const IDLE = '(idle)'

function where(url: string): string {
  if (url === '') return ''
  const path = url.replace(/^file:\/\//, '')
  return path.startsWith('/') ? relative(REPO_ROOT, path) : path
}

/** node_modules/<pkg> (scoped too), scimd's own code, node's internals or V8's pseudo-frames. */
function packageOf(node: ProfileNode): string {
  const url = node.callFrame.url
  if (url === '')
    return node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native)'
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (match) return match[1] as string
  if (url.startsWith('node:')) return 'node: (core)'
  return 'scimd'
}

function ranked(totals: Map<string, number>, busyMs: number, top: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }))
}

export function summariseProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const functions = new Map<string, number>()
  const packages = new Map<string, number>()
  let idleMs = 0
  let busyMs = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (!node) continue
    const ms = us / 1000
    const frame = node.callFrame
    if (frame.functionName === IDLE) {
      idleMs += ms
      continue
    }
    busyMs += ms
    const loc = where(frame.url)
    const name = `${frame.functionName || '(anonymous)'}${loc ? ` ${loc}:${frame.lineNumber + 1}` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + ms)
    const pkg = packageOf(node)
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms)
  }
  return {
    busyMs,
    idleMs,
    functions: ranked(functions, busyMs, top),
    packages: ranked(packages, busyMs, top),
  }
}

export function formatProfile(summary: ProfileSummary): string {
  const row = (s: SelfTime) =>
    `${s.ms.toFixed(0).padStart(9)} ms ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.name}`
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    'self time by package',
    ...summary.packages.map(row),
    '',
    'self time by function',
    ...summary.functions.map(row),
  ].join('\n')
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [file, top] = process.argv.slice(2)
  if (!file) {
    process.stderr.write('usage: npx tsx scripts/bench/profile.ts <file.cpuprofile> [top]\n')
    process.exit(2)
  }
  process.stdout.write(`${formatProfile(summariseProfile(file, Number(top ?? 25)))}\n`)
}
