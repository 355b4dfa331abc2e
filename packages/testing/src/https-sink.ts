import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'

/** The test certificate authority (a self-signed certificate for 127.0.0.1 and localhost): `network.caFile`. */
export const TEST_CA_FILE = join(__dirname, '..', 'fixtures', 'tls', 'cert.pem')
const TEST_KEY_FILE = join(__dirname, '..', 'fixtures', 'tls', 'key.pem')

export interface SinkRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

export interface HttpsSink {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string
  /** Every request received, in order. */
  readonly requests: SinkRequest[]
  /** Connections accepted, TLS handshakes completed, and of those how many resumed an earlier session. */
  readonly counters: { connections: number; tlsHandshakes: number; resumedSessions: number }
  close(): Promise<void>
}

export interface HttpsSinkOptions {
  /** Answer chunked (no Content-Length), as most servers do. Default true. */
  readonly chunked?: boolean
  /** The answer's status (200 by default). */
  readonly status?: number
  /** Keep-alive idle timeout of the server, in ms (Node's default 5,000). */
  readonly keepAliveTimeoutMs?: number
}

/**
 * An HTTPS vendor on loopback for live-transport tests and benchmarks: real TLS with the test certificate, answers
 * `{"ok":true}` — chunked by default, the answer node-fetch misreads on a reused connection — and counts what arrives.
 */
export async function startHttpsSink(options: HttpsSinkOptions = {}): Promise<HttpsSink> {
  const requests: SinkRequest[] = []
  const counters = { connections: 0, tlsHandshakes: 0, resumedSessions: 0 }
  const sockets = new Set<Socket>()
  const server: Server = createServer(
    { key: readFileSync(TEST_KEY_FILE), cert: readFileSync(TEST_CA_FILE) },
    (request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        requests.push({
          method: request.method ?? 'GET',
          path: request.url ?? '/',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8')
        })
        const body = '{"ok":true}'
        if (options.chunked === false) {
          response.writeHead(options.status ?? 200, {
            'content-type': 'application/json',
            'content-length': String(body.length)
          })
          response.end(body)
          return
        }
        response.writeHead(options.status ?? 200, { 'content-type': 'application/json' })
        response.write(body.slice(0, 5))
        response.end(body.slice(5))
      })
    }
  )
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000
  server.on('connection', (socket: Socket) => {
    counters.connections += 1
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('secureConnection', (socket: { isSessionReused(): boolean }) => {
    counters.tlsHandshakes += 1
    if (socket.isSessionReused()) counters.resumedSessions += 1
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    counters,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
