/**
 * Request economy (SPEC "Request economy (repeated identifies)", issue 11): the affiliate cache on the upsert path,
 * in perform, performBatch, the delete action and onDelete, and "Update Existing Affiliates". Every test runs with
 * the cache on (REFERSION_CACHE unset) and an empty cache, except where it says otherwise.
 */
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../index'
import { AFFILIATE_CACHE_MAX, affiliateCache } from '../lib/affiliate-cache'
import { cacheAccountOf } from '../lib/affiliate-cache'
import { EDIT_FIELDS, planAffiliate } from '../createAffiliate/plan'
import { planFingerprint } from '../createAffiliate/upsert'
import { isRetryable, RefersionApiError } from '../lib/errors'
import {
  batchStatuses,
  caught,
  CREATED,
  EMAIL_TAKEN,
  newAffiliateBody,
  p,
  PETER_EMAIL,
  PUBLIC_KEY,
  refersion,
  SECRET_KEY,
  SEARCH_MISS,
  searchResult,
  settings,
  useOfflineNock
} from './__helpers__/refersion'

const testDestination = createTestIntegration(destination)

useOfflineNock()

beforeEach(() => {
  delete process.env.REFERSION_CACHE
  affiliateCache.clear()
})
afterEach(() => {
  jest.restoreAllMocks()
  delete process.env.REFERSION_CACHE
})
afterAll(() => affiliateCache.clear())

type Event = Partial<SegmentEvent>

const ID = 101
const CODE = 'a3y7'
const OTHER_ID = 202
const OTHER_CODE = 'b4z8'

const identify = (traits: Record<string, unknown> = {}, email = PETER_EMAIL): Event => ({
  type: 'identify',
  userId: 'u-1',
  traits: { email, firstName: 'Peter', lastName: 'Gibbons', ...traits }
})

/** The /affiliate/new body of `identify(traits)` for the traits these tests use. */
const newBody = (extra: Record<string, string> = {}, email = PETER_EMAIL) => ({
  first_name: 'Peter',
  last_name: 'Gibbons',
  email,
  status: 'PENDING',
  send_welcome: 'FALSE',
  unique_merchant_id: 'u-1',
  ...extra
})

async function perform(event: Event, mapping: JSONObject = {}, actionSettings = settings) {
  testDestination.responses = []
  testDestination.results = []
  await testDestination.testAction('createAffiliate', {
    event,
    settings: actionSettings,
    mapping,
    useDefaultMappings: true
  })
  return (testDestination.results[testDestination.results.length - 1] as { data?: Record<string, unknown> }).data
}

const batch = (action: 'createAffiliate' | 'deleteAffiliate', events: Event[], mapping: JSONObject = {}) =>
  batchStatuses(testDestination, action, events, mapping)

/** A first identify: one /affiliate/new, answered with the affiliate's code and numeric id; now remembered. */
async function warm(
  traits: Record<string, unknown> = {},
  extra: Record<string, string> = {},
  mapping: JSONObject = {}
) {
  const scope = refersion()
    .post(p('/affiliate/new'), newAffiliateBody(newBody(extra)))
    .reply(200, CREATED(CODE, ID))
  const result = await perform(identify(traits), mapping)
  expect(scope.isDone()).toBe(true)
  expect(result).toMatchObject({ outcome: 'created', id: ID, code: CODE })
  expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toMatchObject({ id: ID, code: CODE })
}

/** The uncached repeat: new → 422 → search → get → edit, for affiliate `id` / `code`. */
function fullPath(edit: Record<string, unknown>, id = ID, code = CODE, extra: Record<string, string> = {}) {
  return refersion()
    .post(p('/affiliate/new'), newAffiliateBody(newBody(extra)))
    .reply(422, EMAIL_TAKEN)
    .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
    .reply(200, searchResult([{ id: code, email: PETER_EMAIL }]))
    .post(p('/affiliate/get'), { affiliate_code: code })
    .reply(200, { id, email: PETER_EMAIL })
    .post(p('/affiliate/edit'), { affiliates: [{ id, ...edit }] })
    .reply(200, { ids_changed: [id], ids_not_changed: [] })
}

const PHONE = { phone: '+1 415 555 0100' }

