/**
 * Times every admin UI page over HTTP with a large directory: 100,000 users provisioned by a
 * source through SCIM, one provisioned group of 10,000 members and one local group of 10,000
 * members (the add-member search, edit and delete pages). Usage:
 *   npx tsx scripts/ui-timings.ts [--users 100000] [--members 10000] [--runs 15] [--db file]
 * DATABASE_URL picks the database (default: a fresh SQLite file in a temporary directory;
 * with postgres://… the data goes into a throwaway schema). `--db file` keeps the SQLite
 * database in `file` and, when it exists already, times it without seeding again. Prints, per page, the median and
 * worst of `runs` timed loads after one warm-up load, and the median CPU time they took.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { serve } from '@hono/node-server'
import { loadConfig } from '../src/config.js'
import { createApp } from '../src/http/app.js'
import { createLogger } from '../src/logger.js'
import { startRuntime } from '../src/runtime.js'
import type { Deps } from '../src/services/deps.js'
import * as groups from '../src/services/directory.js'
import * as local from '../src/services/local-directory.js'
import * as mappings from '../src/services/property-mappings.js'
import * as sources from '../src/services/sources.js'
import { createScratchSchema } from '../test/support/pg.js'
import { HttpClient } from './bench/http-client.js'
import { addMembersInBatches, createGroup, seededUserName, seedUsers } from './bench/seed.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    members: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '15' },
    db: { type: 'string' },
  },
})
const USERS = Number(values.users)
const MEMBERS = Math.min(Number(values.members), USERS)
const RUNS = Number(values.runs)
const ADMIN_KEY = 'ui-timings-admin-token-0123456789'

interface Page {
  status: number
  text: string
  setCookie: string[]
}

function get(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<Page> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          setCookie: res.headers['set-cookie'] ?? [],
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** USERS users, a group of MEMBERS of them and 20 small groups, all through SCIM. */
async function seed(deps: Deps, port: number): Promise<void> {
  const source = await sources.createSource(deps, { name: 'Entra ID', slug: 'entra' })
  const client = new HttpClient(`http://127.0.0.1:${port}`, source.key)
  const base = '/source/scim/entra/v2'
  process.stdout.write(`seeding ${USERS} users and a group of ${MEMBERS} through SCIM…\n`)
  const ids = await seedUsers(client, base, USERS, seededUserName, (n) =>
    process.stdout.write(`  ${n} users\n`),
  )
  const groupId = await createGroup(client, base, 'Everyone', [])
  await addMembersInBatches(client, base, groupId, ids.slice(0, MEMBERS))
  for (let i = 0; i < 20; i++) await createGroup(client, base, `Team ${i}`, ids.slice(i, i + 5))
}

