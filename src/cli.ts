#!/usr/bin/env node
/** The scimd command line: serve, migrate, backup, and source/token administration without a browser. */
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs'
import { chmod } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { type Config, ConfigError, loadConfig, parseBaseUrl } from './config.js'
import { EVENT_APPS } from './core/events.js'
import { isRealDate } from './core/instant.js'
import { serializeEvent } from './http/admin/events.js'
import { SourceRequestSchema } from './http/admin/schemas.js'
import { serializeSource, sourceRootUrl } from './http/admin/serializers.js'
import { fieldErrors } from './http/admin/validation.js'
import { runServer } from './http/server.js'
import { createLogger } from './logger.js'
import { migrateDatabase, startRuntime } from './runtime.js'
import { ScimError } from './scim/errors.js'
import { createSecrets, SecretMismatchError } from './secrets.js'
import type { Deps } from './services/deps.js'
import * as events from './services/events.js'
import * as providers from './services/providers.js'
import * as sources from './services/sources.js'
import * as tokens from './services/tokens.js'
import { exportData, importData, TransferError } from './services/transfer.js'
import { BackupError, backupSqlite } from './store/sqlite/backup.js'

/** Exit codes scripts can tell apart. */
const EXIT = { failure: 1, usage: 2, notFound: 3, conflict: 4 } as const

class UsageError extends Error {}

