import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns'
import { Agent as HttpsAgent } from 'node:https'
import { BlockList, isIP } from 'node:net'
import { InvalidSettingError } from '@open-actions/core'

/**
 * Addresses a workflow URL may not reach: loopback, private (RFC 1918, RFC 4193), link-local, CGNAT, "this
 * network", and cloud metadata endpoints. Sending customer data there would let a setting probe the network
 * the runtime runs in (SSRF).
 */
const blocked = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15]
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::ffff:0:0', 96]
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6')
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  if (family === 6 && address.toLowerCase().startsWith('::ffff:')) {
    const mapped = address.slice(7)
    if (isIP(mapped) === 4) return blocked.check(mapped, 'ipv4')
  }
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

const LOCAL_NAMES = /^(localhost|.*\.localhost|.*\.local|.*\.internal|metadata\.google\.internal)$/i

/**
 * A workflow URL, checked before anything is sent: `https` only, and no host that is or names a private,
 * loopback, link-local or metadata address. `allowInsecure` (for tests against local servers) lifts both.
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
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (LOCAL_NAMES.test(host) || isBlockedAddress(host)) {
    throw new InvalidSettingError(
      setting,
      `${host} is a private, loopback, link-local or metadata address; workflow URLs must be public`
    )
  }
  return url
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A DNS lookup that refuses names resolving to blocked addresses. Used as the agent's `lookup`, so the check
 * happens on the address actually connected to (no gap between checking and connecting for DNS rebinding).
 */
export function guardedLookup(
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  callback: LookupCallback
): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, [])
    const list = addresses as LookupAddress[]
    const refused = list.find((entry) => isBlockedAddress(entry.address))
    if (refused) {
      const refusal = Object.assign(
        new Error(
          `${hostname} resolves to ${refused.address}, a private, loopback, link-local or metadata address; workflow URLs must be public`
        ),
        { code: 'EBLOCKEDADDRESS' }
      )
      return callback(refusal, [])
    }
    if ((options as LookupAllOptions).all) return callback(null, list)
    const first = list[0]
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), [])
    return callback(null, first.address, first.family)
  })
}

/** A keep-alive agent whose lookups refuse private addresses (https only: plain http needs allowInsecure). */
export const guardedHttpsAgent = new HttpsAgent({ keepAlive: true, lookup: guardedLookup })
