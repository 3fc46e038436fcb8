/** Structured JSON logs on stdout, one object a line; callers must never pass secrets. */
import type { LogLevel } from './config.js'

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /** Whether entries of this level are written, for callers whose fields cost to build. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean
}

/** Field names whose values are always replaced, whatever a caller passes. */
const REDACTED = /authorization|token|password|secret|key/i

export function createLogger(level: LogLevel, write: (line: string) => void = stdoutWrite): Logger {
  const threshold = ORDER[level]
  const log = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg }
    if (fields) {
      for (const [k, v] of Object.entries(fields)) entry[k] = REDACTED.test(k) ? '[redacted]' : v
    }
    write(JSON.stringify(entry))
  }
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    enabled: (lvl) => ORDER[lvl] >= threshold,
  }
}

function stdoutWrite(line: string): void {
  process.stdout.write(`${line}\n`)
}
