import { isDeepStrictEqual } from 'node:util'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../index'
import { BATCH_CONCURRENCY } from '../../lib/batch'
import {
  batchStatuses,
  counted,
  CREATED,
  EMAIL_TAKEN,
  newAffiliateBody,
  p,
  refersion,
  SEARCH_MISS,
  searchResult,
  SECRET_KEY,
  useOfflineNock
} from '../../__tests__/__helpers__/refersion'

const testDestination = createTestIntegration(destination)

// These tests assert the uncached request sequences (new → 422 → search → get → edit) for one email over and over:
// the affiliate cache is off here; src/__tests__/request-economy.test.ts covers it.
useOfflineNock({ REFERSION_CACHE: 'off' })

type Event = Partial<SegmentEvent>

/** Runs performBatch and returns the per-event statuses Segment would see. */
const batch = (events: Event[], mapping: JSONObject = {}) =>
  batchStatuses(testDestination, 'createAffiliate', events, mapping)

const person = (i: number, extra: Record<string, unknown> = {}): Event => ({
  type: 'identify',
  userId: `u-${i}`,
  traits: { email: `person${i}@initech.com`, name: `Person Number${i}`, ...extra }
})

const bodyOf = (i: number) => ({
  first_name: 'Person',
  last_name: `Number${i}`,
  email: `person${i}@initech.com`,
  status: 'PENDING',
  send_welcome: 'FALSE',
  unique_merchant_id: `u-${i}`
})

