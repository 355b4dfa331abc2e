import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { randomUUID } from 'node:crypto'
import type { SegmentEvent } from '@segment/actions-core'

export interface DeadLetter {
  readonly id: string
  readonly at: string
  readonly instance: string
  readonly partnerAction: string
  readonly subscription: string
  readonly eventId: string
  readonly event: SegmentEvent
  readonly status: number | undefined
  readonly reason: string
  readonly attempts: number
}

type Line =
  | ({ readonly kind: 'dead-letter' } & DeadLetter)
  | { readonly kind: 'replayed'; readonly id: string; readonly at: string }

/**
 * The embedded dead-letter store: an append-only NDJSON file. Replaying appends a `replayed` line instead of
 * rewriting the file, so a crash can never lose an entry; `list()` folds the lines. Reasons are stored as
 * given, so callers redact them first.
 */
export class DeadLetterStore {
  private readonly entries = new Map<string, DeadLetter>()

  constructor(private readonly file: string) {
    if (existsSync(file)) {
      for (const text of readFileSync(file, 'utf8').split('\n')) {
        if (text.trim() === '') continue
        try {
          const line = JSON.parse(text) as Line
          if (line.kind === 'dead-letter') {
            const { kind: _kind, ...entry } = line
            this.entries.set(entry.id, entry)
          } else if (line.kind === 'replayed') this.entries.delete(line.id)
        } catch {
          // A torn last line (the process died mid-write) is skipped; every complete line before it is kept.
        }
      }
    }
  }

  add(entry: Omit<DeadLetter, 'id' | 'at'>): DeadLetter {
    const letter: DeadLetter = { id: randomUUID(), at: new Date().toISOString(), ...entry }
    this.append({ kind: 'dead-letter', ...letter })
    this.entries.set(letter.id, letter)
    return letter
  }

  markReplayed(id: string): void {
    if (!this.entries.has(id)) return
    this.append({ kind: 'replayed', id, at: new Date().toISOString() })
    this.entries.delete(id)
  }

  list(): DeadLetter[] {
    return [...this.entries.values()]
  }

  get(id: string): DeadLetter | undefined {
    return this.entries.get(id)
  }

  get size(): number {
    return this.entries.size
  }

  private append(line: Line): void {
    mkdirSync(dirname(this.file), { recursive: true })
    appendFileSync(this.file, `${JSON.stringify(line)}\n`, 'utf8')
  }
}