/** Every option any command takes; each command says which of them it reads. */
const OPTIONS = {
  name: { type: 'string' },
  slug: { type: 'string' },
  json: { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  'base-url': { type: 'string' },
  expires: { type: 'string' },
  output: { type: 'string' },
  input: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
  action: { type: 'string' },
  limit: { type: 'string' },
  url: { type: 'string' },
  mode: { type: 'string' },
  'filter-group': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  insecure: { type: 'boolean', default: false },
  'exclude-service-accounts': { type: 'boolean', default: false },
} as const

type Values = ReturnType<typeof parseCommandLine>['values']

interface CommandContext {
  config: Config
  values: Values
  /** The arguments after the command's words. */
  args: string[]
  json: boolean
  print: Output
  /** The external base URL for printed SCIM URLs (--base-url, SCIMD_BASE_URL, HOST:PORT). */
  base(): string
  /** Runs with a migrated database and the services' deps, closing them afterwards. */
  withDeps<T>(work: (deps: Deps) => Promise<T>): Promise<T>
}

interface Command {
  /** The words that name it, e.g. `source create`. */
  words: string
  /** Its arguments and options as the help shows them. */
  synopsis?: string
  summary: string
  /** How many arguments after the words it takes (default 0). */
  args?: number
  run(ctx: CommandContext): Promise<void>
}

type Output = (value: unknown, text: string) => void

function output(json: boolean): Output {
  return (value, text) =>
    process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`)
}

/**
 * The base URL printed in SCIM URLs: --base-url, else SCIMD_BASE_URL, else where this
 * configuration's server listens (a wildcard HOST is reached as localhost).
 */
function origin(config: Config, flag: string | undefined): string {
  if (flag !== undefined) {
    const parsed = parseBaseUrl(flag)
    if (!parsed.ok) throw new UsageError(`--base-url ${parsed.error}`)
    return parsed.value
  }
  if (config.baseUrl) return config.baseUrl
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}

/** Checks `source create` input with the admin API's own schema, so both say the same. */
function sourceInput(name: string | undefined, slug: string | undefined) {
  const parsed = SourceRequestSchema.safeParse({ name, slug })
  if (parsed.success) return parsed.data
  const problems = Object.entries(fieldErrors(parsed.error)).map(
    ([field, messages]) => `  --${field}: ${messages.join(' ')}`,
  )
  throw new UsageError(`invalid source:\n${problems.join('\n')}`)
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function expiryOption(value: string | undefined): string | null {
  if (value === undefined) return null
  const when = new Date(value)
  if (Number.isNaN(when.getTime()) || !isRealDate(value)) {
    throw new UsageError('--expires must be an ISO 8601 date, e.g. 2027-01-31T00:00:00Z')
  }
  if (when.getTime() <= Date.now()) throw new UsageError('--expires is in the past')
  return when.toISOString()
}

/** Names what was not found: the services' messages do not repeat the argument. */
function notFoundAs(what: string, name: string | undefined) {
  return (err: unknown): never => {
    if (err instanceof ScimError && err.status === 404 && name !== undefined) {
      throw ScimError.notFound(`No ${what} "${name}"`)
    }
    throw err
  }
}

function describeProvider(p: providers.Provider): string {
  return `${p.pk}  ${p.name}  ${p.url}  mode=${p.compatibilityMode}${p.dryRun ? '  dry-run' : ''}`
}

/** `provider show` and `provider sync`: the provider and its sync status, after a sync if asked. */
async function showProvider(
  pk: string,
  sync: boolean,
  print: Output,
  withDeps: CommandContext['withDeps'],
): Promise<void> {
  const { provider: p, status: s } = await withDeps(async (deps) => {
    if (sync) {
      await providers.requestFullSync(deps, pk).catch(notFoundAs('provider', pk))
      await providers.runProviderNow(deps, pk)
    }
    const provider = await providers.getProvider(deps, pk).catch(notFoundAs('provider', pk))
    return { provider, status: await providers.syncStatus(deps, pk) }
  })
  print(
    { provider: { pk: p.pk, name: p.name, url: p.url }, status: s },
    [
      describeProvider(p),
      `last sync: ${s.lastSyncStatus ?? 'never'}${s.lastSyncMessage ? ` (${s.lastSyncMessage})` : ''}`,
      `last successful: ${s.lastSuccessfulSync ?? 'never'}`,
      `linked: ${s.users.linked} users (${s.users.failed} failed), ${s.groups.linked} groups (${s.groups.failed} failed)`,
      `outbox: ${s.outbox.count} pending`,
    ].join('\n'),
  )
}

/**
 * Every command, in the order the help lists them. A new command is one entry here (and a
 * line in the README's CLI table).
 */
const COMMANDS: Command[] = [
  {
    words: 'serve',
    summary: 'start the server (HOST, PORT, DATABASE_URL…); JSON logs on stdout',
    run: ({ config }) => runServer(config),
  },
  {
    words: 'migrate',
    summary: 'apply pending database migrations, say which, and exit',
    run: async ({ config, print }) => {
      const { applied, migrations } = await migrateDatabase(config)
      print(
        { applied, migrations },
        applied.length === 0
          ? `Nothing to apply: the database is up to date (${migrations.length} migrations).`
          : `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:\n${applied
              .map((m) => `  ${m}`)
              .join('\n')}`,
      )
    },
  },
  {
    words: 'source create',
    synopsis: '--name N --slug S',
    summary: 'create a SCIM source; prints its SCIM URL and token once',
    run: async ({ values, print, base, withDeps }) => {
      const input = sourceInput(values.name, values.slug)
      const url = base()
      const created = await withDeps((deps) =>
        sources.createSource(deps, { name: input.name, slug: input.slug }),
      )
      print(
        { ...serializeSource(created, url), token: created.key },
        [
          `Created source ${created.source.slug}.`,
          `SCIM base URL: ${sourceRootUrl(url, created.source.slug)}`,
          `Token:         ${created.key}`,
          '',
          "The token is shown once; read it again with the admin API's view_key, or replace it",
          `with: scimd token rotate ${created.token?.identifier ?? ''}`,
        ].join('\n'),
      )
    },
  },
  {
    words: 'source list',
    summary: 'list sources',
    run: async ({ print, base, withDeps }) => {
      const url = base()
      const { items } = await withDeps((deps) => sources.listSources(deps))
      print(
        items.map((d) => serializeSource(d, url)),
        items.length === 0
          ? 'No sources.'
          : table([
              ['SLUG', 'STATUS', 'NAME', 'SCIM URL'],
              ...items.map((d) => [
                d.source.slug,
                d.source.enabled ? 'enabled' : 'disabled',
                d.source.name,
                sourceRootUrl(url, d.source.slug),
              ]),
            ]),
      )
    },
  },
  {
    words: 'source show',
    synopsis: '<slug>',
    summary: 'show one source',
    args: 1,
    run: async ({ args: [slug], print, base, withDeps }) => {
      const url = base()
      const detail = await withDeps((deps) =>
        sources.getSource(deps, slug as string).catch(notFoundAs('source', slug)),
      )
      const body = serializeSource(detail, url)
      print(
        body,
        [
          `slug:             ${body.slug}`,
          `name:             ${body.name}`,
          `enabled:          ${body.enabled}`,
          `SCIM base URL:    ${body.root_url}`,
          `token:            ${body.token_obj?.identifier ?? '(none)'}`,
          `token expires:    ${body.token_obj?.expiring ? body.token_obj.expires : 'never'}`,
          `service account:  ${body.token_obj?.user_obj.username ?? '(none)'}`,
          `user path:        ${body.user_path_template}`,
          `pk:               ${body.pk}`,
        ].join('\n'),
      )
    },
  },
  {
    words: 'source delete',
    synopsis: '<slug> --yes',
    summary: 'delete a source, its token and account, and all it provisioned',
    args: 1,
    run: async ({ args: [slug], values, print, withDeps }) => {
      await withDeps(async (deps) => {
        // Deleting a source deletes every user and group it provisioned: ask for intent.
        if (!values.yes) {
          await sources.getSource(deps, slug as string).catch(notFoundAs('source', slug))
          throw new UsageError(
            `source delete deletes ${slug}'s token, service account and every user and group it provisioned; add --yes to confirm`,
          )
        }
        await sources.deleteSource(deps, slug as string).catch(notFoundAs('source', slug))
      })
      print({ deleted: slug }, `Deleted source ${slug}.`)
    },
  },
  {
    words: 'token rotate',
    synopsis: '<identifier>',
    summary: 'issue a new key for a token; the old key stops working',
    args: 1,
    run: async ({ args: [identifier], print, withDeps }) => {
      const key = await withDeps((deps) =>
        tokens.rotateKey(deps, identifier as string).catch(notFoundAs('token', identifier)),
      )
      print({ identifier, key }, `New key for ${identifier}: ${key}\nThe old key no longer works.`)
    },
  },
  {
    words: 'admin-token create',
    synopsis: '[--expires ISO]',
    summary: 'create an admin API token; prints it once',
    run: async ({ values, print, withDeps }) => {
      const expires = expiryOption(values.expires)
      const { token, key } = await withDeps((deps) => sources.createAdminToken(deps, { expires }))
      print(
        { identifier: token.identifier, key, expires: token.expires },
        [
          `Admin token ${token.identifier}${token.expires ? ` (expires ${token.expires})` : ''}:`,
          key,
          '',
          'Use it as: Authorization: Bearer <token> on /api/v3/. It is shown once.',
        ].join('\n'),
      )
    },
  },
  {
    words: 'admin-token list',
    summary: 'list admin API tokens (never their keys)',
    run: async ({ print, withDeps }) => {
      const list = await withDeps((deps) => tokens.listAdminTokens(deps, sources.ADMIN_USERNAME))
      print(
        list.map((t) => ({
          identifier: t.identifier,
          description: t.description,
          expiring: t.expiring,
          expires: t.expires,
          created: t.createdAt,
        })),
        list.length === 0
          ? 'No admin tokens.'
          : table([
              ['IDENTIFIER', 'EXPIRES', 'CREATED', 'DESCRIPTION'],
              ...list.map((t) => [
                t.identifier,
                t.expiring && t.expires ? t.expires : 'never',
                t.createdAt,
                t.description,
              ]),
            ]),
      )
    },
  },
  {
    words: 'admin-token revoke',
    synopsis: '<identifier>',
    summary: "revoke an admin API token at once (a source's: rotate it)",
    args: 1,
    run: async ({ args: [identifier], print, withDeps }) => {
      await withDeps((deps) =>
        tokens.revokeToken(deps, identifier as string).catch(notFoundAs('token', identifier)),
      )
      print({ revoked: identifier }, `Revoked ${identifier}; its key no longer works.`)
    },
  },
  {
    words: 'provider create',
    synopsis:
      '--name N --url URL [--mode default|aws|slack] [--dry-run] [--insecure] [--exclude-service-accounts] [--filter-group UUID]',
    summary: "create an outbound SCIM provider; the remote's token comes from SCIMD_PROVIDER_TOKEN",
    run: async ({ values, print, withDeps }) => {
      const token = process.env.SCIMD_PROVIDER_TOKEN
      if (!values.name || !values.url)
        throw new UsageError('provider create needs --name and --url')
      // The remote's bearer token is read from the environment so it stays out of argv and ps.
      if (!token) throw new UsageError('provider create reads the token from SCIMD_PROVIDER_TOKEN')
      const mode = values.mode ?? 'default'
      if (!(providers.COMPATIBILITY_MODES as readonly string[]).includes(mode)) {
        throw new UsageError('--mode must be default, aws or slack')
      }
      const created = await withDeps((deps) =>
        providers
          .createProvider(deps, {
            name: values.name as string,
            url: values.url as string,
            token,
            compatibilityMode: mode as providers.CompatibilityMode,
            dryRun: values['dry-run'],
            verifyCertificates: !values.insecure,
            excludeUsersServiceAccount: values['exclude-service-accounts'],
            filterGroup: values['filter-group'] ?? null,
          })
          .catch((err: unknown) => {
            if (err instanceof providers.ProviderFieldError) {
              throw new UsageError(`--${err.field.replace(/_/g, '-')}: ${err.detail}`)
            }
            throw err
          }),
      )
      print(
        { pk: created.pk, name: created.name, url: created.url },
        `Created provider ${describeProvider(created)}\nA full sync starts when a server (scimd serve) or 'scimd provider sync ${created.pk}' runs.`,
      )
    },
  },
  {
    words: 'provider list',
    summary: 'list outbound SCIM providers',
    run: async ({ print, withDeps }) => {
      const page = await withDeps((deps) =>
        providers.listProviders(deps, { filter: {}, order: [], page: 1, pageSize: 1000 }),
      )
      print(
        page.items.map((p) => ({ pk: p.pk, name: p.name, url: p.url, mode: p.compatibilityMode })),
        page.items.length === 0 ? 'No providers.' : page.items.map(describeProvider).join('\n'),
      )
    },
  },
  {
    words: 'provider show',
    synopsis: '<pk>',
    summary: 'show one provider and its sync status',
    args: 1,
    run: ({ args: [pk], print, withDeps }) => showProvider(pk as string, false, print, withDeps),
  },
  {
    words: 'provider sync',
    synopsis: '<pk>',
    summary: 'run a full sync now, in this process, and print the status',
    args: 1,
    run: ({ args: [pk], print, withDeps }) => showProvider(pk as string, true, print, withDeps),
  },
  {
    words: 'provider delete',
    synopsis: '<pk> --yes',
    summary: 'delete a provider (the remote objects stay)',
    args: 1,
    run: async ({ args: [pk], values, print, withDeps }) => {
      await withDeps(async (deps) => {
        if (!values.yes) {
          await providers.getProvider(deps, pk as string).catch(notFoundAs('provider', pk))
          throw new UsageError('provider delete needs --yes (remote objects stay as they are)')
        }
        await providers.deleteProvider(deps, pk as string).catch(notFoundAs('provider', pk))
      })
      print({ deleted: Number(pk) }, `Deleted provider ${pk}.`)
    },
  },
  {
    words: 'events',
    synopsis: '[--action A] [--limit N]',
    summary: 'the newest events (the admin API event log); --action matches actions containing A',
    run: async ({ values, print, withDeps }) => {
      const limit = values.limit === undefined ? 20 : Number(values.limit)
      if (!/^[0-9]+$/.test(values.limit ?? '20') || limit < 1 || limit > 1000) {
        throw new UsageError('--limit must be a whole number from 1 to 1000')
      }
      const page = await withDeps((deps) =>
        events.listEvents(deps, {
          page: 1,
          pageSize: limit,
          order: [],
          filter: { action: values.action },
        }),
      )
      const list = page.items.map(serializeEvent)
      print(
        list,
        list.length === 0
          ? 'No events.'
          : table([
              ['CREATED', 'ACTION', 'USER', 'CLIENT IP', 'OBJECT', 'SOURCE'],
              ...list.map((e) => {
                const model = e.context.model as { model_name?: string; name?: string } | undefined
                const source = e.context.source as { slug?: string } | undefined
                return [
                  e.created,
                  e.action,
                  e.user.username ?? '',
                  e.client_ip ?? '',
                  model ? `${model.model_name} ${model.name}` : '',
                  source?.slug ?? '',
                ]
              }),
            ]),
      )
    },
  },
  {
    words: 'backup',
    synopsis: '--output FILE',
    summary: 'consistent copy of the SQLite database, also while serving',
    run: async ({ config, values, print }) => {
      if (!values.output) throw new UsageError('backup needs --output FILE')
      if (config.database.kind !== 'sqlite' || config.database.path === ':memory:') {
        throw new UsageError(
          'backup copies a SQLite database file; back PostgreSQL up with pg_dump (see README)',
        )
      }
      const result = await backupSqlite(config.database.path, values.output)
      print(
        { output: values.output, ...result },
        `Backed up ${config.database.path} to ${values.output} (${result.pages} pages, ${result.bytes} bytes, integrity ${result.integrity}).`,
      )
    },
  },
  {
    words: 'export',
    synopsis: '[--output FILE]',
    summary: 'the whole database as JSON lines (default stdout; files 0600)',
    run: (ctx) => exportCommand(ctx),
  },
  {
    words: 'import',
    synopsis: '[--input FILE]',
    summary: "load an export into an empty database (the export's secret)",
    run: (ctx) => importCommand(ctx),
  },
  {
    words: 'secret fingerprint',
    summary: 'fingerprint of the configured server secret, never the secret',
    run: async ({ config, print }) => {
      const key = config.secretKey ?? readSecretFile(config)
      const { fingerprint } = createSecrets(key)
      print({ fingerprint }, fingerprint)
    },
  },
]

