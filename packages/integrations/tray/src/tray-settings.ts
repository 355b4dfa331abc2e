import type { GlobalSetting } from '@segment/actions-core'

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const
export const CHANNELS = ['server', 'browser', 'mobile'] as const
/** Segment's Tray.io docs and the classic integration: at most 10 workflows. */
export const MAX_WORKFLOWS = 10

export interface TraySettings {
  workflows: string[]
  shared_secret?: string
  /** The classic integration's name for `shared_secret`, accepted so its configurations port over. */
  sharedSecret?: string
  allow_insecure_urls?: boolean
}

/** The shared secret, under either name (`shared_secret` wins when both are set). */
export function sharedSecretOf(settings: TraySettings): string | undefined {
  return settings.shared_secret || settings.sharedSecret || undefined
}

export const traySettingsFields: Record<keyof TraySettings, GlobalSetting> = {
  workflows: {
    label: 'Workflow URLs',
    description:
      'Up to 10 Tray workflow public URLs (Workflow settings → General settings, https://<id>.trayapp.io). As in the classic integration, only the first 10 receive messages and an invalid URL is skipped (the result says why) while the others still receive. Each subscription can send to some of them only, and limit the message types ("Allowed events") and channels they receive.',
    type: 'string',
    multiple: true,
    required: true
  },
  shared_secret: {
    label: 'Shared Secret',
    description:
      'When set, each request carries X-Signature: the hex HMAC-SHA1 of the body with this secret, so the workflow can check it came from you.',
    type: 'password'
  },
  sharedSecret: {
    label: 'Shared Secret (classic name)',
    description: 'The same as Shared Secret, under the name the classic Tray.io integration used.',
    type: 'password'
  },
  allow_insecure_urls: {
    label: 'Allow Insecure Workflow URLs',
    description: 'For local testing only: accept http URLs and private or loopback hosts.',
    type: 'boolean',
    default: false
  }
}
