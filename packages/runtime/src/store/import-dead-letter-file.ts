import { existsSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { SegmentEvent } from '@segment/actions-core'
import type { SqliteStore } from './sqlite-store'
import type { DeadLetter } from './store'

interface FileLetter {
  readonly kind: 'dead-letter'
  readonly id: string
  readonly at: string
  readonly instance: string
  readonly partnerAction: string
  readonly subscription: string
  readonly eventId: string
  readonly event: SegmentEvent
  readonly status?: number
  readonly reason: string
  readonly attempts: number
}

type FileLine = FileLetter | { readonly kind: 'replayed'; readonly id: string }

/**
 * Reads the append-only NDJSON dead-letter file of earlier releases: `dead-letter` lines, folded with the `replayed`
 * lines that removed them. A torn last line (the process died mid-write) is skipped.
 */
export function readDeadLetterFile(file: string, integrationOf: (instance: string) => string): DeadLetter[] {
  const letters = new Map<string, DeadLetter>()
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue
    let line: FileLine
    try {
      line = JSON.parse(text) as FileLine
    } catch {
      continue
    }
    if (line.kind === 'replayed') letters.delete(line.id)
    else if (line.kind === 'dead-letter')
      letters.set(line.id, {
        id: line.id,
        at: line.at,
        instance: line.instance,
        integration: integrationOf(line.instance),
        partnerAction: line.partnerAction,
        subscription: line.subscription,
        eventId: line.eventId,
        event: line.event,
        status: line.status,
        reason: line.reason,
        attempts: line.attempts
      })
  }
  return [...letters.values()]
}

/**
 * Imports a dead-letter file once: the store records the file's path, size and modification time, so the same file
 * is not read again at the next start (and ids already in the store are skipped in any case). From then on the store
 * is the record; the file is left as it is.
 */
export async function importDeadLetterFile(
  store: SqliteStore,
  file: string,
  integrationOf: (instance: string) => string
): Promise<number> {
  const path = resolve(file)
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  const fingerprint = `${stat.size}:${stat.mtimeMs}`
  const key = `imported:${path}`
  if (store.getMeta(key) === fingerprint) return 0
  const imported = await store.importDeadLetters(readDeadLetterFile(path, integrationOf))
  store.setMeta(key, fingerprint)
  return imported
}
