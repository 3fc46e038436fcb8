/**
 * `npm run crash-test`: writers create, patch and delete users and change a group's members
 * through SCIM while the server is killed with SIGKILL at random moments and restarted;
 * then every acknowledged write must be there and nothing half-applied. See USAGE.
 */
import { parseArgs } from 'node:util'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { defineFunctions } from '../src/store/sqlite/functions.js'
import { assertBuilt, killChildrenNow, type ScimdChild, startChild } from './fuzz/child.js'
import {
  createSource,
  newAdminKey,
  newSecretKey,
  scimJson,
  throwawayDatabase,
} from './fuzz/setup.js'
import { exitOnHelp, seedOption, wholeNumbers } from './options.js'

const USAGE = `Usage: npm run crash-test -- [options]   (npm run build first)

Starts the built scimd with a throwaway database (SQLite; PostgreSQL when
DATABASE_URL=postgres://… is set, with two instances on it, of which one is killed), runs
writers that create, patch and delete users and add and remove group members, and kills
the server with SIGKILL at random moments, restarting it each time. Then it checks that
every write answered 2xx is in the database, that no write answered with an error or not
at all is half-applied, that the group's members and each user's groups agree, and (SQLite)
PRAGMA integrity_check and foreign_key_check.

Options:
  --kills N        how many times to kill the server (default 20)
  --writers N      concurrent writers (default 6)
  --seconds S      give up killing after S seconds (default 240)
  --seed N         seed for the kill times and the writers' choices (default random)
  --json           print the report as JSON
  -h, --help       this text

Exit status 0 when nothing acknowledged was lost, nothing was half-applied and the checks
pass; 1 otherwise; 2 on bad options.
`

const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** What one user looks like from the outside; the writers' model of it. */
interface State {
  exists: boolean
  title: string | null
  member: boolean
}
type Outcome = 'ok' | 'error' | 'unknown'

interface TrackedUser {
  userName: string
  id: string | undefined
  /** Every state the user may be in, given the answers so far (JSON of State). */
  possible: Set<string>
  retired: boolean
}

/** A small seeded PRNG (mulberry32), so a run's choices can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function parseOptions() {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '20' },
      writers: { type: 'string', default: '6' },
      seconds: { type: 'string', default: '240' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const int = wholeNumbers(USAGE)
  return {
    kills: int('kills', values.kills),
    writers: Math.max(1, int('writers', values.writers)),
    seconds: int('seconds', values.seconds),
    seed: seedOption(values.seed, USAGE),
    json: values.json,
  }
}

/** Applies an operation to every possible state, as its answer allows. */
function advance(user: TrackedUser, outcome: Outcome, apply: (s: State) => State | undefined) {
  const next = new Set<string>()
  for (const text of user.possible) {
    const before = JSON.parse(text) as State
    const after = apply(before)
    // An error leaves the user as it was; no answer leaves it either way; a 2xx changed it
    // (and rules out the states in which the operation could not succeed: `after` undefined).
    if (outcome !== 'ok') next.add(text)
    if (outcome !== 'error' && after !== undefined) next.add(JSON.stringify(after))
  }
  user.possible = next
}

