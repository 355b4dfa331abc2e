import { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { HttpError } from './errors'

/** The client closed the connection before its request was read: nobody is left to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away before its request was read')
    this.name = 'ClientGoneError'
  }
}

/** Node's request behind a Hono context, when served by @hono/node-server. */
function incomingOf(c: Context): IncomingMessage | undefined {
  const env = c.env as { incoming?: unknown } | undefined
  return env?.incoming instanceof IncomingMessage ? env.incoming : undefined
}

/**
 * The body's bytes, at most `limit` of them whether it declares its length or comes chunked: past it, 413 (and the
 * connection is closed, the rest unread). Read from Node's request, so a client that goes away ends the read at once
 * (ClientGoneError) instead of leaving it waiting.
 */
export async function readBody(c: Context, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `the body is over ${limit} bytes`, { connection: 'close' })
  const declared = Number(c.req.header('content-length'))
  if (Number.isFinite(declared) && declared > limit) throw tooLarge()
  const incoming = incomingOf(c)
  if (!incoming) return Buffer.from(await c.req.arrayBuffer())
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        incoming.resume()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks))
    }
    const onGone = () => {
      cleanup()
      reject(new ClientGoneError())
    }
    const cleanup = () => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('aborted', onGone)
      incoming.off('error', onGone)
      incoming.off('close', onClose)
    }
    const onClose = () => {
      if (!incoming.complete) onGone()
    }
    if (incoming.readableEnded) return resolve(Buffer.alloc(0))
    incoming.on('data', onData)
    incoming.once('end', onEnd)
    incoming.once('aborted', onGone)
    incoming.once('error', onGone)
    incoming.once('close', onClose)
  })
}

/** A JSON body: `Content-Type: application/json` (415 otherwise), parsed (400 with the parser's reason otherwise). */
export async function readJson(c: Context, limit: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, `send Content-Type: application/json (got ${type.slice(0, 100) || 'none'})`)
  const text = (await readBody(c, limit)).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`)
  }
}
