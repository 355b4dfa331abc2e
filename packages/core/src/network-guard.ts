import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns'
import { BlockList, isIP } from 'node:net'

/*
 * Addresses a request whose target comes from a setting may not reach: sending customer data to an address inside the
 * runtime's own network would let a setting probe it (SSRF). Shared by Tray's workflow URLs and the runtime's live
 * transport. Refused: loopback, private (RFC 1918, RFC 4193), link-local, CGNAT, "this network",
 * benchmarking, documentation, multicast and reserved IPv4 ranges, and in IPv6 the ranges that embed an IPv4 address
 * (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), whose embedded address is what would be reached.
 *
 * IPv4-mapped addresses (`::ffff:10.0.0.1`) are unwrapped and their IPv4 address checked; the range is never put in the
 * block list, since `BlockList` then matches every plain IPv4 address too.
 */
const blockedV4 = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const) {
  blockedV4.addSubnet(network, prefix, 'ipv4')
}

const blockedV6 = new BlockList()
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local (AWS metadata: fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['ff00::', 8] // multicast
] as const) {
  blockedV6.addSubnet(network, prefix, 'ipv6')
}

/** The 16 bytes of an IPv6 address (with an embedded dotted IPv4 tail, if any). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1].split('.').map(Number)
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return groups.flatMap((group) => {
    const value = parseInt(group, 16)
    return [value >> 8, value & 0xff]
  })
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, in any notation) stands for, else undefined. */
function mappedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address)
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  return mapped ? bytes.slice(12).join('.') : undefined
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blockedV4.check(address, 'ipv4')
  if (family !== 6) return false
  const v4 = mappedIpv4(address)
  return v4 !== undefined ? blockedV4.check(v4, 'ipv4') : blockedV6.check(address, 'ipv6')
}

/** Names that are or lead to the local machine or network, whatever they resolve to. */
const LOCAL_NAMES = /^(localhost|.*\.localhost|.*\.local|.*\.internal|.*\.home\.arpa)$/i

/**
 * A name that is or leads to the local machine or network, whatever it resolves to: `localhost` (with or without a
 * trailing dot), `*.localhost`, `*.local`, `*.internal`, `*.home.arpa`, and any single-label name (`metadata`), which
 * can only resolve through a local search domain.
 */
export function isLocalName(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  if (isIP(host) !== 0) return false
  return LOCAL_NAMES.test(host) || !host.includes('.')
}

/** The `code` of a connection the guard refused. */
export const BLOCKED_ADDRESS_CODE = 'EBLOCKEDADDRESS'

export function blockedAddressError(hostname: string, address: string): NodeJS.ErrnoException {
  return Object.assign(
    new Error(
      `${hostname} resolves to ${address}, a private, loopback, link-local or metadata address; only public addresses can be reached`
    ),
    { code: BLOCKED_ADDRESS_CODE }
  )
}

export type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number
) => void

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
    if (refused) return callback(blockedAddressError(hostname, refused.address), [])
    if ((options as LookupAllOptions).all) return callback(null, list)
    const first = list[0]
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), [])
    return callback(null, first.address, first.family)
  })
}
