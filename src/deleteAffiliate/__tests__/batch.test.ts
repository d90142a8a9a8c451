import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../index'
import { batchStatuses, counted, p, refersion, useOfflineNock } from '../../__tests__/__helpers__/refersion'

const testDestination = createTestIntegration(destination)

// The affiliate cache is off here, as for the createAffiliate batches; src/__tests__/request-economy.test.ts covers
// what deletes do to it.
useOfflineNock({ REFERSION_CACHE: 'off' })

type Event = Partial<SegmentEvent>

/** Runs performBatch and returns the per-event statuses Segment would see. */
const batch = (events: Event[], mapping: JSONObject = {}) =>
  batchStatuses(testDestination, 'deleteAffiliate', events, mapping)

describe('deleteAffiliate performBatch', () => {
  const byId = (id: number): Event => ({ type: 'delete', userId: `u-${id}`, properties: { affiliateId: String(id) } })
  const mapping = { affiliateId: { '@path': '$.properties.affiliateId' } }

  it('120 deletes by numeric id → exactly 3 status_change calls (50 + 50 + 20), every event 200', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => i + 1)
    const chunks = [ids.slice(0, 50), ids.slice(50, 100), ids.slice(100)]
    let scope = refersion()
    for (const chunk of chunks) {
      scope = scope
        .post(p('/affiliate/status_change'), { ids: chunk, status: 'DISABLED' })
        .reply(200, { ids_changed: chunk, ids_not_changed: [] })
    }
    const sent = counted(scope)
    const statuses = await batch(ids.map(byId), mapping)
    expect(scope.isDone()).toBe(true)
    expect(sent.requests).toBe(3)
    expect(statuses).toHaveLength(120)
    expect(statuses.every((s) => s.status === 200)).toBe(true)
  })

  it('a partial ids_not_changed fails only those events', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [11, 12, 13], status: 'DISABLED' })
      .reply(200, { ids_changed: [11, 13], ids_not_changed: [12] })
      .post(p('/affiliate/get'), { id: 12 })
      .reply(200, { id: 12, status: 'ACTIVE' })
    const statuses = await batch([byId(11), byId(12), byId(13)], mapping)
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 422, 200])
    expect(statuses[1].errormessage).toContain('ids_not_changed')
  })

  it('an ids_not_changed affiliate that already has the status succeeds (a redelivered delete)', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [21, 22], status: 'DISABLED' })
      .reply(200, { ids_changed: [21], ids_not_changed: [22] })
      .post(p('/affiliate/get'), { id: 22 })
      .reply(200, { id: 22, status: 'DISABLED' })
    const statuses = await batch([byId(21), byId(22)], mapping)
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200])
  })

  it('groups DISABLED and DENIED into separate status changes', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [1, 3], status: 'DISABLED' })
      .reply(200, { ids_changed: [1, 3], ids_not_changed: [] })
      .post(p('/affiliate/status_change'), { ids: [2], status: 'DENIED' })
      .reply(200, { ids_changed: [2], ids_not_changed: [] })
    const events = [byId(1), { ...byId(2), properties: { affiliateId: '2', status: 'DENIED' } }, byId(3)]
    const statuses = await batch(events, { ...mapping, status: { '@path': '$.properties.status' } })
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200])
  })

  it('an affiliate not found fails alone (404) and is left out of the status change', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: 'ghost@initech.com', page: '1' })
      .reply(200, { total: 1, results: [{ id: 'g1', email: 'theghost@initech.com' }] })
      .post(p('/affiliate/status_change'), { ids: [5], status: 'DISABLED' })
      .reply(200, { ids_changed: [5], ids_not_changed: [] })
    const statuses = await batch(
      [byId(5), { type: 'delete', userId: 'u-x', traits: { email: 'ghost@initech.com' } }],
      mapping
    )
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 404])
    expect(statuses[1].errormessage).toMatch(/not found/)
  })

  it('a 401 on the status change fails every event in it with 401', async () => {
    refersion()
      .post(p('/affiliate/status_change'), { ids: [1, 2], status: 'DISABLED' })
      .reply(401, { error: 'Invalid API credentials (error 2).' })
    const statuses = await batch([byId(1), byId(2)], mapping)
    expect(statuses.map((s) => s.status)).toEqual([401, 401])
  })
})
