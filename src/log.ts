/**
 * Structured JSON logs, one line per call. Callers pass fields, never raw request bodies or
 * secrets: nothing here knows how to redact, so nothing secret may reach it.
 */
import type { LogLevel } from './config/types.ts'

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  debug(msg: string, fields?: Record<string, unknown>): void
  enabled(level: LogLevel): boolean
}

const rank: Record<LogLevel, number> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 }

/** A logger writing JSON lines to `write`, dropping lines below `level` (all of them when `enabled` is false). */
export function createLogger(
  opts: { level?: LogLevel; enabled?: boolean; write?: (line: string) => void; now?: () => number } = {},
): Logger {
  const { level = 'info', enabled = true, write = (l: string) => console.error(l), now = Date.now } = opts
  const min = enabled ? rank[level] : Infinity
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return
    write(JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, ...fields }))
  }
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    enabled: (lvl) => rank[lvl] >= min,
  }
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger({ enabled: false })
