import type { Logger as ActionsCoreLogger } from '@segment/actions-core'
import type { Redactor } from '@open-actions/core'
import { pino, stdTimeFunctions } from 'pino'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/**
 * JSON logs on pino, one object per line (`{"level":"info","time":"…","msg":"…",…}`), every field and message passed
 * through core's redactor before pino sees it: the one redaction path the API, the tester and the metrics use too.
 */
export function createLogger(options: {
  readonly level: LogLevel
  readonly redactor: Redactor
  /** Where lines go (stdout by default); each call gets one whole line. */
  readonly write?: (line: string) => void
}): Logger {
  const destination = options.write ? { write: options.write } : pino.destination({ dest: 1, sync: true })
  const base = pino(
    {
      level: options.level,
      base: undefined,
      messageKey: 'msg',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) }
    },
    destination
  )
  const log = (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    if (!base.isLevelEnabled(level)) return
    base[level](options.redactor.value(fields), options.redactor.text(message))
  }
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields)
  }
}

/**
 * actions-core's `logger` option for one delivery: what an action logs goes to the runtime's log (redacted), with the
 * instance and action it came from. `crit` is logged as an error; `log` as info.
 */
export function actionsCoreLogger(logger: Logger, fields: Record<string, unknown>): ActionsCoreLogger {
  let tags: Record<string, unknown> = {}
  const at =
    (level: LogLevel) =>
    (...message: string[]) =>
      logger[level](message.join(' '), { ...fields, ...tags, from: 'action' })
  return {
    level: 'debug',
    name: 'open-actions',
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    crit: at('error'),
    log: at('info'),
    withTags(extraTags: unknown) {
      if (typeof extraTags === 'object' && extraTags !== null) tags = { ...tags, ...(extraTags as object) }
    }
  }
}
