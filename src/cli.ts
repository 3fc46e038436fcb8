#!/usr/bin/env node
/** The scimd command line: serve, migrate, and source/token administration without a browser. */
import { createReadStream, createWriteStream } from 'node:fs'
import { parseArgs } from 'node:util'
import { type Config, ConfigError, loadConfig } from './config.js'
import { isRealDate } from './core/instant.js'
import { SourceRequestSchema } from './http/admin/schemas.js'
import { serializeSource, sourceRootUrl } from './http/admin/serializers.js'
import { fieldErrors } from './http/admin/validation.js'
import { runServer } from './http/server.js'
import { createLogger } from './logger.js'
import { startRuntime } from './runtime.js'
import { ScimError } from './scim/errors.js'
import type { Deps } from './services/deps.js'
import * as sources from './services/sources.js'
import * as tokens from './services/tokens.js'
import { exportData, importData, TransferError } from './services/transfer.js'

const USAGE = `Usage: scimd <command> [options]

Commands:
  serve                                   start the server (HOST, PORT, DATABASE_URL, …)
  migrate                                 apply database migrations and exit
  source create --name N --slug S         create a SCIM source; prints its SCIM URL and token once
  source list                             list sources
  source show <slug>                      show one source
  source delete <slug> --yes              delete a source with its token, service account, and
                                          the users and groups it provisioned
  token rotate <identifier>               issue a new key for a token; the old key stops working
  admin-token create [--expires ISO]      create an admin API token; prints it once
  export [--output FILE]                  write the whole database as JSON lines (stdout by default)
  import [--input FILE]                   load an export into an empty database (stdin by default);
                                          needs the exporting server's SCIMD_SECRET_KEY

Options:
  --json                                  machine-readable output on stdout (the admin API's shapes)
  --base-url URL                          external URL for printed SCIM URLs (default SCIMD_BASE_URL
                                          or http://localhost:PORT)

The database is DATABASE_URL's (default sqlite:./data/scimd.db), as for serve.

Exit status: 0 success, 1 failure (e.g. database unreachable), 2 usage error or invalid
input, 3 not found, 4 already exists.
`

/** Exit codes scripts can tell apart. */
const EXIT = { failure: 1, usage: 2, notFound: 3, conflict: 4 } as const

class UsageError extends Error {}

const COMMANDS = new Set([
  'source create',
  'source list',
  'source show',
  'source delete',
  'token rotate',
  'admin-token create',
])

type Output = (value: unknown, text: string) => void