describe('request economy: what the cache saves', () => {
  it('an identical repeat sends nothing: success, outcome "unchanged", marked cached', async () => {
    await warm(PHONE, PHONE)
    // No interceptor: any request would be an unmatched request, which fails the test in afterEach.
    const result = await perform(identify(PHONE))
    expect(result).toEqual({ outcome: 'unchanged', email: PETER_EMAIL, id: ID, code: CODE, cached: true })
  })

  it('a changed repeat sends exactly one /affiliate/edit by the remembered id, with the exact edit body', async () => {
    await warm()
    const scope = refersion()
      .post(p('/affiliate/edit'), {
        affiliates: [{ id: ID, first_name: 'Peter', last_name: 'Gibbons', phone: '+1 415 555 0100' }]
      })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    const result = await perform(identify(PHONE))
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({
      outcome: 'updated',
      id: ID,
      cached: true,
      edited: ['first_name', 'last_name', 'phone']
    })
    // …and the new profile is remembered: the same repeat again costs nothing.
    await perform(identify(PHONE))
  })

  it('a changed repeat with a coupon: the edit, then the trigger with the remembered code', async () => {
    await warm()
    const scope = refersion()
      .post(p('/affiliate/edit'), { affiliates: [{ id: ID, first_name: 'Peter', last_name: 'Gibbons' }] })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
      .post(p('/affiliate/trigger'), { affiliate_code: CODE, type: 'COUPON', trigger: 'SAVE10' })
      .reply(200, { trigger_id: 9 })
    const result = await perform(identify({}), { conversionTriggerCoupon: 'SAVE10' })
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({ outcome: 'updated', coupon: 'added', cached: true })
  })

  it('a coupon when no code is remembered takes the full path (which finds the code)', async () => {
    refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody()))
      .reply(200, { message: `The affiliate ${ID} has been created with the status of PENDING.` })
    await perform(identify())
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toEqual({ id: ID, fingerprint: expect.any(String) })
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody({ conversion_trigger_coupon: 'SAVE10' })))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons' }]))
      .post(p('/affiliate/trigger'), { affiliate_code: CODE, type: 'COUPON', trigger: 'SAVE10' })
      .reply(200, { trigger_id: 9 })
    await perform(identify(), { conversionTriggerCoupon: 'SAVE10' })
    expect(scope.isDone()).toBe(true)
  })

  it('every field the edit or the trigger would send is in the fingerprint; the password is not', () => {
    const input = {
      email: PETER_EMAIL,
      firstName: 'Peter',
      lastName: 'Gibbons',
      company: 'Initech',
      phone: '1',
      paypalEmail: 'pay@initech.com',
      offer: '7',
      conversionTriggerCoupon: 'SAVE10',
      address: { street: 'a', city: 'b', state: 'c', postalCode: 'd', country: 'US' }
    }
    const base = planFingerprint(planAffiliate(input))
    const changes: Record<string, Record<string, unknown>> = {
      first_name: { firstName: 'Pete' },
      last_name: { lastName: 'Gibbon' },
      company: { company: 'Initrode' },
      paypal_email: { paypalEmail: 'other@initech.com' },
      address1: { address: { ...input.address, street: 'z' } },
      city: { address: { ...input.address, city: 'z' } },
      state: { address: { ...input.address, state: 'z' } },
      zip: { address: { ...input.address, postalCode: 'z' } },
      country: { address: { ...input.address, country: 'DE' } },
      phone: { phone: '2' },
      offer: { offer: '8' }
    }
    for (const field of EDIT_FIELDS) {
      if (field === 'address2') continue // not mapped by the action
      expect([field, planFingerprint(planAffiliate({ ...input, ...changes[field] }))]).not.toEqual([field, base])
    }
    expect(planFingerprint(planAffiliate({ ...input, conversionTriggerCoupon: 'SAVE20' }))).not.toBe(base)
    expect(planFingerprint(planAffiliate({ ...input, conversionTriggerCoupon: undefined }))).not.toBe(base)
    // Creation-only fields are never edited, so they cannot make a repeat "changed".
    expect(planFingerprint(planAffiliate({ ...input, password: 'Val1d-Pass-2!' }))).toBe(base)
  })

  it('holds no secret, no password and no profile value: only the id, the code and a digest', async () => {
    const password = 'Val1d-Pass-77!'
    const seen: Record<string, string>[] = []
    refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody({ company: 'Initech' }), seen))
      .reply(200, CREATED(CODE, ID))
    await perform(identify({ password, company: 'Initech' }), { password: { '@path': '$.traits.password' } })
    expect(seen[0].password).toBe(password)
    const dumped = JSON.stringify((affiliateCache as unknown as { lru: { dump(): unknown } }).lru.dump())
    for (const secret of [SECRET_KEY, password, 'Initech', 'Gibbons']) expect(dumped).not.toContain(secret)
    expect(Object.keys(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL) ?? {}).sort()).toEqual(['code', 'fingerprint', 'id'])
  })
})