/** A local group of MEMBERS users (made through the service the UI calls), and its id. */
async function localGroup(deps: Deps): Promise<string> {
  const name = 'Local members'
  const found = await groups.findGroupByName(deps, name)
  if (found) return found.id
  const users = await groups.listUsers(deps, {
    filter: { pathStartswith: 'goauthentik.io/sources/' },
    order: [],
    page: 1,
    pageSize: MEMBERS,
  })
  const created = await local.createGroup(deps, { name, users: users.items.map((u) => u.user.pk) })
  return created.group.id
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-ui-timings-'))
  const kept = values.db
  const reuse = kept !== undefined && existsSync(kept)
  const pgUrl = process.env.DATABASE_URL?.startsWith('postgres')
    ? process.env.DATABASE_URL
    : undefined
  const pgSchema = pgUrl ? await createScratchSchema() : undefined
  const config = loadConfig({
    DATABASE_URL: pgUrl ?? `sqlite:${kept ?? join(dir, 'scimd.db')}`,
    SCIMD_BOOTSTRAP_TOKEN: ADMIN_KEY,
    SCIMD_SECRET_KEY: 'ui-timings-secret-key-0123456789abcdef0123',
    LOG_LEVEL: 'silent',
  })
  const runtime = await startRuntime(config, {
    logger: createLogger('silent'),
    serving: true,
    ...(pgSchema ? { searchPath: pgSchema.schema } : {}),
  })
  const app = createApp(runtime.deps)
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  try {
    const started = performance.now()
    if (!reuse) await seed(runtime.deps, port)
    process.stdout.write(`seeded in ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
    const localGroupId = await localGroup(runtime.deps)
    const other = await sources.createAdminToken(runtime.deps)
    const groupId = (
      await groups.listGroups(runtime.deps, {
        filter: { name: 'Everyone' },
        order: [],
        page: 1,
        pageSize: 1,
      })
    ).items[0]?.group.id

    // Sign in as a browser would.
    const signIn = await get(
      port,
      '/if/admin/sign-in',
      {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: `http://127.0.0.1:${port}`,
      },
      'POST',
      new URLSearchParams({ token: ADMIN_KEY }).toString(),
    )
    const cookie = signIn.setCookie[0]?.split(';')[0]
    if (signIn.status !== 303 || !cookie) throw new Error(`sign-in failed: ${signIn.status}`)
    const headers = { Cookie: cookie }

    // Ids to reach the detail pages by, read from the list pages themselves.
    const userList = await get(port, '/if/admin/sources/entra/users', headers)
    const sourceUser = /href="(\/if\/admin\/source-users\/[^"]+)"/.exec(userList.text)?.[1]
    const groupList = await get(port, '/if/admin/sources/entra/groups?q=Everyone', headers)
    const sourceGroup = /href="(\/if\/admin\/source-groups\/[^"]+)"/.exec(groupList.text)?.[1]
    const dirUsers = await get(port, '/if/admin/users', headers)
    const dirUser = /href="(\/if\/admin\/users\/\d+)"/.exec(dirUsers.text)?.[1]
    const dirGroup = `/if/admin/groups/${groupId}`
    if (!groupId) throw new Error('no group named Everyone')
    const [admin] = await groups.findUsersByUsername(runtime.deps, 'akadmin')
    const localUser = `/if/admin/users/${admin?.pk}`
    const localGroupPath = `/if/admin/groups/${localGroupId}`
    const managed = (
      await mappings.listMappings(runtime.deps, 'provider', {
        filter: { managedIsNull: false },
        order: [],
        page: 1,
        pageSize: 1,
      })
    ).items[0]
    const mappingPath = `/if/admin/mappings/provider/${managed?.id}`
    const csrf = /name="csrf" value="([^"]+)"/.exec(dirUsers.text)?.[1] ?? ''
    const lastPage = Math.ceil(USERS / 25)
    const pages: Array<[string, string]> = [
      ['sign-in form', '/if/admin/sign-in?next=%2Fif%2Fadmin%2Fsources'],
      ['sources', '/if/admin/sources'],
      ['source', '/if/admin/sources/entra'],
      ['source: delete confirmation', '/if/admin/sources/entra/delete'],
      ['source users, page 1', '/if/admin/sources/entra/users'],
      ['source users, last page', `/if/admin/sources/entra/users?page=${lastPage}`],
      ['source users, search', `/if/admin/sources/entra/users?q=${seededUserName(USERS - 7)}`],
      ['source groups', '/if/admin/sources/entra/groups'],
      ['source user', sourceUser as string],
      ['source group (10k members)', sourceGroup as string],
      ['source group, last member page', `${sourceGroup}?page=${Math.ceil(MEMBERS / 25)}`],
      ['users, page 1', '/if/admin/users'],
      ['users, search', `/if/admin/users?q=${seededUserName(USERS - 3)}`],
      ['user', dirUser as string],
      ['groups', '/if/admin/groups'],
      ['group (10k members)', dirGroup],
      ['admin tokens', '/if/admin/tokens'],
      [
        'token: revoke confirmation',
        `/if/admin/tokens/revoke?identifier=${other.token.identifier}`,
      ],
      ['new user form', '/if/admin/new/user'],
      ['local user: edit', `${localUser}/edit`],
      ['local user: delete confirmation', `${localUser}/delete`],
      ['new group form', '/if/admin/new/group'],
      ['local group (10k members)', localGroupPath],
      ['local group, last member page', `${localGroupPath}?page=${Math.ceil(MEMBERS / 25)}`],
      ['local group, add-member search', `${localGroupPath}?find=${seededUserName(USERS - 1)}`],
      ['local group, add search (prefix)', `${localGroupPath}?find=user1`],
      ['local group: edit', `${localGroupPath}/edit`],
      ['local group: delete confirmation', `${localGroupPath}/delete`],
      ['mappings (provider)', '/if/admin/mappings'],
      ['mappings (source)', '/if/admin/mappings?kind=source'],
      ['mapping (managed)', mappingPath],
      ['new mapping form (copy)', `/if/admin/new/mapping/provider?copy=${managed?.id}`],
    ]
    // POSTs that answer with a page and change nothing: the mapping test panel.
    const posts: Array<[string, string, Record<string, string>]> = [
      [
        'mapping test on a user (POST)',
        `${mappingPath}/test`,
        { csrf, object: 'user', name: seededUserName(USERS - 11) },
      ],
    ]
    // CPU: this process's CPU time per load (server and client; on SQLite the database too),
    // which a busy machine inflates far less than the wall-clock time.
    process.stdout.write(
      `\n${'page'.padEnd(34)} ${'median ms'.padStart(10)} ${'max ms'.padStart(8)} ${'CPU ms'.padStart(8)}\n`,
    )
    const loads = [
      ...pages.map(([name, path]) => ({ name, path, form: undefined })),
      ...posts.map(([name, path, form]) => ({ name, path, form })),
    ]
    let slowest = { name: '', median: 0 }
    for (const { name, path, form } of loads) {
      // The sign-in form is for browsers without a session (with one, it redirects).
      const pageHeaders: Record<string, string> = path.startsWith('/if/admin/sign-in')
        ? {}
        : form
          ? {
              ...headers,
              'Content-Type': 'application/x-www-form-urlencoded',
              Origin: `http://127.0.0.1:${port}`,
            }
          : headers
      const method = form ? 'POST' : 'GET'
      const body = form ? new URLSearchParams(form).toString() : undefined
      const warm = await get(port, path, pageHeaders, method, body)
      if (warm.status !== 200) throw new Error(`${name}: ${path} answered ${warm.status}`)
      const times: number[] = []
      const cpu: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        await get(port, path, pageHeaders, method, body)
        times.push(performance.now() - t0)
        const used = process.cpuUsage(c0)
        cpu.push((used.user + used.system) / 1000)
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
      const max = Math.max(...times)
      if (median(times) > slowest.median) slowest = { name, median: median(times) }
      process.stdout.write(
        `${name.padEnd(34)} ${median(times).toFixed(1).padStart(10)} ${max.toFixed(1).padStart(8)} ${median(cpu).toFixed(1).padStart(8)}\n`,
      )
    }
    process.stdout.write(`\nslowest median: ${slowest.name}, ${slowest.median.toFixed(1)} ms\n`)
  } finally {
    server.close()
    await runtime.close()
    await pgSchema?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