describe('createAffiliate performBatch', () => {
  it('gives each event its own status: invalid ones 400 (a name-less one after its lookup), valid ones 200', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(0)))
      .reply(200, CREATED('c0', 100))
      .post(p('/affiliate/search'), { keyword: 'person1@initech.com', page: '1' })
      .reply(422, SEARCH_MISS)
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(3)))
      .reply(200, CREATED('c3', 103))
    const sent = counted(scope)
    const statuses = await batch([
      person(0),
      person(1, { name: 'Cher' }), // one-word name: no affiliate has the email, so our validation error
      { type: 'identify', userId: 'u-2', traits: { name: 'No Email' } }, // missing email: schema validation
      person(3)
    ])
    expect(scope.isDone()).toBe(true)
    expect(sent.requests).toBe(3)
    expect(statuses.map((s) => s.status)).toEqual([200, 400, 400, 200])
    expect(statuses[1]).toMatchObject({ errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(statuses[1].errormessage).toMatch(/one word/)
    expect(statuses[2]).toMatchObject({ errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(statuses[2].errormessage).toMatch(/email/)
  })

  it('never reports the password in a per-event result', async () => {
    refersion().post(p('/affiliate/new')).reply(200, CREATED('c0', 100))
    const statuses = await batch([person(0)], { password: 'Corr3ct#Horse' })
    expect(JSON.stringify(statuses)).not.toContain('Corr3ct#Horse')
    expect(statuses[0].status).toBe(200)
  })

  it('a 429 on some events fails only those (retryable 429); the others succeed', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(0)))
      .reply(200, CREATED('c0', 100))
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(1)))
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '0' })
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(2)))
      .reply(200, CREATED('c2', 102))
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(3)))
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '0' })
    const statuses = await batch([person(0), person(1), person(2), person(3)])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 429, 200, 429])
    expect(statuses[1].errortype).toBe('TOO_MANY_REQUESTS')
    expect(statuses[1].errormessage).toContain('Too many requests')
  })

  it('honours Retry-After: work not yet started waits before it is sent', async () => {
    const arrivals = new Map<string, number>()
    refersion()
      .post(p('/affiliate/new'))
      .times(21)
      .reply((_uri, body) => {
        const email = (body as { email: string }).email
        arrivals.set(email, Date.now())
        return email === bodyOf(0).email
          ? [429, { error: 'Too many requests' }, { 'Retry-After': '1' }]
          : [200, CREATED('c', 1)]
      })
    const events = Array.from({ length: BATCH_CONCURRENCY + 1 }, (_, i) => person(i))
    const statuses = await batch(events)
    expect(statuses[0].status).toBe(429)
    expect(statuses.slice(1).every((s) => s.status === 200)).toBe(true)
    // The first BATCH_CONCURRENCY events were in flight together; the next one started after the wait.
    const waited = (arrivals.get(bodyOf(BATCH_CONCURRENCY).email) ?? 0) - (arrivals.get(bodyOf(0).email) ?? 0)
    expect(waited).toBeGreaterThanOrEqual(900)
  })

  it("one 429 without Retry-After in a batch of 50 costs only that event: the pause is the batch's, not summed per worker", async () => {
    let requests = 0
    refersion()
      .post(p('/affiliate/new'))
      .times(50)
      .reply((_uri, body) => {
        requests++
        const email = (body as { email: string }).email
        return email === bodyOf(0).email ? [429, { error: 'Too many requests' }] : [200, CREATED('c', 1)]
      })
    const events = Array.from({ length: 50 }, (_, i) => person(i))
    const statuses = await batch(events)
    expect(statuses[0].status).toBe(429)
    expect(statuses.slice(1).map((s) => s.status)).toEqual(new Array(49).fill(200))
    expect(requests).toBe(50)
  })

  it('processes two identifies for the same email in order, one after the other (no duplicate-create race)', async () => {
    const order: string[] = []
    let firstAnswered = false
    const first = { ...bodyOf(0) }
    const second = { ...bodyOf(0), email: 'PERSON0@initech.com', last_name: 'Renamed' }
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(first))
      .reply(async () => {
        order.push('new #1')
        await new Promise((resolve) => setTimeout(resolve, 50))
        firstAnswered = true
        return [200, CREATED('c0', 100)]
      })
      .post(p('/affiliate/new'), newAffiliateBody(second))
      .reply(() => {
        order.push(firstAnswered ? 'new #2 after #1 answered' : 'new #2 RACED #1')
        return [422, EMAIL_TAKEN]
      })
      .post(p('/affiliate/search'), { keyword: 'PERSON0@initech.com', page: '1' })
      .reply(200, { total: 1, results: [{ id: 100, email: 'person0@initech.com', first_name: 'Person' }] })
      .post(p('/affiliate/edit'), { affiliates: [{ id: 100, first_name: 'Person', last_name: 'Renamed' }] })
      .reply(200, { ids_changed: [100], ids_not_changed: [] })
    const statuses = await batch([
      person(0),
      { ...person(0), traits: { email: 'PERSON0@initech.com', name: 'Person Renamed' } }
    ])
    // The second event's email differs only in case: it is the same affiliate.
    expect(order).toEqual(['new #1', 'new #2 after #1 answered'])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200])
  })

  it('partial identifies and coupon triggers follow the perform rules, each event with its own status', async () => {
    const exactly = (expected: unknown) => (body: unknown) => isDeepStrictEqual(body, expected)
    const newBodies: Record<string, string>[] = []
    const scope = refersion()
      // 0: name-less, existing affiliate → search (numeric id) → edit with only the phone
      .post(p('/affiliate/search'), exactly({ keyword: 'person0@initech.com', page: '1' }))
      .reply(200, searchResult([{ id: 100, email: 'person0@initech.com' }]))
      .post(p('/affiliate/edit'), exactly({ affiliates: [{ id: 100, phone: '+1 415 555 0100' }] }))
      .reply(200, { ids_changed: [100], ids_not_changed: [] })
      // 1: name-less, unknown email → search miss → 400, nothing created
      .post(p('/affiliate/search'), exactly({ keyword: 'person1@initech.com', page: '1' }))
      .reply(422, SEARCH_MISS)
      // 2: full, new → one /affiliate/new carrying the coupon
      .post(p('/affiliate/new'), newAffiliateBody({ ...bodyOf(2), conversion_trigger_coupon: 'C2' }, newBodies))
      .reply(200, CREATED('c2', 102))
      // 3: full, repeat → edit (no creation-only fields) → trigger answers 500 → retryable failure
      .post(p('/affiliate/new'), newAffiliateBody({ ...bodyOf(3), conversion_trigger_coupon: 'C3' }))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), exactly({ keyword: 'person3@initech.com', page: '1' }))
      .reply(200, searchResult([{ id: 'c3', email: 'person3@initech.com', first_name: 'Old', last_name: 'Name' }]))
      .post(p('/affiliate/get'), exactly({ affiliate_code: 'c3' }))
      .reply(200, { id: 103 })
      .post(p('/affiliate/edit'), exactly({ affiliates: [{ id: 103, first_name: 'Person', last_name: 'Number3' }] }))
      .reply(200, { ids_changed: [103], ids_not_changed: [] })
      .post(p('/affiliate/trigger'), exactly({ affiliate_code: 'c3', type: 'COUPON', trigger: 'C3' }))
      .reply(500, { error: 'Internal error' })
      // 4: name-less with a coupon the affiliate already has → search → trigger 422 exists → success
      .post(p('/affiliate/search'), exactly({ keyword: 'person4@initech.com', page: '1' }))
      .reply(200, searchResult([{ id: 'c4', email: 'person4@initech.com' }]))
      .post(p('/affiliate/trigger'), exactly({ affiliate_code: 'c4', type: 'COUPON', trigger: 'C4' }))
      .reply(422, { errors: ['Conversion trigger already exists for same or another affiliate.'] })
    const nameless = (i: number, extra: Record<string, unknown> = {}): Event => ({
      type: 'identify',
      userId: `u-${i}`,
      traits: { email: `person${i}@initech.com`, ...extra }
    })
    const statuses = await batch(
      [
        nameless(0, { phone: '+1 415 555 0100' }),
        nameless(1),
        person(2, { coupon: 'C2' }),
        person(3, { coupon: 'C3' }),
        nameless(4, { coupon: 'C4' })
      ],
      { conversionTriggerCoupon: { '@path': '$.traits.coupon' } }
    )
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 400, 200, 500, 200])
    expect(statuses[0].body).toMatchObject({ outcome: 'updated', edited: ['phone'] })
    expect(statuses[1]).toMatchObject({ errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(statuses[1].errormessage).toMatch(/first and last name/)
    expect(statuses[2].body).toMatchObject({ outcome: 'created' })
    expect(statuses[3].errormessage).toContain('/affiliate/trigger')
    expect(statuses[4].body).toMatchObject({ outcome: 'unchanged', coupon: 'exists' })
  })

  it('same-email events stay in order across a create and a later name-less update', async () => {
    const order: string[] = []
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(bodyOf(0)))
      .reply(() => {
        order.push('new')
        return [200, CREATED('c0', 100)]
      })
      .post(p('/affiliate/search'), { keyword: 'person0@initech.com', page: '1' })
      .reply(() => {
        order.push('search')
        return [200, searchResult([{ id: 100, email: 'person0@initech.com' }])]
      })
      .post(p('/affiliate/edit'), { affiliates: [{ id: 100, city: 'Austin' }] })
      .reply(() => {
        order.push('edit')
        return [200, { ids_changed: [100], ids_not_changed: [] }]
      })
    const statuses = await batch([
      person(0),
      { type: 'identify', userId: 'u-0', traits: { email: 'person0@initech.com', address: { city: 'Austin' } } }
    ])
    expect(scope.isDone()).toBe(true)
    expect(order).toEqual(['new', 'search', 'edit'])
    expect(statuses.map((s) => s.status)).toEqual([200, 200])
  })

  it('a 401 fails every event with 401 and stops sending: no request starts after the first 401', async () => {
    let requests = 0
    const scope = refersion()
      .post(p('/affiliate/new'))
      .times(45)
      .reply(() => {
        requests++
        return [401, { error: 'Invalid API credentials (error 2).' }]
      })
    const events = Array.from({ length: 45 }, (_, i) => person(i))
    const statuses = await batch(events)
    // Only the requests already in flight when the first 401 came back (the concurrency window) were sent.
    expect(requests).toBe(BATCH_CONCURRENCY)
    expect(requests).toBeLessThan(events.length)
    expect(scope.pendingMocks()).toHaveLength(1)
    expect(statuses).toHaveLength(45)
    for (const s of statuses) {
      expect(s.status).toBe(401)
      expect(s.errortype).toBe('INVALID_AUTHENTICATION')
      expect(s.errormessage).not.toContain(SECRET_KEY)
    }
    expect(statuses.slice(BATCH_CONCURRENCY).every((s) => /^Not sent/.test(s.errormessage ?? ''))).toBe(true)
  })

  it('a 401 on a chain of same-email events sends only the first', async () => {
    let requests = 0
    refersion()
      .post(p('/affiliate/new'))
      .times(3)
      .reply(() => {
        requests++
        return [401, { error: 'Invalid API credentials (error 2).' }]
      })
    const statuses = await batch([person(0), person(0), person(0)])
    expect(requests).toBe(1)
    expect(statuses.map((s) => s.status)).toEqual([401, 401, 401])
  })
})
