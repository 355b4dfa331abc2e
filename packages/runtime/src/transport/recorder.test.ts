import { describe, expect, it } from '@jest/globals'
import { DeliveryRecorder } from './recorder'

const request = (instance: string, eventId: string, body: unknown = undefined) => ({
  at: '2026-01-01T00:00:00.000Z',
  transport: 'sandbox' as const,
  instance,
  action: 'send',
  eventIds: [eventId],
  method: 'POST',
  url: 'https://api.example.com/v1',
  headers: {},
  body
})

describe('DeliveryRecorder', () => {
  it('keeps the last `capacity` requests: ids keep counting, lists are newest first and filtered', () => {
    const recorder = new DeliveryRecorder(3)
    for (let n = 1; n <= 7; n++) recorder.add(request(n % 2 === 0 ? 'even' : 'odd', `e${n}`))

    expect(recorder.total).toBe(7)
    expect(recorder.list().map((record) => record.id)).toStrictEqual([7, 6, 5])
    expect(recorder.list({ instance: 'odd' }).map((record) => record.eventIds[0])).toStrictEqual(['e7', 'e5'])
    expect(recorder.list({ eventId: 'e6' }).map((record) => record.id)).toStrictEqual([6])
    expect(recorder.list({ limit: 2 }).map((record) => record.id)).toStrictEqual([7, 6])
  })

  it('forgets the requests of given events or that mention a value, then fills up again in order', () => {
    const recorder = new DeliveryRecorder(4)
    for (let n = 1; n <= 6; n++) recorder.add(request('a', `e${n}`, { email: n === 4 ? 'jane@example.com' : 'x' }))

    expect(recorder.forget(['e3'], ['jane@example.com'])).toBe(2)
    expect(recorder.list().map((record) => record.id)).toStrictEqual([6, 5])
    for (let n = 7; n <= 9; n++) recorder.add(request('a', `e${n}`))
    expect(recorder.list().map((record) => record.id)).toStrictEqual([9, 8, 7, 6])
  })
})