function readSecretFile(config: Config): string {
  const file = join(config.dataDir, 'secret.key')
  if (!existsSync(file)) {
    throw new UsageError(`No secret configured: SCIMD_SECRET_KEY is unset and ${file} is missing`)
  }
  return readFileSync(file, 'utf8').trim()
}

function usage(): string {
  const rows = COMMANDS.map((c) => [`${c.words}${c.synopsis ? ` ${c.synopsis}` : ''}`, c.summary])
  const width = Math.max(...rows.map(([left]) => (left as string).length)) + 2
  return `Usage: scimd <command> [options]

Commands:
${rows.map(([left, right]) => `  ${(left as string).padEnd(width)}${right}`).join('\n')}

Options:
  --json        machine-readable output on stdout, errors included ({"error": …})
  --base-url    external URL for printed SCIM URLs (default SCIMD_BASE_URL, else
                http://HOST:PORT with a wildcard HOST shown as localhost)
  --version     print scimd's version
  --help, -h    this help

The database is DATABASE_URL's (default sqlite:./data/scimd.db), as for serve.

Exit status: 0 success, 1 failure (e.g. database unreachable), 2 usage error or invalid
input, 3 not found, 4 already exists.
`
}

/** The version in scimd's package.json (two levels up from dist/src/, one from src/). */
function packageVersion(): string {
  let dir = import.meta.dirname
  for (let i = 0; i < 4; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'scimd' && pkg.version) return pkg.version
    }
    dir = dirname(dir)
  }
  return 'unknown'
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS })
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