function output(json: boolean): Output {
  return (value, text) =>
    process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`)
}

function origin(config: Config, flag: string | undefined): string {
  const base = flag ?? config.baseUrl ?? `http://localhost:${config.port}`
  if (!URL.canParse(base)) throw new UsageError(`--base-url: not a URL: ${base}`)
  return base.replace(/\/+$/, '')
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

interface AdminArgs {
  positionals: string[]
  name: string | undefined
  slug: string | undefined
  expires: string | undefined
  yes: boolean
}

async function runAdminCommand(
  deps: Deps,
  args: AdminArgs,
  base: string,
  print: Output,
): Promise<void> {
  const [noun, verb, arg, extra] = args.positionals
  const command = `${noun ?? ''} ${verb ?? ''}`.trim()
  if (extra !== undefined) throw new UsageError(`Unexpected argument: ${extra}`)
  const needArg = (what: string) => {
    if (!arg) throw new UsageError(`${command} needs ${what}`)
    return arg
  }
  switch (command) {
    case 'source create': {
      if (arg !== undefined) throw new UsageError(`Unexpected argument: ${arg}`)
      const input = sourceInput(args.name, args.slug)
      const created = await sources.createSource(deps, { name: input.name, slug: input.slug })
      const url = sourceRootUrl(base, created.source.slug)
      print(
        { ...serializeSource(created, base), token: created.key },
        [
          `Created source ${created.source.slug}.`,
          `SCIM base URL: ${url}`,
          `Token:         ${created.key}`,
          '',
          "The token is shown once; read it again with the admin API's view_key, or replace it",
          `with: scimd token rotate ${created.token?.identifier ?? ''}`,
        ].join('\n'),
      )
      return
    }
    case 'source list': {
      if (arg !== undefined) throw new UsageError(`Unexpected argument: ${arg}`)
      const { items } = await sources.listSources(deps)
      print(
        items.map((d) => serializeSource(d, base)),
        items.length === 0
          ? 'No sources.'
          : table([
              ['SLUG', 'STATUS', 'NAME', 'SCIM URL'],
              ...items.map((d) => [
                d.source.slug,
                d.source.enabled ? 'enabled' : 'disabled',
                d.source.name,
                sourceRootUrl(base, d.source.slug),
              ]),
            ]),
      )
      return
    }
    case 'source show': {
      const detail = await sources.getSource(deps, needArg('a slug'))
      const body = serializeSource(detail, base)
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
      return
    }
    case 'source delete': {
      const slug = needArg('a slug')
      // Deleting a source deletes every user and group it provisioned: ask for intent.
      if (!args.yes) {
        await sources.getSource(deps, slug)
        throw new UsageError(
          `source delete deletes ${slug}'s token, service account and every user and group it provisioned; add --yes to confirm`,
        )
      }
      await sources.deleteSource(deps, slug)
      print({ deleted: slug }, `Deleted source ${slug}.`)
      return
    }
    case 'token rotate': {
      const identifier = needArg('a token identifier')
      const key = await tokens.rotateKey(deps, identifier)
      print({ identifier, key }, `New key for ${identifier}: ${key}\nThe old key no longer works.`)
      return
    }
    case 'admin-token create': {
      if (arg !== undefined) throw new UsageError(`Unexpected argument: ${arg}`)
      let expires: string | null = null
      if (args.expires !== undefined) {
        const when = new Date(args.expires)
        if (Number.isNaN(when.getTime()) || !isRealDate(args.expires)) {
          throw new UsageError('--expires must be an ISO 8601 date, e.g. 2027-01-31T00:00:00Z')
        }
        if (when.getTime() <= Date.now()) throw new UsageError('--expires is in the past')
        expires = when.toISOString()
      }
      const { token, key } = await sources.createAdminToken(deps, { expires })
      print(
        { identifier: token.identifier, key, expires: token.expires },
        [
          `Admin token ${token.identifier}${token.expires ? ` (expires ${token.expires})` : ''}:`,
          key,
          '',
          'Use it as: Authorization: Bearer <token> on /api/v3/. It is shown once.',
        ].join('\n'),
      )
      return
    }
    default:
      throw new UsageError(`Unknown command: ${command || '(none)'}`)
  }
}

async function admin(config: Config, argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgsFor>
  try {
    parsed = parseArgsFor(argv)
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  const [noun, verb, arg] = positionals
  if (!COMMANDS.has(`${noun} ${verb}`)) {
    throw new UsageError(`Unknown command: ${positionals.join(' ') || '(none)'}`)
  }
  const base = origin(config, values['base-url'])
  const print = output(values.json)
  const runtime = await startRuntime(config, { logger: createLogger('warn') })
  try {
    await runAdminCommand(
      runtime.deps,
      {
        positionals,
        name: values.name,
        slug: values.slug,
        expires: values.expires,
        yes: values.yes,
      },
      base,
      print,
    )
  } catch (err) {
    // Name what was not found: the services' messages do not repeat the argument.
    if (err instanceof ScimError && err.status === 404 && arg !== undefined) {
      throw ScimError.notFound(`No ${noun === 'token' ? 'token' : 'source'} "${arg}"`)
    }
    throw err
  } finally {
    await runtime.close()
  }
}

function parseArgsFor(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      slug: { type: 'string' },
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      'base-url': { type: 'string' },
      expires: { type: 'string' },
    },
  })
}

async function main(argv: string[]): Promise<void> {
  const [command] = argv
  if (!command || argv.includes('--help') || argv.includes('-h') || command === 'help') {
    process.stdout.write(USAGE)
    return
  }
  const config = loadConfig()
  if (command === 'serve') return runServer(config)
  if (command === 'export' || command === 'import') return transfer(config, command, argv.slice(1))
  if (command === 'migrate') {
    const runtime = await startRuntime(config, { logger: createLogger('warn') })
    await runtime.close()
    process.stdout.write('Migrations applied.\n')
    return
  }
  return admin(config, argv)
}

/**
 * `scimd export` / `scimd import`: moving a deployment between databases (e.g. SQLite to
 * PostgreSQL). Import runs without the bootstrap token so that the imported tokens stand.
 */
async function transfer(config: Config, command: 'export' | 'import', argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { output: { type: 'string' }, input: { type: 'string' } },
  })
  const runtime = await startRuntime(
    command === 'import' ? { ...config, bootstrapToken: undefined } : config,
    { logger: createLogger('warn') },
  )
  try {
    if (command === 'export') {
      const out = values.output ? createWriteStream(values.output) : process.stdout
      const counts = await exportData(runtime.deps, out)
      if (out !== process.stdout) await new Promise<void>((done) => out.end(done))
      process.stderr.write(`Exported ${JSON.stringify(counts)}\n`)
      return
    }
    const input = values.input ? createReadStream(values.input) : process.stdin
    const counts = await importData(runtime.deps, input)
    process.stderr.write(`Imported ${JSON.stringify(counts)}\n`)
  } finally {
    await runtime.close()
  }
}

/** The exit code and message for an error: the service's detail, never a stack. */
function failure(err: unknown): { code: number; message: string; usage: boolean } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message, usage: true }
  if (err instanceof ConfigError) return { code: EXIT.usage, message: err.message, usage: false }
  if (err instanceof TransferError)
    return { code: EXIT.failure, message: err.message, usage: false }
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

main(process.argv.slice(2)).catch((err: unknown) => {
  const { code, message, usage } = failure(err)
  process.stderr.write(`scimd: ${message}\n${usage ? '\nRun scimd --help for usage.\n' : ''}`)
  process.exit(code)
})