describe('request economy: cache keys and limits', () => {
  it('is per public key: the same email under another key pair goes to Refersion', async () => {
    await warm()
    const other = { apiKey: 'pub_other.sec_other' }
    const scope = refersion({ publicKey: 'pub_other', secretKey: 'sec_other' })
      .post(p('/affiliate/new'), newAffiliateBody(newBody()))
      .reply(200, CREATED(OTHER_CODE, OTHER_ID))
    const result = await perform(identify(), {}, other)
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({ outcome: 'created', id: OTHER_ID })
    expect(affiliateCache.get('pub_other', PETER_EMAIL)?.id).toBe(OTHER_ID)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(ID)
  })

  it('ignores the case of the email', async () => {
    await warm()
    const result = await perform({ ...identify({}, 'Peter@INITECH.com') })
    expect(result).toMatchObject({ outcome: 'unchanged', cached: true, id: ID })
  })

  it('trusts an entry for 15 minutes at most: after that the repeat takes the full path', async () => {
    // Only the clock moves; timers stay real for the requests. (jest 27, in Segment's monorepo, takes no fake-timers
    // config, so `Date.now`, which the cache reads, is stubbed instead.)
    let now = Date.now()
    jest.spyOn(Date, 'now').mockImplementation(() => now)
    await warm()
    now += 14 * 60_000
    await perform(identify()) // still remembered: nothing sent
    now += 60_000 + 1
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons', ...PHONE }, ID, CODE, PHONE)
    await perform(identify(PHONE))
    expect(scope.isDone()).toBe(true)
  })

  it(`holds at most ${AFFILIATE_CACHE_MAX} affiliates: the least recently used one goes, and takes the full path`, async () => {
    await warm()
    for (let i = 0; i < AFFILIATE_CACHE_MAX; i++) {
      affiliateCache.remember(PUBLIC_KEY, `filler${i}@initech.com`, { id: 1000 + i, fingerprint: 'f' })
    }
    expect(affiliateCache.size).toBe(AFFILIATE_CACHE_MAX)
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons' })
    await perform(identify())
    expect(scope.isDone()).toBe(true)
  })

  it('REFERSION_CACHE=off: a repeat takes the uncached path (4 requests), even for a remembered affiliate', async () => {
    await warm()
    process.env.REFERSION_CACHE = 'off'
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons' })
    const result = await perform(identify())
    expect(scope.isDone()).toBe(true)
    expect(result).not.toHaveProperty('cached')
    // Switched on again (read on every call): the entry remembered before is used again.
    delete process.env.REFERSION_CACHE
    expect(await perform(identify())).toMatchObject({ cached: true })
  })
})

describe('request economy: the cache account', () => {
  afterEach(() => {
    delete process.env.REFERSION_BASE_URL
  })

  it('is the public key against Refersion; never the secret; none for a setting that does not parse', () => {
    expect(cacheAccountOf(settings)).toBe(PUBLIC_KEY)
    expect(cacheAccountOf({ apiKey: 'no-dot-here' })).toBeUndefined()
    expect(cacheAccountOf(undefined)).toBeUndefined()
  })

  it('adds a digest of REFERSION_BASE_URL when it points elsewhere, so two sandboxes never share ids', () => {
    process.env.REFERSION_BASE_URL = 'http://127.0.0.1:4010/v2'
    const first = cacheAccountOf(settings)
    process.env.REFERSION_BASE_URL = 'http://127.0.0.1:4011/v2'
    const second = cacheAccountOf(settings)
    expect(first).toMatch(new RegExp(`^${PUBLIC_KEY}@[0-9a-f]{12}$`))
    expect(second).toMatch(new RegExp(`^${PUBLIC_KEY}@[0-9a-f]{12}$`))
    expect(first).not.toBe(second)
    expect(`${first}${second}`).not.toContain(SECRET_KEY)
  })
})

