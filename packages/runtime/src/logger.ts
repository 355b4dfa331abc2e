import type { Redactor } from '@open-actions/core'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Structured logs: one JSON object per line, every string passed through the redactor. */
export function createLogger(options: {
  readonly level: LogLevel
  readonly redactor: Redactor
  readonly write?: (line: string) => void
}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line))
  const log = (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < ORDER[options.level]) return
    write(
      `${JSON.stringify(options.redactor.value({ time: new Date().toISOString(), level, msg: message, ...fields }))}\n`
    )
  }
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields)
  }
}
