import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { TEST_CA_FILE } from '@open-actions/testing/https-sink'
import type { ConfigError } from './config'
import { configSecrets, resolveConfig } from './config'
import { sampleConfig } from './sample-config'
import { configProblems } from './runtime-harness.test-helpers'
import { registry } from './start'

const problemsOf = configProblems

describe('configuration validation', () => {
  it('accepts the embedded sample: one instance of every destination and source', () => {
    const resolved = resolveConfig(sampleConfig, registry)
    expect(
      resolved.destinations.map((destination) => `${destination.integration}/${destination.definitionKey}`)
    ).toStrictEqual([
      'insider/destination',
      'insider/audiences',
      'moengage/destination',
      'onesignal/destination',
      'segment/destination',
      'tray/destination'
    ])
    expect(resolved.sources.map((source) => source.integration)).toStrictEqual(['onesignal', 'one-creation'])
    expect(resolved.config.transport).toBe('sandbox')
  })

  it('gives each instance its client and egress rule, and reads network.caFile once', () => {
    const resolved = resolveConfig(
      {
        network: { allowPrivateNetworks: false, caFile: TEST_CA_FILE },
        destinations: [
          { id: 'a', integration: 'segment', settings: { write_key: 'w', region: 'us' } },
          {
            id: 'b',
            integration: 'segment',
            settings: { write_key: 'w', region: 'us' },
            client: 'actions-core',
            allowPrivateNetworks: true
          }
        ]
      },
      registry
    )
    expect(
      resolved.destinations.map(({ id, client, allowPrivateNetworks }) => [id, client, allowPrivateNetworks])
    ).toStrictEqual([
      ['a', 'runtime', false],
      ['b', 'actions-core', true]
    ])
    expect(resolved.extraCa).toBe(readFileSync(TEST_CA_FILE, 'utf8'))
    expect(
      problemsOf({
        network: { caFile: '/nonexistent/ca.pem' },
        destinations: [{ id: 'c', integration: 'segment', settings: { write_key: 'w', region: 'us' }, client: 'fetch' }]
      })
    ).toStrictEqual(['destinations[0].client: Invalid option: expected one of "runtime"|"actions-core"'])
    expect(problemsOf({ network: { caFile: '/nonexistent/ca.pem' } })).toStrictEqual([
      "network.caFile: cannot read /nonexistent/ca.pem: ENOENT: no such file or directory, open '/nonexistent/ca.pem'"
    ])
    expect(problemsOf({ network: { caFile: join(__dirname, 'sample-config.ts') } })).toStrictEqual([
      `network.caFile: ${join(__dirname, 'sample-config.ts')} holds no PEM certificate`
    ])
  })

  it('reads ${NAME} from the environment, so secrets stay out of the file, and names a missing variable', () => {
    const raw = {
      destinations: [
        {
          id: 'moe',
          integration: 'moengage',
          settings: { api_id: 'WS1', api_key: '${MOE_KEY}', region: 'DC_${MOE_DC}' }
        },
        { id: 'seg', integration: 'segment', settings: { write_key: 'literal-$${not-a-ref}', region: 'us' } }
      ]
    }
    const resolved = resolveConfig(raw, registry, 'runtime.json', { MOE_KEY: 'moe-secret-from-env', MOE_DC: '02' })
    expect(resolved.destinations[0]?.settings).toStrictEqual({
      api_id: 'WS1',
      api_key: 'moe-secret-from-env',
      region: 'DC_02'
    })
    expect(resolved.destinations[1]?.settings.write_key).toBe('literal-${not-a-ref}')
    // A secret from the environment is a secret like any other: redacted everywhere.
    expect(configSecrets(resolved)).toContain('moe-secret-from-env')
    let problems: readonly string[] = []
    try {
      resolveConfig(raw, registry, 'runtime.json', { MOE_DC: '02' })
    } catch (error) {
      problems = (error as ConfigError).problems
    }
    expect(problems).toStrictEqual(['destinations[0].settings.api_key: the environment variable MOE_KEY is not set'])
    expect(problemsOf({ stateDir: '${not a name}' })).toStrictEqual([
      'stateDir: "${not a name}" is not an environment variable reference'
    ])
  })

  it('reads write keys (from the environment too), checks their destinations, and keeps them secret', () => {
    const raw = {
      destinations: [{ id: 'tray', integration: 'tray', settings: { workflows: ['https://a.trayapp.io'] } }],
      writeKeys: { '${WEB_WRITE_KEY}': { destinations: ['tray'] }, 'server-side-write-key': {} }
    }
    const resolved = resolveConfig(raw, registry, 'runtime.json', { WEB_WRITE_KEY: 'web-key-from-env' })
    expect(resolved.config.writeKeys).toStrictEqual({
      'web-key-from-env': { destinations: ['tray'] },
      'server-side-write-key': {}
    })
    expect(configSecrets(resolved)).toEqual(expect.arrayContaining(['web-key-from-env', 'server-side-write-key']))
    expect(problemsOf({ ...raw, writeKeys: { '${WEB_WRITE_KEY}': {} } })).toStrictEqual([
      'writeKeys.(a key): the environment variable WEB_WRITE_KEY is not set'
    ])
    expect(
      problemsOf({ ...raw, writeKeys: { 'secret-but-unknown-dest': { destinations: ['moengage'] } } })
    ).toStrictEqual([
      'writeKeys (key 1).destinations: no destination instance "moengage" is configured (configured: tray)'
    ])
    // A problem never shows the key itself.
    expect(problemsOf({ ...raw, writeKeys: { short: {}, 'long-enough-key': { destinations: [] } } })).toStrictEqual([
      'writeKeys.(a key): a write key must have at least 8 characters (it is a secret)',
      'writeKeys.(a key).destinations: Too small: expected array to have >=1 items'
    ])
  })

  it('names the file, the instance and the key of every problem', () => {
    const problems = problemsOf({
      destinations: [
        { id: 'insider', integration: 'insidr', settings: {} },
        {
          id: 'moe',
          integration: 'moengage',
          settings: { api_id: 'a', api_key: 'k', region: 'DC_09', apikey: 'typo' }
        },
        { id: 'moe', integration: 'moengage', definition: 'audiences', settings: {} },
        {
          id: 'seg',
          integration: 'segment',
          settings: { write_key: 'w', region: 'us' },
          subscriptions: [
            { partnerAction: 'sendEverything', subscribe: 'type = "track"' },
            { partnerAction: 'sendTrack', subscribe: 'type = "track" and (' }
          ]
        }
      ],
      sources: [{ id: 'oc', integration: 'one-creation', settings: { write_key: 'w' } }]
    })
    expect(problems).toStrictEqual([
      `destinations[0] "insider": integration "insidr" is not installed (installed: ${[...registry.keys()].join(', ')})`,
      'destinations[1] "moe": settings.apikey is not a setting of MoEngage (Actions) (settings: api_id, api_key, region)',
      'destinations[1] "moe": settings: Data Center must be one of: "DC_01", "DC_02", "DC_03", "DC_04", "DC_05", "DC_06", or "DC_101".',
      'destinations[2] "moe": the id is used twice',
      'destinations[2] "moe": moengage has no destination "audiences" (it has: destination)',
      'destinations[3] "seg": subscriptions[0].partnerAction: "sendEverything" is not an action of Open Actions Segment (actions: sendIdentify, sendTrack, sendPage, sendScreen, sendGroup, sendAlias)',
      'destinations[3] "seg": subscriptions[1].subscribe: "type = \\"track\\" and (" is not valid FQL',
      'sources[0] "oc": settings.access_token Invalid input: expected string, received undefined',
      'sources[0] "oc": settings.space_id Invalid input: expected string, received undefined'
    ])
  })

  it('reports shape errors with their path', () => {
    expect(
      problemsOf({ transport: 'carrier-pigeon', destinations: [{ id: 'Bad Id', integration: 'segment' }] })
    ).toStrictEqual([
      'transport: Invalid option: expected one of "sandbox"|"live"',
      'destinations[0].id: must be lower-case letters, digits, - and _ (at most 63)'
    ])
  })

  it("limits sends per instance: delivery.maxConcurrent (64 by default), or an instance's own", () => {
    const [insider, moengage] = sampleConfig.destinations ?? []
    if (!insider || !moengage) throw new Error('the sample has Insider and MoEngage first')
    const byDefault = resolveConfig({ ...sampleConfig, destinations: [insider] }, registry)
    expect(byDefault.destinations.map((destination) => destination.maxConcurrent)).toStrictEqual([64])
    const resolved = resolveConfig(
      { ...sampleConfig, destinations: [insider, { ...moengage, maxConcurrent: 4 }], delivery: { maxConcurrent: 16 } },
      registry
    )
    expect(resolved.destinations.map((destination) => [destination.id, destination.maxConcurrent])).toStrictEqual([
      [insider.id, 16],
      [moengage.id, 4]
    ])
    expect(problemsOf({ ...sampleConfig, delivery: { maxConcurrent: 0 } })).toStrictEqual([
      'delivery.maxConcurrent: Too small: expected number to be >=1'
    ])
  })

  it('puts the file name first in the message', () => {
    expect(() => resolveConfig({ destinations: [{ id: 'x', integration: 'nope' }] }, registry, 'runtime.json')).toThrow(
      /^Invalid configuration runtime\.json:\n {2}- destinations\[0\] "x"/
    )
  })
})