/** The command whose words begin the positionals (the longest such). */
function findCommand(positionals: string[]): Command | undefined {
  return COMMANDS.filter((c) => {
    const words = c.words.split(' ')
    return words.every((w, i) => positionals[i] === w)
  }).sort((a, b) => b.words.length - a.words.length)[0]
}

async function main(argv: string[], json: boolean): Promise<number> {
  const { values, positionals } = parseCommandLine(argv)
  if (values.version) {
    const version = packageVersion()
    output(json)({ version }, `scimd ${version}`)
    return 0
  }
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(usage())
    return 0
  }
  // Bare `scimd` is a usage error: say how to use it, on stderr, and exit 2.
  if (positionals.length === 0) {
    process.stderr.write(usage())
    return EXIT.usage
  }
  const command = findCommand(positionals)
  if (!command) throw new UsageError(`Unknown command: ${positionals.join(' ')}`)
  const args = positionals.slice(command.words.split(' ').length)
  const expected = command.args ?? 0
  if (args.length > expected) throw new UsageError(`Unexpected argument: ${args[expected]}`)
  if (args.length < expected) {
    throw new UsageError(`${command.words} needs ${command.synopsis?.split(' ')[0] ?? 'arguments'}`)
  }
  const config = loadConfig()
  await command.run({
    config,
    values,
    args,
    json,
    print: output(json),
    base: () => origin(config, values['base-url']),
    withDeps: async (work) => {
      const runtime = await startRuntime(config, { logger: createLogger('warn') })
      try {
        // What the CLI changes is recorded as done by it, with no user or address.
        return await work({
          ...runtime.deps,
          audit: { user: null, clientIp: null, app: EVENT_APPS.cli },
        })
      } finally {
        await runtime.close()
      }
    },
  })
  return 0
}

