import { describe, expect, it } from '@jest/globals'
import { guardedLookup, isBlockedAddress, isLocalName } from './network-guard'

describe('the network guard', () => {
  it('allows every public address, IPv4 and IPv6, literal or IPv4-mapped', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '::ffff:8.8.8.8',
      '::ffff:808:808',
      '2606:4700:4700::1111'
    ])
      expect([address, isBlockedAddress(address)]).toStrictEqual([address, false])
  })

  it('refuses private, loopback, link-local, metadata, reserved and IPv4-embedding ranges', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::127.0.0.1',
      '64:ff9b::808:808',
      '2002:808:808::1',
      '2001:0:4136:e378::1',
      'fe80::1',
      'fd00:ec2::254',
      'ff02::1'
    ])
      expect([address, isBlockedAddress(address)]).toStrictEqual([address, true])
  })

  it('names local names, with or without a trailing dot, and single labels', () => {
    expect(
      [
        'localhost',
        'localhost.',
        'api.localhost',
        'printer.local',
        'metadata.google.internal',
        'metadata',
        'nas.home.arpa'
      ].map(isLocalName)
    ).toStrictEqual(Array(7).fill(true))
    expect(['api.segment.io', 'example.com.', '8.8.8.8'].map(isLocalName)).toStrictEqual([false, false, false])
  })

  it('refuses a name resolving to a blocked address in the lookup itself', async () => {
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      guardedLookup('localhost', {}, (error) => resolve(error))
    )
    expect(refused).toMatchObject({ code: 'EBLOCKEDADDRESS' })
    const allowed = await new Promise<unknown>((resolve, reject) =>
      guardedLookup('1.1.1.1', {}, (error, address) => (error ? reject(error) : resolve(address)))
    )
    expect(allowed).toBe('1.1.1.1')
  })
})
