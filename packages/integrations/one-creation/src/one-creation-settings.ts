import { z } from 'zod'

/** The four fields of One Creation's Segment setup (its integration guide, steps 4–13). */
export const oneCreationSettingsSchema = z.strictObject({
  write_key: z.string().trim().min(1, 'is required: copy the Write Key of the One Creation source in Segment'),
  access_token: z.string().trim().min(1, 'is required: generate one under Unify → Unify settings → API access'),
  space_id: z
    .string()
    .trim()
    .min(1, 'is required: copy it from Unify → Unify settings → API access')
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a Segment space id such as spa_w3sTlv2fRs (letters, digits, _ and -)'),
  region: z
    .enum(['us', 'eu'], { error: 'must be "us" (the default) or "eu", the region of your Segment workspace' })
    .default('us')
})
export type OneCreationSettings = z.output<typeof oneCreationSettingsSchema>
export type OneCreationSettingsInput = z.input<typeof oneCreationSettingsSchema>

/** Which of the settings are secrets, for redaction. */
export const SECRET_SETTINGS = ['write_key', 'access_token'] as const