describe('request economy: filling and dropping entries', () => {
  it('a cache miss always starts with /affiliate/new; an affiliate found and updated is remembered', async () => {
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons' })
    await perform(identify())
    expect(scope.isDone()).toBe(true)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toMatchObject({ id: ID, code: CODE })
    await perform(identify()) // now remembered: nothing sent
  })

  it('a failed create never fills the cache; the redelivery starts again with /affiliate/new', async () => {
    refersion().post(p('/affiliate/new'), newAffiliateBody(newBody())).reply(500, { error: 'boom' })
    const error = await caught(() => perform(identify()))
    expect(isRetryable(error)).toBe(true)
    expect(affiliateCache.size).toBe(0)
    await warm()
  })

  it('a failed edit on the full path never fills the cache', async () => {
    refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody()))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL }]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/edit'))
      .reply(503, { error: 'busy' })
    await caught(() => perform(identify()))
    expect(affiliateCache.size).toBe(0)
  })

  it.each([
    ['ids_not_changed', 200, { ids_changed: [], ids_not_changed: [ID] }],
    ['422 "Affiliate not found."', 422, { error: 'Affiliate not found.' }]
  ])(
    'an edit answered as for an unknown id (%s) drops the entry and takes the full path in the same event',
    async (_name, status, body) => {
      await warm()
      const scope = refersion()
        .post(p('/affiliate/edit'), { affiliates: [{ id: ID, first_name: 'Peter', last_name: 'Gibbons', ...PHONE }] })
        .reply(status, body)
      const full = fullPath({ first_name: 'Peter', last_name: 'Gibbons', ...PHONE }, OTHER_ID, OTHER_CODE, PHONE)
      const result = await perform(identify(PHONE))
      expect(scope.isDone()).toBe(true)
      expect(full.isDone()).toBe(true)
      expect(result).toMatchObject({ outcome: 'updated', id: OTHER_ID })
      expect(result).not.toHaveProperty('cached')
      expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toMatchObject({ id: OTHER_ID, code: OTHER_CODE })
    }
  )

  it('a 5xx on a remembered edit: the entry is dropped, the error is retryable, the redelivery takes the full path', async () => {
    await warm()
    refersion().post(p('/affiliate/edit')).reply(503, { error: 'Service unavailable' })
    const error = await caught(() => perform(identify(PHONE)))
    expect(isRetryable(error)).toBe(true)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons', ...PHONE }, ID, CODE, PHONE)
    await perform(identify(PHONE))
    expect(scope.isDone()).toBe(true)
  })

  it('another final failure of a remembered edit drops the entry and fails the event, without the full path', async () => {
    await warm()
    refersion().post(p('/affiliate/edit')).reply(204)
    const error = await caught(() => perform(identify(PHONE)))
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })

  it('a failed trigger on the remembered path drops the entry', async () => {
    await warm()
    refersion()
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
      .post(p('/affiliate/trigger'))
      .reply(500, { error: 'boom' })
    await caught(() => perform(identify(), { conversionTriggerCoupon: 'SAVE10' }))
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })
})

describe('request economy: deletes drop the entry, so the next identify takes the full path', () => {
  const nextIdentifyIsFull = async () => {
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons' })
    await perform(identify())
    expect(scope.isDone()).toBe(true)
  }
  const deleteCalls = (keyword = PETER_EMAIL) =>
    refersion()
      .post(p('/affiliate/search'), { keyword, page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL }]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })

  it('the deleteAffiliate action, by email', async () => {
    await warm()
    deleteCalls('PETER@initech.com')
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    await testDestination.testAction('deleteAffiliate', {
      event: { type: 'delete', userId: 'u-1', traits: { email: 'PETER@initech.com' } },
      settings,
      useDefaultMappings: true
    })
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    await nextIdentifyIsFull()
  })

  it('the deleteAffiliate action, by numeric affiliate id — even when the status change fails', async () => {
    await warm()
    refersion()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(500, { error: 'boom' })
    await caught(() =>
      testDestination.testAction('deleteAffiliate', {
        event: { type: 'delete', properties: { affiliateId: String(ID) } },
        settings,
        mapping: { affiliateId: { '@path': '$.properties.affiliateId' } },
        useDefaultMappings: true
      })
    )
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    await nextIdentifyIsFull()
  })

  it('a batch of deletes', async () => {
    await warm()
    deleteCalls()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    const statuses = await batch('deleteAffiliate', [{ type: 'delete', traits: { email: PETER_EMAIL } }])
    expect(statuses[0]).toMatchObject({ status: 200 })
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    await nextIdentifyIsFull()
  })

  it('onDelete (found by userId, dropped by the resolved id)', async () => {
    await warm()
    refersion()
      .post(p('/affiliate/search'), { keyword: 'u-1', page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL, unique_merchant_id: 'u-1' }]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    if (!testDestination.onDelete) throw new Error('the destination defines no onDelete')
    await testDestination.onDelete({ type: 'delete', userId: 'u-1' } as SegmentEvent, settings)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    await nextIdentifyIsFull()
  })
})

