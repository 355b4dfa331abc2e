import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'

/** Another runtime process already uses this state directory. */
export class StateDirInUseError extends Error {
  constructor(readonly stateDir: string) {
    super(`the state directory ${stateDir} is in use by another open-actions process (one process per stateDir)`)
    this.name = 'StateDirInUseError'
  }
}

export interface StateDirLock {
  readonly stateDir: string
  release(): void
}

/** Creates the state directory (0700) if needed, and a file in it readable by the owner only (0600). */
export function prepareStateFile(stateDir: string, name: string): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const file = join(stateDir, name)
  closeSync(openSync(file, 'a', 0o600))
  chmodSync(file, 0o600)
  return file
}

/**
 * Takes the state directory for this process. The lock is an exclusive SQLite transaction held open on a small lock
 * file: the kernel releases it when the process ends, however it ends, so a `kill -9` never leaves a stale lock (a
 * PID file would, and in containers the next process often has the same PID), and a second process is refused at once.
 */
export function lockStateDir(stateDir: string): StateDirLock {
  const directory = resolve(stateDir)
  const file = prepareStateFile(directory, 'runtime.lock')
  const lock = new Database(file, { timeout: 0 })
  try {
    lock.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    lock.close()
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new StateDirInUseError(directory)
    throw error
  }
  return {
    stateDir: directory,
    release() {
      if (lock.open) lock.close()
    }
  }
}
