import { request as httpsRequest } from 'node:https'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { describe, expect, it } from '@jest/globals'
import { createGuardedAgent } from './workflow-url'

// No nock here: the guard is tried on a real socket, as it runs.
describe('the guarded agent', () => {
  it('checks the address actually connected to, which also covers IP literals (they skip the lookup)', async () => {
    // A server that accepts and says nothing: whatever happens to the connection is the guard's doing.
    const sockets: Socket[] = []
    const server = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const request = httpsRequest({ host: '127.0.0.1', port, method: 'POST', agent: createGuardedAgent() })
        request.on('error', resolve)
        request.end('{}')
      })
      expect(error).toMatchObject({
        code: 'EBLOCKEDADDRESS',
        message:
          '127.0.0.1 resolves to 127.0.0.1, a private, loopback, link-local or metadata address; only public addresses can be reached'
      })
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })

  it('is one agent per request: two never share sockets', () => {
    expect(createGuardedAgent()).not.toBe(createGuardedAgent())
  })
})
