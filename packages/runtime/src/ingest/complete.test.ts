import { describe, expect, it } from '@jest/globals'
import type { SegmentEvent } from '@segment/actions-core'
import { allowedByIntegrations, completeMessage } from './complete'

const receivedAt = new Date('2026-11-20T12:00:00.000Z')
const base = { type: 'track', event: 'E', userId: 'u', messageId: 'm-1' } as SegmentEvent

describe('completeMessage', () => {
  it('sets receivedAt, and timestamp to it when the message has none', () => {
    expect(completeMessage(base, { receivedAt, overwriteReceivedAt: true })).toStrictEqual({
      ...base,
      receivedAt: '2026-11-20T12:00:00.000Z',
      timestamp: '2026-11-20T12:00:00.000Z'
    })
  })

  it('generates a messageId when there is none', () => {
    const { messageId: _none, ...withoutId } = base
    const completed = completeMessage(withoutId as SegmentEvent, { receivedAt, overwriteReceivedAt: true })
    expect(completed.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('corrects clock skew from sentAt: timestamp = receivedAt − (sentAt − originalTimestamp)', () => {
    // The device is 2 hours behind: it sent at 10:00:03 (its clock) what happened at 10:00:00 (its clock).
    const event = { ...base, timestamp: '2026-11-20T10:00:00.000Z', sentAt: '2026-11-20T10:00:03.000Z' }
    expect(completeMessage(event, { receivedAt, overwriteReceivedAt: true })).toMatchObject({
      timestamp: '2026-11-20T11:59:57.000Z',
      originalTimestamp: '2026-11-20T10:00:00.000Z',
      receivedAt: '2026-11-20T12:00:00.000Z'
    })
  })

  it('takes the batch’s sentAt when the message has none; keeps the timestamp without any sentAt', () => {
    const event = { ...base, timestamp: '2026-11-20T10:00:00.000Z' }
    expect(completeMessage(event, { receivedAt, overwriteReceivedAt: true }, '2026-11-20T10:00:01.000Z')).toMatchObject(
      { timestamp: '2026-11-20T11:59:59.000Z', originalTimestamp: '2026-11-20T10:00:00.000Z' }
    )
    expect(completeMessage(event, { receivedAt, overwriteReceivedAt: true })).toStrictEqual({
      ...event,
      receivedAt: '2026-11-20T12:00:00.000Z'
    })
  })

  it('keeps a message’s receivedAt unless told to overwrite it, and completing twice changes nothing', () => {
    const event = {
      ...base,
      timestamp: '2026-11-20T10:00:00.000Z',
      sentAt: '2026-11-20T10:00:03.000Z',
      receivedAt: '2026-11-20T10:30:00.000Z'
    }
    const once = completeMessage(event, { receivedAt, overwriteReceivedAt: false })
    expect(once).toMatchObject({ receivedAt: '2026-11-20T10:30:00.000Z', timestamp: '2026-11-20T10:29:57.000Z' })
    expect(completeMessage(once, { receivedAt, overwriteReceivedAt: false })).toStrictEqual(once)
    expect(completeMessage(event, { receivedAt, overwriteReceivedAt: true }).receivedAt).toBe(
      '2026-11-20T12:00:00.000Z'
    )
  })

  it('replaces a timestamp that is not a date with receivedAt', () => {
    const event = { ...base, timestamp: 'yesterday' }
    expect(completeMessage(event, { receivedAt, overwriteReceivedAt: true }).timestamp).toBe('2026-11-20T12:00:00.000Z')
  })
})

describe('allowedByIntegrations', () => {
  const tray = { id: 'tray-eu', integration: 'tray', name: 'Tray.io (Actions)' }

  it('lets everything through without an integrations object, or with one that is not an object', () => {
    expect(allowedByIntegrations(undefined, tray)).toBe(true)
    expect(allowedByIntegrations(['All'], tray)).toBe(true)
    expect(allowedByIntegrations({}, tray)).toBe(true)
  })

  it('All false turns everything off but what is named with a truthy value', () => {
    expect(allowedByIntegrations({ All: false }, tray)).toBe(false)
    expect(allowedByIntegrations({ All: false, 'Tray.io (Actions)': true }, tray)).toBe(true)
    expect(allowedByIntegrations({ All: false, 'Tray.io': { option: 1 } }, tray)).toBe(true)
    expect(allowedByIntegrations({ All: false, 'tray-eu': true }, tray)).toBe(true)
    expect(allowedByIntegrations({ All: false, MoEngage: true }, tray)).toBe(false)
  })

  it('a name set to false turns that destination off; others stay on', () => {
    expect(allowedByIntegrations({ tray: false }, tray)).toBe(false)
    expect(allowedByIntegrations({ TRAY: false }, tray)).toBe(false)
    expect(allowedByIntegrations({ MoEngage: false }, tray)).toBe(true)
  })

  it('an exact match wins over a case-insensitive one', () => {
    expect(allowedByIntegrations({ All: false, tray: true, TRAY: false }, tray)).toBe(true)
    expect(allowedByIntegrations({ All: true, Tray: true, tray: false }, tray)).toBe(false)
  })
})
