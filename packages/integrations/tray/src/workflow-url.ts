import { Agent as HttpsAgent, type AgentOptions } from 'node:https'
import type { Socket } from 'node:net'
import {
  blockedAddressError,
  guardedLookup,
  InvalidSettingError,
  isBlockedAddress,
  isLocalName
} from '@open-actions/core'

/**
 * A workflow URL, checked before anything is sent: `https` only, and no host that is or names a private, loopback,
 * link-local or metadata address. A single-label name (`metadata`, `intranet`) is refused too: it can only resolve
 * through a local search domain. `allowInsecure` (for tests against local servers) lifts all of this.
 */
export function checkWorkflowUrl(raw: string, index: number, allowInsecure: boolean): URL {
  const setting = `workflows[${index}].url`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InvalidSettingError(setting, `${JSON.stringify(raw)} is not a URL`)
  }
  if (allowInsecure) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new InvalidSettingError(setting, `only http and https URLs can receive messages; got ${url.protocol}`)
    return url
  }
  if (url.protocol !== 'https:')
    throw new InvalidSettingError(
      setting,
      `must use https (got ${url.protocol.replace(':', '')}); turn on "Allow Insecure Workflow URLs" only for local testing`
    )
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  if (isLocalName(host) || isBlockedAddress(host)) {
    throw new InvalidSettingError(
      setting,
      `${host} is a private, loopback, link-local or metadata address; workflow URLs must be public`
    )
  }
  return url
}

/**
 * An agent for one request (actions-core destroys a caller's agent after each response, so sharing one across
 * concurrent requests would close their sockets): names are resolved through `guardedLookup`, and every connection is
 * checked once connected, which also covers IP-literal hosts that skip the lookup.
 */
export function createGuardedAgent(options: AgentOptions = {}): HttpsAgent {
  const agent = new HttpsAgent({ ...options, keepAlive: false, lookup: guardedLookup })
  const createConnection = (
    agent as unknown as { createConnection: (...args: unknown[]) => Socket }
  ).createConnection.bind(agent)
  ;(agent as unknown as { createConnection: (...args: unknown[]) => Socket }).createConnection = (
    ...args: unknown[]
  ) => {
    const socket = createConnection(...args)
    socket.once('connect', () => {
      const address = socket.remoteAddress
      if (address !== undefined && isBlockedAddress(address))
        socket.destroy(
          blockedAddressError(String((args[0] as { host?: string } | undefined)?.host ?? address), address)
        )
    })
    return socket
  }
  return agent
}