/**
 * `scimd export`: the whole database as JSON lines. A file is created mode 0600 (it holds
 * password hashes and sealed keys). Piped into a reader that stops early (`| head`), it ends
 * quietly with status 141, as Unix tools killed by SIGPIPE do.
 */
async function exportCommand({ config, values, json }: CommandContext): Promise<void> {
  const runtime = await startRuntime(config, { logger: createLogger('warn') })
  try {
    let out: Writable = process.stdout
    if (values.output) {
      const file = createWriteStream(values.output, { mode: 0o600 })
      await new Promise<void>((ready, fail) => file.once('open', () => ready()).once('error', fail))
      // A file that existed keeps its inode; it gets the mode a new one would have.
      await chmod(values.output, 0o600)
      out = file
    } else {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(141)
        throw err
      })
    }
    const counts = await exportData(runtime.deps, out)
    if (out !== process.stdout) await new Promise<void>((done) => out.end(done))
    // The data may be on stdout: the summary goes to stderr, in JSON with --json.
    process.stderr.write(
      json ? `${JSON.stringify({ exported: counts })}\n` : `Exported ${JSON.stringify(counts)}\n`,
    )
  } finally {
    await runtime.close()
  }
}

/**
 * `scimd import`: into an empty database, all or nothing. Import runs without the bootstrap
 * token so that the imported tokens stand. On SQLite, a failed import removes the database
 * and secret.key files that it created itself, so a retry starts clean.
 */