describe('request economy: batches', () => {
  it('two events for one email in one batch run in order; the second is a single edit by the first one’s id', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody()))
      .reply(200, CREATED(CODE, ID))
      .post(p('/affiliate/edit'), { affiliates: [{ id: ID, first_name: 'Peter', last_name: 'Gibbons', ...PHONE }] })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    const statuses = await batch('createAffiliate', [identify(), identify(PHONE)])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200])
    expect(statuses[0].body).toMatchObject({ outcome: 'created' })
    expect(statuses[1].body).toMatchObject({ outcome: 'updated', cached: true })
  })

  it('identical repeats in a batch send nothing', async () => {
    await warm()
    const statuses = await batch('createAffiliate', [identify(), identify({}, 'PETER@initech.com')])
    expect(statuses.map((s) => s.body)).toEqual([
      expect.objectContaining({ outcome: 'unchanged', cached: true }),
      expect.objectContaining({ outcome: 'unchanged', cached: true })
    ])
  })
})

describe('request economy: overlapping events for one email (no batch to order them)', () => {
  it('the older of two overlapping edits finishing last leaves no entry: the next repeat takes the full path', async () => {
    await warm()
    const edit = (phone: string) => ({
      affiliates: [{ id: ID, first_name: 'Peter', last_name: 'Gibbons', phone }]
    })
    refersion()
      .post(p('/affiliate/edit'), edit('1'))
      .delay(80)
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
      .post(p('/affiliate/edit'), edit('2'))
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    const first = perform(identify({ phone: '1' }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    const second = perform(identify({ phone: '2' }))
    await Promise.all([first, second])
    // Which edit Refersion applied last is unknown: nothing is remembered.
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })

  it('a delete by email while an identify is in flight: the identify does not remember', async () => {
    await warm()
    refersion()
      .post(p('/affiliate/edit'))
      .delay(80)
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL }]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    const identifying = perform(identify(PHONE))
    await new Promise((resolve) => setTimeout(resolve, 10))
    await testDestination.testAction('deleteAffiliate', {
      event: { type: 'delete', traits: { email: PETER_EMAIL } },
      settings,
      useDefaultMappings: true
    })
    await identifying
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })
})

describe('Update Existing Affiliates off', () => {
  const off = { updateExisting: false }

  it('a repeat ends at "email taken": one request, a success that changed nothing', async () => {
    process.env.REFERSION_CACHE = 'off'
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(newBody(PHONE)))
      .reply(422, EMAIL_TAKEN)
    const result = await perform(identify(PHONE), off)
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({ outcome: 'exists', email: PETER_EMAIL, note: expect.stringContaining('unchanged') })
  })

  it('a new affiliate is still created (and remembered); a remembered one costs nothing, changed or not', async () => {
    const scope = refersion().post(p('/affiliate/new'), newAffiliateBody(newBody())).reply(200, CREATED(CODE, ID))
    expect(await perform(identify(), off)).toMatchObject({ outcome: 'created', id: ID })
    expect(scope.isDone()).toBe(true)
    expect(await perform(identify(PHONE), { ...off, conversionTriggerCoupon: 'SAVE10' })).toMatchObject({
      outcome: 'exists',
      cached: true
    })
  })

  it('an identify without a name: success that changed nothing when the affiliate exists (one search)', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([{ id: CODE, email: PETER_EMAIL }]))
    const result = await perform({ type: 'identify', traits: { email: PETER_EMAIL, ...PHONE } }, off)
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({ outcome: 'exists' })
  })

  it('an identify without a name for an unknown email: the usual validation error, nothing created', async () => {
    refersion().post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' }).reply(422, SEARCH_MISS)
    const error = await caught(() => perform({ type: 'identify', traits: { email: PETER_EMAIL } }, off))
    expect(error.message).toMatch(/First Name/)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('defaults to on: a repeat without the field is updated', async () => {
    process.env.REFERSION_CACHE = 'off'
    const scope = fullPath({ first_name: 'Peter', last_name: 'Gibbons' })
    expect(await perform(identify())).toMatchObject({ outcome: 'updated' })
    expect(scope.isDone()).toBe(true)
  })
})
