#!/usr/bin/env node
/** The scimd command line: serve, migrate, and source/token administration without a browser. */
import { parseArgs } from 'node:util'
import { type Config, ConfigError, loadConfig } from './config.js'
import { runServer } from './http/server.js'
import { createLogger } from './logger.js'
import { startRuntime } from './runtime.js'
import { ScimError } from './scim/errors.js'
import * as sources from './services/sources.js'
import * as tokens from './services/tokens.js'

const USAGE = `Usage: scimd <command> [options]

Commands:
  serve                                   start the server (HOST, PORT, DATABASE_URL, …)
  migrate                                 apply database migrations and exit
  source create --name N --slug S         create a SCIM source; prints its SCIM URL and token once
  source list                             list sources
  source show <slug>                      show one source
  source delete <slug>                    delete a source with its token, service account and data
  token rotate <identifier>               issue a new key for a token; the old key stops working
  admin-token create [--expires ISO]      create an admin API token; prints it once

Options:
  --json                                  machine-readable output
  --base-url URL                          external URL for printed SCIM URLs (default SCIMD_BASE_URL
                                          or http://localhost:PORT)
`

class UsageError extends Error {}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`)
}

function origin(config: Config, flag: string | undefined): string {
  return (flag ?? config.baseUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, '')
}

async function admin(config: Config, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      slug: { type: 'string' },
      json: { type: 'boolean', default: false },
      'base-url': { type: 'string' },
      expires: { type: 'string' },
    },
  })
  const [noun, verb, arg] = positionals
  const json = values.json ?? false
  const runtime = await startRuntime(config, { logger: createLogger('warn') })
  const { deps } = runtime
  const base = origin(config, values['base-url'])
  const scimUrl = (slug: string) => `${base}/source/scim/${encodeURIComponent(slug)}/v2`
  try {
    const command = `${noun ?? ''} ${verb ?? ''}`.trim()
    switch (command) {
      case 'source create': {
        if (!values.name || !values.slug)
          throw new UsageError('source create needs --name and --slug')
        if (!sources.SLUG_PATTERN.test(values.slug) || values.slug.length > 50) {
          throw new UsageError('--slug may only contain letters, digits, - and _ (at most 50)')
        }
        const created = await sources.createSource(deps, { name: values.name, slug: values.slug })
        print(
          json,
          {
            slug: created.source.slug,
            scim_url: scimUrl(created.source.slug),
            token: created.key,
            token_identifier: created.token?.identifier,
          },
          `SCIM base URL: ${scimUrl(created.source.slug)}\nToken:         ${created.key}\n\nThe token is shown once; read it again with the admin API's view_key.`,
        )
        return
      }
      case 'source list': {
        const all = await sources.listSources(deps)
        const rows = all.map((d) => ({
          slug: d.source.slug,
          name: d.source.name,
          enabled: d.source.enabled,
          scim_url: scimUrl(d.source.slug),
          token_identifier: d.token?.identifier ?? null,
        }))
        print(
          json,
          rows,
          rows.length === 0
            ? 'No sources.'
            : rows
                .map(
                  (r) =>
                    `${r.slug}\t${r.enabled ? 'enabled' : 'disabled'}\t${r.name}\t${r.scim_url}`,
                )
                .join('\n'),
        )
        return
      }
      case 'source show': {
        if (!arg) throw new UsageError('source show needs a slug')
        const d = await sources.getSource(deps, arg)
        const row = {
          slug: d.source.slug,
          name: d.source.name,
          enabled: d.source.enabled,
          scim_url: scimUrl(d.source.slug),
          token_identifier: d.token?.identifier ?? null,
          created_at: d.source.createdAt,
        }
        print(
          json,
          row,
          Object.entries(row)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n'),
        )
        return
      }
      case 'source delete': {
        if (!arg) throw new UsageError('source delete needs a slug')
        await sources.deleteSource(deps, arg)
        print(json, { deleted: arg }, `Deleted source ${arg}.`)
        return
      }
      case 'token rotate': {
        if (!arg) throw new UsageError('token rotate needs a token identifier')
        const key = await tokens.rotateKey(deps, arg)
        print(
          json,
          { identifier: arg, token: key },
          `New key for ${arg}: ${key}\nThe old key no longer works.`,
        )
        return
      }
      case 'admin-token create': {
        const expires = values.expires ? new Date(values.expires) : undefined
        if (expires && Number.isNaN(expires.getTime()))
          throw new UsageError('--expires must be an ISO date')
        const { token, key } = await sources.createAdminToken(deps, {
          expires: expires?.toISOString() ?? null,
        })
        print(
          json,
          { identifier: token.identifier, token: key, expires: token.expires },
          `Admin token (${token.identifier}): ${key}`,
        )
        return
      }
      default:
        throw new UsageError(`Unknown command: ${command || '(none)'}`)
    }
  } finally {
    await runtime.close()
  }
}

async function main(argv: string[]): Promise<void> {
  const [command] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE)
    return
  }
  const config = loadConfig()
  if (command === 'serve') return runServer(config)
  if (command === 'migrate') {
    const runtime = await startRuntime(config, { logger: createLogger('warn') })
    await runtime.close()
    process.stdout.write('Migrations applied.\n')
    return
  }
  return admin(config, argv)
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`scimd: ${err.message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`scimd: ${err.message}\n`)
    process.exit(2)
  }
  if (err instanceof ScimError) {
    process.stderr.write(`scimd: ${err.detail}\n`)
    process.exit(1)
  }
  process.stderr.write(`scimd: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