async function importCommand({ config, values, json, print }: CommandContext): Promise<void> {
  const created = filesToRemoveOnFailure(config)
  try {
    const runtime = await startRuntime(
      { ...config, bootstrapToken: undefined },
      { logger: createLogger('warn') },
    )
    try {
      const input = values.input ? createReadStream(values.input) : process.stdin
      const counts = await importData(runtime.deps, input)
      if (json) print({ imported: counts }, '')
      else process.stderr.write(`Imported ${JSON.stringify(counts)}\n`)
    } finally {
      await runtime.close()
    }
  } catch (err) {
    for (const file of created) rmSync(file, { force: true })
    throw err
  }
}

/** The SQLite files (database, its WAL and SHM, secret.key) that do not exist yet. */
function filesToRemoveOnFailure(config: Config): string[] {
  if (config.database.kind !== 'sqlite' || config.database.path === ':memory:') return []
  const db = resolve(config.database.path)
  const files = [db, `${db}-wal`, `${db}-shm`, `${db}-journal`]
  if (!config.secretKey) files.push(resolve(config.dataDir, 'secret.key'))
  return files.filter((f) => !existsSync(f))
}

/** The exit code and message for an error: the service's detail, never a stack. */
function failure(err: unknown): { code: number; message: string; usage: boolean } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message, usage: true }
  if (err instanceof ConfigError) return { code: EXIT.usage, message: err.message, usage: false }
  if (
    err instanceof TransferError ||
    err instanceof SecretMismatchError ||
    err instanceof BackupError
  ) {
    const conflict = err instanceof BackupError && /exists already/.test(err.message)
    return { code: conflict ? EXIT.conflict : EXIT.failure, message: err.message, usage: false }
  }
  if (err instanceof ScimError) {
    if (err.status === 404) return { code: EXIT.notFound, message: err.detail, usage: false }
    if (err.status === 409) return { code: EXIT.conflict, message: err.detail, usage: false }
    if (err.status === 400) return { code: EXIT.usage, message: err.detail, usage: false }
    return { code: EXIT.failure, message: err.detail, usage: false }
  }
  return {
    code: EXIT.failure,
    message: err instanceof Error ? err.message : String(err),
    usage: false,
  }
}

const ERROR_NAMES: Record<number, string> = {
  [EXIT.failure]: 'failure',
  [EXIT.usage]: 'usage',
  [EXIT.notFound]: 'not_found',
  [EXIT.conflict]: 'conflict',
}

const argv = process.argv.slice(2)
// --json is read before parsing, so that a command line that does not parse answers in JSON.
const json = argv.includes('--json')
main(argv, json).then(
  (code) => {
    if (code !== 0) process.exitCode = code
  },
  (err: unknown) => {
    const { code, message, usage } = failure(err)
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: ERROR_NAMES[code] ?? 'failure', message } })}\n`,
      )
    } else {
      process.stderr.write(`scimd: ${message}\n${usage ? '\nRun scimd --help for usage.\n' : ''}`)
    }
    process.exit(code)
  },
)
