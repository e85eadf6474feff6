// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Structured logging to stdout. Callers pass only fields they chose; nothing
 * here serialises requests, headers or cookies, so secrets cannot slip in.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type Logger = {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

export function createLogger(opts: { level: Level; format: 'json' | 'text'; write?: (line: string) => void }): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'))
  const min = ORDER[opts.level]
  const log = (level: Level, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < min) return
    const time = new Date().toISOString()
    if (opts.format === 'json') {
      write(JSON.stringify({ time, level, msg, ...fields }))
    } else {
      const kv = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length ? ' ' + kv.join(' ') : ''}`)
    }
  }
  return {
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  }
}

export const silentLogger: Logger = createLogger({ level: 'error', format: 'json', write: () => {} })