async function main() {
  const options = parseOptions()
  assertBuilt()
  const random = prng(options.seed)
  const database = await throwawayDatabase('scimd_crash')
  const adminKey = newAdminKey()
  const secretKey = newSecretKey()
  const start = (port?: number) =>
    startChild({
      databaseUrl: database.url,
      adminKey,
      secretKey,
      ...(port ? { port } : {}),
    })
  process.once('SIGINT', () => {
    killChildrenNow()
    process.exit(130)
  })

  let victim: ScimdChild = await start()
  // PostgreSQL: a second instance on the same database, never killed, takes half the writes.
  const survivor = database.kind === 'postgres' ? await start() : undefined
  const origins = () => (survivor ? [victim.origin, survivor.origin] : [victim.origin])
  const source = await createSource(victim.origin, adminKey, 'crash')
  const group = String(
    (
      await scimJson(
        victim.origin,
        source,
        'POST',
        '/Groups',
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'crash-group' },
        201,
      )
    ).id,
  )

  const counts = {
    sent: 0,
    ok: 0,
    error: 0,
    unknown: 0,
    refusedRetries: 0,
    byOp: {} as Record<string, number>,
  }
  const users: TrackedUser[] = []

  /** One SCIM write to a random instance; 'unknown' when no whole answer came back. */
  async function write(
    method: string,
    path: string,
    body: unknown,
    op: string,
  ): Promise<{ outcome: Outcome; json?: Record<string, unknown> }> {
    counts.byOp[op] = (counts.byOp[op] ?? 0) + 1
    counts.sent++
    for (;;) {
      const list = origins()
      const origin = list[Math.floor(random() * list.length)] as string
      try {
        const res = await fetch(`${origin}/source/scim/${source.slug}/v2${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${source.key}`,
            'Content-Type': 'application/scim+json',
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(15_000),
        })
        const text = await res.text()
        if (res.status >= 200 && res.status < 300) {
          counts.ok++
          return { outcome: 'ok', ...(text ? { json: JSON.parse(text) } : {}) }
        }
        counts.error++
        return { outcome: 'error' }
      } catch (error) {
        // Refused: the instance is down and nothing was sent; wait for it and send again.
        if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') {
          counts.refusedRetries++
          await sleep(50)
          continue
        }
        counts.unknown++
        return { outcome: 'unknown' }
      }
    }
  }

  let stopping = false
  async function writer(w: number) {
    const mine: TrackedUser[] = []
    for (let n = 0; !stopping; n++) {
      const live = mine.filter((u) => !u.retired)
      if (live.length < 3 || random() < 0.25) {
        const userName = `crash-w${w}-${n}`
        const user: TrackedUser = {
          userName,
          id: undefined,
          possible: new Set([JSON.stringify({ exists: false, title: null, member: false })]),
          retired: false,
        }
        mine.push(user)
        users.push(user)
        const title = `t-${w}-${n}`
        const r = await write(
          'POST',
          '/Users',
          {
            schemas: [USER_URN],
            userName,
            title,
            nickName: title,
            displayName: title,
            emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }],
          },
          'create',
        )
        advance(user, r.outcome, () => ({ exists: true, title, member: false }))
        if (r.outcome === 'ok') user.id = String(r.json?.id)
        // Without its id (no answer), the writer cannot address the user again.
        else user.retired = true
        continue
      }
      const user = live[Math.floor(random() * live.length)] as TrackedUser
      const pick = random()
      if (pick < 0.45) {
        // Three attributes in one request: all or none of them may change.
        const title = `t-${w}-${n}`
        const r = await write(
          'PATCH',
          `/Users/${user.id}`,
          {
            schemas: [PATCH_URN],
            Operations: [
              { op: 'replace', path: 'title', value: title },
              { op: 'replace', path: 'nickName', value: title },
              { op: 'replace', path: 'displayName', value: title },
            ],
          },
          'patch',
        )
        advance(user, r.outcome, (s) => (s.exists ? { ...s, title } : undefined))
      } else if (pick < 0.7) {
        const r = await write(
          'PATCH',
          `/Groups/${group}`,
          {
            schemas: [PATCH_URN],
            Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
          },
          'add-member',
        )
        advance(user, r.outcome, (s) => (s.exists ? { ...s, member: true } : undefined))
      } else if (pick < 0.9) {
        const r = await write(
          'PATCH',
          `/Groups/${group}`,
          {
            schemas: [PATCH_URN],
            Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }],
          },
          'remove-member',
        )
        // Removing a member who is not one (or no longer a user) succeeds and changes nothing.
        advance(user, r.outcome, (s) => (s.exists ? { ...s, member: false } : s))
      } else {
        const r = await write('DELETE', `/Users/${user.id}`, undefined, 'delete')
        advance(user, r.outcome, (s) =>
          s.exists ? { exists: false, title: null, member: false } : undefined,
        )
        if (r.outcome === 'ok') user.retired = true
      }
    }
  }

  const started = performance.now()
  const writers = Array.from({ length: options.writers }, (_, w) => writer(w))
  let kills = 0
  const restartMs: number[] = []
  while (kills < options.kills && performance.now() - started < options.seconds * 1000) {
    await sleep(150 + random() * 900)
    await victim.kill()
    kills++
    const t = performance.now()
    victim = await start(victim.port)
    restartMs.push(performance.now() - t)
    if (!options.json) process.stderr.write(`… kill ${kills}: ${counts.ok} writes acknowledged\n`)
  }
  // A last stretch of writes without kills, then stop the writers.
  await sleep(500)
  stopping = true
  await Promise.all(writers)

  // ---- verification -----------------------------------------------------------------------
  const check = victim.origin
  const groupRes = await scimJson(check, source, 'GET', `/Groups/${group}`, undefined, 200)
  const members = new Set(
    ((groupRes.members as { value: string }[] | undefined) ?? []).map((m) => m.value),
  )
  let lost = 0
  let halfApplied = 0
  let inconsistentMembership = 0
  const problems: string[] = []
  for (const user of users) {
    const filter = encodeURIComponent(`userName eq "${user.userName}"`)
    const list = await scimJson(check, source, 'GET', `/Users?filter=${filter}`, undefined, 200)
    const found = (list.Resources as Record<string, unknown>[] | undefined)?.[0]
    let actual: State
    if (!found) {
      actual = { exists: false, title: null, member: false }
    } else {
      const id = String(found.id)
      const title = (found.title as string | undefined) ?? null
      // Half-applied: one request's three attributes disagree, or the create lost its email.
      const emails = found.emails as { value: string }[] | undefined
      if (found.nickName !== title || found.displayName !== title || emails?.length !== 1) {
        halfApplied++
        problems.push(`half-applied ${user.userName}: ${JSON.stringify(found)}`)
      }
      const groups = ((found.groups as { value: string }[] | undefined) ?? []).map((g) => g.value)
      if (groups.includes(group) !== members.has(id)) {
        inconsistentMembership++
        problems.push(
          `membership of ${user.userName}: groups ${groups}, group has it ${members.has(id)}`,
        )
      }
      actual = { exists: true, title, member: members.has(id) }
    }
    if (!user.possible.has(JSON.stringify(actual))) {
      lost++
      problems.push(
        `unexpected ${user.userName}: ${JSON.stringify(actual)} not in ${[...user.possible].join(' | ')}`,
      )
    }
  }
  // Members that are no tracked user at all (a deleted user left behind).
  const known = new Set(users.map((u) => u.id).filter(Boolean))
  for (const m of members) {
    if (!known.has(m)) {
      const res = await fetch(`${check}/source/scim/${source.slug}/v2/Users/${m}`, {
        headers: { Authorization: `Bearer ${source.key}` },
      })
      if (res.status !== 200) {
        inconsistentMembership++
        problems.push(`group member ${m} is not a user (${res.status})`)
      }
    }
  }

  await victim.stop()
  await survivor?.stop()
  let integrity = 'not run'
  if (database.sqlitePath) {
    const db = new SQLite(database.sqlitePath, { readonly: true })
    // integrity_check evaluates expression indexes, which use scimd's SQL functions.
    defineFunctions(db)
    const result = db.pragma('integrity_check', { simple: true })
    const fk = db.pragma('foreign_key_check') as unknown[]
    db.close()
    integrity = `integrity_check ${String(result)}, foreign_key_check ${fk.length} rows`
    if (result !== 'ok' || fk.length > 0) problems.push(`SQLite: ${integrity}`)
  } else {
    // PostgreSQL's own guarantees hold across a killed client; check the links scimd keeps.
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    const orphans = await client.query(
      `select (select count(*) from scim_source_users s left join users u on u.id = s.user_id where u.id is null)
            + (select count(*) from group_members m left join users u on u.id = m.user_id where u.id is null) as n`,
    )
    await client.end()
    const n = Number(orphans.rows[0].n)
    integrity = `${n} rows linking to a missing user`
    if (n > 0) problems.push(`PostgreSQL: ${integrity}`)
  }
  await database.drop()

  const report = {
    seed: options.seed,
    database: database.kind,
    instances: survivor ? 2 : 1,
    kills,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    writers: options.writers,
    writes: counts,
    users: users.length,
    finalMembers: members.size,
    lost,
    halfApplied,
    inconsistentMembership,
    integrity,
    restartMsMax: Math.round(Math.max(0, ...restartMs)),
    problems: problems.slice(0, 20),
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else {
    process.stdout.write(
      `${[
        `scimd crash test: seed ${report.seed}, ${report.database}${survivor ? ' (2 instances, one killed)' : ''}, ${kills} kills in ${report.seconds} s, ${options.writers} writers`,
        `writes: ${counts.sent} sent, ${counts.ok} acknowledged (2xx), ${counts.error} refused with an error, ${counts.unknown} without an answer; ${JSON.stringify(counts.byOp)}`,
        `users: ${users.length}; group members at the end: ${members.size}`,
        `acknowledged writes lost or unexpected state: ${lost}; half-applied: ${halfApplied}; membership inconsistent: ${inconsistentMembership}`,
        `database: ${integrity}`,
        ...problems.slice(0, 20).map((p) => `  ${p.slice(0, 400)}`),
        `reproduce: npm run crash-test -- --seed ${report.seed} --kills ${options.kills} --writers ${options.writers}`,
      ].join('\n')}\n`,
    )
  }
  process.exit(problems.length > 0 || lost > 0 ? 1 : 0)
}

await main().catch((error: unknown) => {
  process.stderr.write(`crash-test: ${error instanceof Error ? error.stack : String(error)}\n`)
  killChildrenNow()
  process.exit(1)
})
