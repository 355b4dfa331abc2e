import type { RuntimeConfigInput } from './config'

/**
 * The embedded defaults `pnpm start` runs with: one instance of every destination and source, in sandbox mode,
 * with placeholder credentials (the sandbox's simulators accept any well-formed credentials).
 */
export const sampleConfig: RuntimeConfigInput = {
  transport: 'sandbox',
  // Segment's SDKs and Tracking API (`POST /v1/batch`, `/v1/t`, …) send with this key, to every destination.
  writeKeys: { 'sandbox-tracking-write-key': {} },
  destinations: [
    {
      id: 'insider',
      integration: 'insider',
      settings: { account_name: 'sandboxstore', ucd_key: 'sandbox-insider-ucd-key' }
    },
    {
      id: 'insider-audiences',
      integration: 'insider',
      definition: 'audiences',
      settings: { account_name: 'sandboxstore', ucd_key: 'sandbox-insider-ucd-key' }
    },
    {
      id: 'moengage',
      integration: 'moengage',
      settings: { api_id: 'SANDBOXWS01', api_key: 'sandbox-moengage-data-key', region: 'DC_01' }
    },
    {
      id: 'onesignal',
      integration: 'onesignal',
      settings: { app_id: '00000000-0000-4000-8000-000000000001', api_key: 'sandbox-onesignal-app-key' }
    },
    { id: 'segment', integration: 'segment', settings: { write_key: 'sandbox-segment-write-key', region: 'us' } },
    {
      id: 'tray',
      integration: 'tray',
      settings: {
        workflows: ['https://0d4f2a1e-sandbox-one.trayapp.io', 'https://1b5e3c2f-sandbox-two.trayapp.io'],
        shared_secret: 'sandbox-tray-shared-secret'
      }
    }
  ],
  sources: [
    {
      id: 'onesignal',
      integration: 'onesignal',
      settings: { write_key: 'sandbox-onesignal-source-write-key', region: 'us' }
    },
    {
      id: 'one-creation',
      integration: 'one-creation',
      settings: {
        write_key: 'sandbox-one-creation-write-key',
        access_token: 'sandbox-one-creation-token',
        space_id: 'spa_sandbox',
        region: 'us'
      }
    }
  ]
}
