import { isDeepStrictEqual } from 'node:util'
import nock from 'nock'
import { createTestIntegration, IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../index'
import { FieldValidationError, isRetryable, RefersionApiError } from '../../lib/errors'
import { passwordPolicyViolation } from '../password'
import {
  caught,
  CREATED,
  docsIdentify,
  EMAIL_TAKEN,
  newAffiliateBody,
  normalisePassword,
  p,
  PETER_BODY,
  PETER_EMAIL,
  recordBodies,
  refersion,
  SEARCH_MISS,
  searchResult,
  settings,
  trap,
  useOfflineNock
} from '../../__tests__/__helpers__/refersion'

const testDestination = createTestIntegration(destination)

// These tests assert the uncached request sequences (new → 422 → search → get → edit) for one email over and over:
// the affiliate cache is off here; src/__tests__/request-economy.test.ts covers it.
useOfflineNock({ REFERSION_CACHE: 'off' })

type Event = Partial<SegmentEvent>

const createOne = (event: Event, mapping: JSONObject = {}) => {
  // testAction keeps the responses of a run that threw; start every run with an empty list.
  testDestination.responses = []
  return testDestination.testAction('createAffiliate', { event, settings, mapping, useDefaultMappings: true })
}

const identify = (traits: NonNullable<Event['traits']>, extra: Event = {}): Event => ({
  type: 'identify',
  userId: 'u-1',
  traits,
  ...extra
})

/** The fields every body for `identify(...)` carries besides the names and the optional ones. */
const BASE = { email: PETER_EMAIL, status: 'PENDING', send_welcome: 'FALSE', unique_merchant_id: 'u-1' }

/** Runs the event, expecting exactly one /affiliate/new with `expected` (password checked against the policy). */
async function expectCreated(event: Event, expected: Record<string, string>, mapping: JSONObject = {}) {
  const seen: Record<string, string>[] = []
  const scope = refersion()
    .post(p('/affiliate/new'), newAffiliateBody(expected, seen))
    .reply(200, CREATED('a3y7', 37569297))
  const responses = await createOne(event, mapping)
  expect(scope.isDone()).toBe(true)
  expect(responses).toHaveLength(1)
  expect(seen).toHaveLength(1)
  return seen[0]
}

/** Runs the event, expecting a validation error and no request at all. */
async function expectRejected(event: Event, mapping: JSONObject = {}) {
  const anyRequest = trap()
  const error = await caught(() => createOne(event, mapping))
  expect(anyRequest.isDone()).toBe(false)
  return error
}

describe('createAffiliate: the Refersion docs identify example', () => {
  it('sends exactly one POST /affiliate/new with the exact body and a policy-valid generated password', async () => {
    const body = await expectCreated(docsIdentify(), PETER_BODY)
    expect(passwordPolicyViolation(body.password, PETER_EMAIL)).toBeUndefined()
    expect(nock.pendingMocks()).toEqual([])
  })

  it('reports the created affiliate (code and numeric id from the message)', async () => {
    refersion().post(p('/affiliate/new'), newAffiliateBody(PETER_BODY)).reply(200, CREATED('a3y7', 37569297))
    await createOne(docsIdentify())
    const last = testDestination.results[testDestination.results.length - 1] as { data?: unknown }
    expect(last.data).toMatchObject({ outcome: 'created', email: PETER_EMAIL, id: 37569297, code: 'a3y7' })
  })

  it('generates a different password for every new affiliate', async () => {
    const first = await expectCreated(docsIdentify(), PETER_BODY)
    const second = await expectCreated(docsIdentify(), PETER_BODY)
    expect(first.password).not.toEqual(second.password)
  })
})

describe('createAffiliate: names', () => {
  it('uses camelCase traits.firstName / traits.lastName', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, firstName: 'Peter', lastName: 'Gibbons' }), {
      ...BASE,
      first_name: 'Peter',
      last_name: 'Gibbons'
    })
  })

  it('uses snake_case traits.first_name / traits.last_name', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons' }), {
      ...BASE,
      first_name: 'Peter',
      last_name: 'Gibbons'
    })
  })

  it('splits traits.name: first word → first name, the rest (multi-word) → last name', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, name: '  Jan   Van Der Berg ' }), {
      ...BASE,
      first_name: 'Jan',
      last_name: 'Van Der Berg'
    })
  })

  it('keeps a given firstName and takes only the missing last name from name', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, firstName: 'Pete', name: 'Peter Gibbons' }), {
      ...BASE,
      first_name: 'Pete',
      last_name: 'Gibbons'
    })
  })

  it('keeps a given lastName and takes only the missing first name from name', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, last_name: 'Gibbons-Smith', name: 'Peter Gibbons' }), {
      ...BASE,
      first_name: 'Peter',
      last_name: 'Gibbons-Smith'
    })
  })

  it('a single-word name for an email no affiliate has: looked up first, then a validation error; nothing created', async () => {
    const scope = refersion().post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' }).reply(422, SEARCH_MISS)
    const create = refersion().post(p('/affiliate/new')).reply(200, CREATED('a3y7', 37569297))
    const error = await caught(() => createOne(identify({ email: PETER_EMAIL, name: 'Peter' })))
    expect(scope.isDone()).toBe(true)
    expect(create.isDone()).toBe(false)
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error).toBeInstanceOf(FieldValidationError)
    expect(error.status).toBe(400)
    expect(error.message).toMatch(/last name/i)
    expect(error.message).toMatch(/only one word/)
    expect(error.fields).toEqual(['firstName', 'lastName', 'name'])
  })

  it('an event with no name at all for an unknown email: the error names the fields to map; nothing created', async () => {
    const scope = refersion().post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' }).reply(422, SEARCH_MISS)
    const create = refersion().post(p('/affiliate/new')).reply(200, CREATED('a3y7', 37569297))
    const error = await caught(() => createOne(identify({ email: PETER_EMAIL })))
    expect(scope.isDone()).toBe(true)
    expect(create.isDone()).toBe(false)
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toMatch(/first and last name/)
    expect(error.message).toContain('"First Name"')
    expect(error.message).toContain('"Last Name"')
    expect(error.message).toContain('"Name"')
    expect(error.message).toContain('nothing was created')
    expect(error.fields).toEqual(['firstName', 'lastName', 'name'])
  })
})

describe('createAffiliate: email', () => {
  const names = { first_name: 'Peter', last_name: 'Gibbons' }

  it('prefers traits.email over the top-level email and context.traits.email', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }, {
        email: 'top@initech.com',
        context: { traits: { email: 'ctx@initech.com' } }
      } as Event),
      { ...BASE, ...names }
    )
  })

  it('falls back to the top-level email', async () => {
    await expectCreated(
      identify({ name: 'Peter Gibbons' }, {
        email: 'top@initech.com',
        context: { traits: { email: 'ctx@initech.com' } }
      } as Event),
      { ...BASE, ...names, email: 'top@initech.com' }
    )
  })

  it('falls back to context.traits.email', async () => {
    await expectCreated(identify({ name: 'Peter Gibbons' }, { context: { traits: { email: 'ctx@initech.com' } } }), {
      ...BASE,
      ...names,
      email: 'ctx@initech.com'
    })
  })

  it('rejects an event without any email and sends nothing', async () => {
    const error = await expectRejected(identify({ name: 'Peter Gibbons' }))
    expect(error.name).toBe('AggregateAjvError')
    expect(error.message).toMatch(/email/)
  })

  it('rejects an email that is not an address and sends nothing', async () => {
    const error = await expectRejected(identify({ name: 'Peter Gibbons', email: 'not-an-email' }))
    expect(error.message).toMatch(/email/)
  })
})

describe('createAffiliate: profile fields', () => {
  const names = { first_name: 'Peter', last_name: 'Gibbons' }

  it('maps address.postal_code (snake_case) to zip', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons', address: { city: 'Austin', postal_code: '73301' } }),
      { ...BASE, ...names, city: 'Austin', zip: '73301' }
    )
  })

  it('prefers address.postalCode over address.postal_code', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons', address: { postalCode: '94103', postal_code: '00000' } }),
      { ...BASE, ...names, zip: '94103' }
    )
  })

  it('takes company when it is a string', async () => {
    await expectCreated(identify({ email: PETER_EMAIL, name: 'Peter Gibbons', company: 'Initech' }), {
      ...BASE,
      ...names,
      company: 'Initech'
    })
  })

  it('takes company.name when company is an object', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons', company: { name: 'Initech', industry: 'Software' } }),
      { ...BASE, ...names, company: 'Initech' }
    )
  })

  it('leaves empty and blank values out of the body', async () => {
    await expectCreated(
      identify({
        email: PETER_EMAIL,
        name: 'Peter Gibbons',
        company: '',
        phone: '   ',
        address: { street: '', city: ' ', state: '', postalCode: '', country: '' }
      }),
      { ...BASE, ...names }
    )
  })

  it('sends send_welcome "TRUE" when sendWelcome is true', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }),
      { ...BASE, ...names, send_welcome: 'TRUE' },
      { sendWelcome: true }
    )
  })

  it('sends status ACTIVE when mapped', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }),
      { ...BASE, ...names, status: 'ACTIVE' },
      { status: 'ACTIVE' }
    )
  })

  it('maps offer, paypalEmail, phone and conversionTriggerCoupon to their snake_case keys', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons', phone: '+1 415 555 0100' }),
      {
        ...BASE,
        ...names,
        offer: '4407',
        paypal_email: 'pay@initech.com',
        phone: '+1 415 555 0100',
        conversion_trigger_coupon: 'PETER10'
      },
      { offer: '4407', paypalEmail: 'pay@initech.com', conversionTriggerCoupon: 'PETER10' }
    )
  })

  it('sends unique_merchant_id from a mapped value instead of userId', async () => {
    await expectCreated(
      identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }),
      { ...BASE, ...names, unique_merchant_id: 'crm-42' },
      { uniqueMerchantId: 'crm-42' }
    )
  })
})

describe('createAffiliate: country', () => {
  const names = { first_name: 'Peter', last_name: 'Gibbons' }
  const withCountry = (country: string) =>
    identify({ email: PETER_EMAIL, name: 'Peter Gibbons', address: { city: 'Springfield', country } })

  it.each(['US', 'USA', 'United States', 'us', 'U.S.A.', 'United States of America'])('sends %p as US', async (c) => {
    await expectCreated(withCountry(c), { ...BASE, ...names, city: 'Springfield', country: 'US' })
  })

  it.each([
    ['Germany', 'DE'],
    ['deu', 'DE'],
    ['United Kingdom', 'GB'],
    ['ca', 'CA']
  ])('sends %p as %p', async (input, code) => {
    await expectCreated(withCountry(input), { ...BASE, ...names, city: 'Springfield', country: code })
  })

  it.each(['Afghanistan', 'AF', 'Narnia', 'ZZ', '???'])(
    'leaves %p out (not convertible or not accepted by Refersion) and still creates the affiliate',
    async (c) => {
      await expectCreated(withCountry(c), { ...BASE, ...names, city: 'Springfield' })
    }
  )
})

describe('createAffiliate: password', () => {
  const names = { first_name: 'Peter', last_name: 'Gibbons' }

  it('sends a mapped, policy-valid password as is (exact body)', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'), { ...BASE, ...names, password: 'Corr3ct#Horse' })
      .reply(200, CREATED('a3y7', 37569297))
    await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { password: 'Corr3ct#Horse' })
    expect(scope.isDone()).toBe(true)
  })

  it.each([
    ['too short', 'Ab1!xyz', /9 to 72 characters/],
    ['no upper-case letter', 'abcdef1!gh', /upper-case/],
    ['no lower-case letter', 'ABCDEF1!GH', /lower-case/],
    ['no digit', 'Abcdefg!hi', /digit/],
    ['no symbol', 'Abcdefg1hi', /special character/],
    ['a character 4 times in a row', 'Abbbb1!cdef', /more than 3 times in a row/],
    ['73 characters', 'Aa1!'.repeat(18) + 'b', /9 to 72 characters.*73/]
  ])('rejects a password with %s before any request, without repeating it', async (_, password, why) => {
    const error = await expectRejected(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { password })
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.status).toBe(400)
    expect(error.message).toContain('"Password"')
    expect(error.message).toMatch(why)
    expect(error.message).not.toContain(password)
  })

  it('rejects a password equal to the email (case-insensitively) before any request', async () => {
    const password = 'peter.g1@INITECH.com'
    const error = await expectRejected(identify({ email: 'Peter.G1@initech.com', name: 'Peter Gibbons' }), {
      password
    })
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.message).toMatch(/same as the email/)
    expect(error.message).not.toContain(password)
  })

  it('accepts the policy boundaries: 9 and 72 characters, 3 repeats', async () => {
    for (const password of ['Abc1!defg', 'Aa1!'.repeat(18), 'Aaaa1!bcd']) {
      expect(password.length === 9 || password.length === 72).toBe(true)
      const scope = refersion()
        .post(p('/affiliate/new'), { ...BASE, ...names, password })
        .reply(200, CREATED('a3y7', 37569297))
      await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { password })
      expect(scope.isDone()).toBe(true)
    }
  })
})

describe('createAffiliate: repeated identify (upsert)', () => {
  const code = 'a3y7'
  const id = 37569297
  /** Profile fields of the docs identify, as /affiliate/edit must receive them. */
  const EDIT_FIELDS = {
    first_name: 'Peter',
    last_name: 'Gibbons',
    address1: '6th St',
    city: 'San Francisco',
    state: 'CA',
    zip: '94103',
    country: 'US'
  }
  const partial = { id: 'jp01', email: 'jpeter@initech.com', first_name: 'J', last_name: 'Peter', status: 'ACTIVE' }
  const exact = { id: code, email: 'Peter@Initech.com', first_name: 'Pete', last_name: 'G', status: 'ACTIVE' }

  it('on "email taken": search → exact case-insensitive match among partial matches → get → edit', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(PETER_BODY))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, exact]))
      .post(p('/affiliate/get'), { affiliate_code: code })
      .reply(200, { id: String(id), email: 'Peter@Initech.com', first_name: 'Pete', last_name: 'G', link: 'x' })
      .post(p('/affiliate/edit'), { affiliates: [{ id, ...EDIT_FIELDS }] })
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    const responses = await createOne(docsIdentify())
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(4)
    const last = testDestination.results[testDestination.results.length - 1] as { data?: unknown }
    expect(last.data).toMatchObject({ outcome: 'updated', id, code })
  })

  it('never sends password, status, send_welcome or email in the edit', async () => {
    const edits: Record<string, unknown>[] = []
    refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ ...exact, id }]))
      .post(p('/affiliate/edit'), (body: { affiliates: Record<string, unknown>[] }) => {
        edits.push(...body.affiliates)
        return true
      })
      .reply(200, { ids_changed: [id] })
    await createOne(docsIdentify(), { status: 'ACTIVE', sendWelcome: true, password: 'Corr3ct#Horse' })
    expect(edits).toHaveLength(1)
    for (const key of ['password', 'status', 'send_welcome', 'email', 'unique_merchant_id']) {
      expect(edits[0]).not.toHaveProperty(key)
    }
  })

  it('skips /affiliate/get when search already gives a numeric id', async () => {
    const get = refersion().post(p('/affiliate/get')).reply(200, { id })
    const scope = refersion()
      .post(p('/affiliate/new'), newAffiliateBody(PETER_BODY))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, { ...exact, id }]))
      .post(p('/affiliate/edit'), { affiliates: [{ id, ...EDIT_FIELDS }] })
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    const responses = await createOne(docsIdentify())
    expect(scope.isDone()).toBe(true)
    expect(get.isDone()).toBe(false)
    expect(responses).toHaveLength(3)
  })

  it('finds the exact match on a later search page', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial], 2))
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '2' })
      .reply(200, searchResult([{ ...exact, id }], 2))
      .post(p('/affiliate/edit'), { affiliates: [{ id, ...EDIT_FIELDS }] })
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await createOne(docsIdentify())
    expect(scope.isDone()).toBe(true)
  })

  it('fails (not succeeds) when the edit reports the id in ids_not_changed', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ ...exact, id }]))
      .post(p('/affiliate/edit'), { affiliates: [{ id, ...EDIT_FIELDS }] })
      .reply(200, { ids_changed: [], ids_not_changed: [id] })
    const error = await caught(() => createOne(docsIdentify()))
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.message).toContain('ids_not_changed')
    expect(error.message).toContain(String(id))
    expect(isRetryable(error)).toBe(false)
  })

  it('with only partial matches: retryable error, no get and no edit', async () => {
    const untouched = refersion()
      .post(p('/affiliate/get'))
      .reply(200, { id })
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, { ...partial, id: 'pp02', email: 'peter@initech.com.au' }]))
    const error = await caught(() => createOne(docsIdentify()))
    expect(scope.isDone()).toBe(true)
    expect(untouched.pendingMocks()).toHaveLength(2)
    expect(error).toBeInstanceOf(RetryableError)
    expect(isRetryable(error)).toBe(true)
    expect(error.message).toMatch(/taken/)
  })

  it('with a search miss (422) after "email taken": retryable error, no edit', async () => {
    const edit = refersion()
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(422, SEARCH_MISS)
    const error = await caught(() => createOne(docsIdentify()))
    expect(scope.isDone()).toBe(true)
    expect(edit.isDone()).toBe(false)
    expect(error).toBeInstanceOf(RetryableError)
  })

  it('sends no edit when the search record already shows every field unchanged', async () => {
    const untouched = refersion()
      .post(p('/affiliate/get'))
      .reply(200, { id })
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(
        200,
        searchResult([
          partial,
          { id: code, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons', unique_merchant_id: 'u-1' }
        ])
      )
    const responses = await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }))
    expect(scope.isDone()).toBe(true)
    expect(untouched.pendingMocks()).toHaveLength(2)
    expect(responses).toHaveLength(2)
    const last = testDestination.results[testDestination.results.length - 1] as { data?: unknown }
    expect(last.data).toMatchObject({ outcome: 'unchanged' })
  })

  it('edits when one field differs from the search record', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(
        200,
        searchResult([{ id, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Bolton', unique_merchant_id: 'u-1' }])
      )
      .post(p('/affiliate/edit'), { affiliates: [{ id, first_name: 'Peter', last_name: 'Gibbons' }] })
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }))
    expect(scope.isDone()).toBe(true)
  })

  it('does not treat other 422 errors as "email taken"', async () => {
    const search = refersion().post(p('/affiliate/search')).reply(200, searchResult([]))
    refersion()
      .post(p('/affiliate/new'))
      .reply(422, { errors: ['XX is not a allowed value for field country'] })
    const error = await caught(() => createOne(docsIdentify()))
    expect(search.isDone()).toBe(false)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.message).toContain('XX is not a allowed value for field country')
    expect(isRetryable(error)).toBe(false)
  })
})

/** A nock body matcher for an exact JSON body: equal values AND types (4407 is not "4407"). */
const exactly = (expected: unknown) => (body: unknown) => isDeepStrictEqual(body, expected)

const lastResult = () => (testDestination.results[testDestination.results.length - 1] as { data?: unknown }).data

describe('createAffiliate: /affiliate/edit carries only the documented edit fields', () => {
  const id = 37569297
  const code = 'a3y7'
  const everything = {
    email: PETER_EMAIL,
    name: 'Peter Gibbons',
    company: 'Initech',
    phone: '+1 415 555 0100',
    address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' }
  }
  const mapping = {
    offer: ' 4407 ',
    paypalEmail: 'pay@initech.com',
    conversionTriggerCoupon: 'PETER10',
    password: 'Corr3ct#Horse',
    status: 'ACTIVE',
    sendWelcome: true,
    uniqueMerchantId: 'crm-42'
  }

  it('a repeat with every field mapped: offer as a JSON number; no creation-only field; the coupon as a trigger', async () => {
    const scope = refersion()
      .post(
        p('/affiliate/new'),
        exactly({
          first_name: 'Peter',
          last_name: 'Gibbons',
          email: PETER_EMAIL,
          password: 'Corr3ct#Horse',
          status: 'ACTIVE',
          offer: '4407',
          company: 'Initech',
          paypal_email: 'pay@initech.com',
          address1: '6th St',
          city: 'San Francisco',
          state: 'CA',
          zip: '94103',
          country: 'US',
          phone: '+1 415 555 0100',
          send_welcome: 'TRUE',
          conversion_trigger_coupon: 'PETER10',
          unique_merchant_id: 'crm-42'
        })
      )
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'), exactly({ keyword: PETER_EMAIL, page: '1' }))
      .reply(200, searchResult([{ id: code, email: PETER_EMAIL, first_name: 'Peter', last_name: 'G', offer_id: '12' }]))
      .post(p('/affiliate/get'), exactly({ affiliate_code: code }))
      .reply(200, { id, email: PETER_EMAIL })
      .post(
        p('/affiliate/edit'),
        exactly({
          affiliates: [
            {
              id,
              first_name: 'Peter',
              last_name: 'Gibbons',
              offer: 4407,
              company: 'Initech',
              paypal_email: 'pay@initech.com',
              address1: '6th St',
              city: 'San Francisco',
              state: 'CA',
              zip: '94103',
              country: 'US',
              phone: '+1 415 555 0100'
            }
          ]
        })
      )
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
      .post(p('/affiliate/trigger'), exactly({ affiliate_code: code, type: 'COUPON', trigger: 'PETER10' }))
      .reply(200, { trigger_id: 1097, trigger: 'PETER10' })
    const responses = await createOne(identify(everything), mapping)
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(5)
    expect(lastResult()).toMatchObject({ outcome: 'updated', id, code, coupon: 'added' })
  })

  it.each([['44a7'], ['offer-1'], ['12.5'], ['-3'], ['99999999999999999999']])(
    'a new affiliate with Offer ID %p: validation error naming "offer", no request',
    async (offer) => {
      const error = await expectRejected(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { offer })
      expect(error).toBeInstanceOf(FieldValidationError)
      expect(error.status).toBe(400)
      expect(error.fields).toEqual(['offer'])
      expect(error.message).toContain('"Offer ID"')
    }
  )

  it('a repeated (name-less) identify with a non-numeric Offer ID: validation error naming "offer", no request', async () => {
    const error = await expectRejected(identify({ email: PETER_EMAIL }), { offer: 'GOLD' })
    expect(error).toBeInstanceOf(FieldValidationError)
    expect(error.fields).toEqual(['offer'])
  })

  it('a 204 from /affiliate/edit is a final error that says "invalid field"', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ id, email: PETER_EMAIL }]))
      .post(p('/affiliate/edit'))
      .reply(204)
    const error = await caught(() => createOne(docsIdentify()))
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('/affiliate/edit')
    expect(error.message).toMatch(/invalid field/)
  })

  it('"unchanged" compares the offer as a number with the search record\'s offer_id string', async () => {
    const untouched = refersion()
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    const record = { id: code, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons', offer_id: '4407' }
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([record]))
    await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { offer: '4407' })
    expect(scope.isDone()).toBe(true)
    expect(untouched.isDone()).toBe(false)
    expect(lastResult()).toMatchObject({ outcome: 'unchanged' })
  })

  it('a different offer_id is an edit with the offer as a number', async () => {
    const record = { id, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons', offer_id: '12' }
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([record]))
      .post(
        p('/affiliate/edit'),
        exactly({ affiliates: [{ id, first_name: 'Peter', last_name: 'Gibbons', offer: 4407 }] })
      )
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { offer: '4407' })
    expect(scope.isDone()).toBe(true)
    expect(lastResult()).toMatchObject({ outcome: 'updated', id, edited: ['first_name', 'last_name', 'offer'] })
  })
})

describe('createAffiliate: a coupon on a repeated identify becomes a conversion trigger', () => {
  const id = 37569297
  const code = 'a3y7'
  const record = { id: code, email: PETER_EMAIL, first_name: 'Peter', last_name: 'Gibbons' }
  const TRIGGER = { affiliate_code: code, type: 'COUPON', trigger: 'PETER10' }
  /** new → 422 taken → search shows the profile unchanged (no edit), then the trigger answers as given. */
  const repeatWithTrigger = (status: number, body: nock.Body) =>
    refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([record]))
      .post(p('/affiliate/trigger'), exactly(TRIGGER))
      .reply(status, body)
  const run = () =>
    createOne(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { conversionTriggerCoupon: 'PETER10' })

  it('adds it with the code from the search result (exact body), even when the profile is unchanged', async () => {
    const scope = repeatWithTrigger(200, { trigger_id: 1097, trigger: 'PETER10' })
    const responses = await run()
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(3)
    expect(lastResult()).toMatchObject({ outcome: 'updated', code, coupon: 'added' })
  })

  it('Refersion\'s 422 "already exists" counts as done: the event succeeds', async () => {
    const scope = repeatWithTrigger(422, {
      errors: ['Conversion trigger already exists for same or another affiliate.']
    })
    await run()
    expect(scope.isDone()).toBe(true)
    expect(lastResult()).toMatchObject({ outcome: 'unchanged', coupon: 'exists' })
  })

  it('a 500 is retryable: the event fails and Segment retries it', async () => {
    const scope = repeatWithTrigger(500, { error: 'Internal error' })
    const error = await caught(run)
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RetryableError)
    expect(isRetryable(error)).toBe(true)
    expect(error.message).toContain('/affiliate/trigger')
  })

  it("another 422 is a final error carrying Refersion's text", async () => {
    const scope = repeatWithTrigger(422, { errors: ['Value exceed the char limit'] })
    const error = await caught(run)
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('Value exceed the char limit')
  })

  it('when search gives a numeric id, the code comes from get', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ ...record, id }]))
      .post(p('/affiliate/get'), exactly({ id }))
      .reply(200, { id, affiliate_code: code, link: `https://initech.refersion.com/c/${code}` })
      .post(p('/affiliate/trigger'), exactly(TRIGGER))
      .reply(200, { trigger_id: 1097, trigger: 'PETER10' })
    await run()
    expect(scope.isDone()).toBe(true)
  })

  it('a new affiliate gets the coupon in /affiliate/new only: one request, no trigger call', async () => {
    const seen: Record<string, string>[] = []
    const scope = refersion()
      .post(
        p('/affiliate/new'),
        newAffiliateBody(
          { ...BASE, first_name: 'Peter', last_name: 'Gibbons', conversion_trigger_coupon: 'PETER10' },
          seen
        )
      )
      .reply(200, CREATED(code, id))
    const responses = await run()
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(1)
  })
})

describe('createAffiliate: partial identifies (names are required only to create)', () => {
  const id = 37569297
  const code = 'a3y7'
  const found = { id: code, email: 'Peter@Initech.com', first_name: 'Peter', last_name: 'Gibbons', status: 'ACTIVE' }
  const partialMatch = { id: 'jp01', email: 'jpeter@initech.com', first_name: 'J', last_name: 'Peter' }
  /** Fails the test if an /affiliate/new is sent (asserted not done). */
  const noCreate = () => refersion().post(p('/affiliate/new')).reply(200, CREATED('zz99', 1))

  it('email + phone for an existing affiliate: search → get → edit with only the phone; no /affiliate/new', async () => {
    const create = noCreate()
    const scope = refersion()
      .post(p('/affiliate/search'), exactly({ keyword: PETER_EMAIL, page: '1' }))
      .reply(200, searchResult([partialMatch, found]))
      .post(p('/affiliate/get'), exactly({ affiliate_code: code }))
      .reply(200, { id, email: PETER_EMAIL })
      .post(p('/affiliate/edit'), exactly({ affiliates: [{ id, phone: '+1 415 555 0100' }] }))
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    const responses = await createOne(identify({ email: PETER_EMAIL, phone: '+1 415 555 0100' }))
    expect(scope.isDone()).toBe(true)
    expect(create.isDone()).toBe(false)
    expect(responses).toHaveLength(3)
    expect(lastResult()).toMatchObject({ outcome: 'updated', id, edited: ['phone'] })
  })

  it('only a first name and a city: edit carries exactly those', async () => {
    const create = noCreate()
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ ...found, id }]))
      .post(p('/affiliate/edit'), exactly({ affiliates: [{ id, first_name: 'Pete', city: 'Austin' }] }))
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await createOne(identify({ email: PETER_EMAIL, firstName: 'Pete', address: { city: 'Austin' } }))
    expect(scope.isDone()).toBe(true)
    expect(create.isDone()).toBe(false)
  })

  it('an offer on a partial identify is edited as a number', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ ...found, id }]))
      .post(p('/affiliate/edit'), exactly({ affiliates: [{ id, offer: 4407 }] }))
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await createOne(identify({ email: PETER_EMAIL }), { offer: '4407' })
    expect(scope.isDone()).toBe(true)
  })

  it('just an email for an existing affiliate: one search, no edit, success', async () => {
    const untouched = refersion()
      .post(p('/affiliate/new'))
      .reply(200, CREATED('zz99', 1))
      .post(p('/affiliate/get'))
      .reply(200, { id })
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    const scope = refersion()
      .post(p('/affiliate/search'), exactly({ keyword: PETER_EMAIL, page: '1' }))
      .reply(200, searchResult([found]))
    const responses = await createOne(identify({ email: PETER_EMAIL }))
    expect(scope.isDone()).toBe(true)
    expect(untouched.pendingMocks()).toHaveLength(3)
    expect(responses).toHaveLength(1)
    expect(lastResult()).toEqual({ outcome: 'unchanged', email: PETER_EMAIL, code })
  })

  it('just an email and a coupon for an existing affiliate: no edit, the trigger is added', async () => {
    const create = noCreate()
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([found]))
      .post(p('/affiliate/trigger'), exactly({ affiliate_code: code, type: 'COUPON', trigger: 'PETER10' }))
      .reply(200, { trigger_id: 7, trigger: 'PETER10' })
    await createOne(identify({ email: PETER_EMAIL }), { conversionTriggerCoupon: 'PETER10' })
    expect(scope.isDone()).toBe(true)
    expect(create.isDone()).toBe(false)
    expect(lastResult()).toMatchObject({ outcome: 'updated', coupon: 'added' })
  })

  it('an email only partially matching existing affiliates: the name error, nothing created or edited', async () => {
    const untouched = noCreate()
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [id] })
    refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([partialMatch]))
    const error = await caught(() => createOne(identify({ email: PETER_EMAIL, phone: '+1 415 555 0100' })))
    expect(untouched.pendingMocks()).toHaveLength(2)
    expect(error).toBeInstanceOf(FieldValidationError)
    expect(error.fields).toEqual(['firstName', 'lastName', 'name'])
  })

  it('a search failure (5xx) stays retryable, not a validation error', async () => {
    refersion().post(p('/affiliate/search')).reply(503, { error: 'Service unavailable' })
    const error = await caught(() => createOne(identify({ email: PETER_EMAIL })))
    expect(error).toBeInstanceOf(RetryableError)
  })

  it('a mapped password that breaks the policy is still rejected before any request', async () => {
    const error = await expectRejected(identify({ email: PETER_EMAIL }), { password: 'short' })
    expect(error).toBeInstanceOf(FieldValidationError)
    expect(error.fields).toEqual(['password'])
  })
})

describe('request body snapshots (generated passwords normalised to "<generated>")', () => {
  it('docs identify → /affiliate/new', async () => {
    const scope = refersion().post(p('/affiliate/new')).reply(200, CREATED('a3y7', 37569297))
    const bodies = recordBodies(scope)
    await testDestination.testAction('createAffiliate', { event: docsIdentify(), settings, useDefaultMappings: true })
    expect(bodies).toHaveLength(1)
    expect(passwordPolicyViolation(String(bodies[0].body.password), PETER_EMAIL)).toBeUndefined()
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })

  it('snake_case identify → /affiliate/new', async () => {
    const scope = refersion().post(p('/affiliate/new')).reply(200, CREATED('b4z8', 37569298))
    const bodies = recordBodies(scope)
    const event: Partial<SegmentEvent> = {
      type: 'identify',
      userId: 'user-snake-1',
      traits: {
        email: 'samir@initech.com',
        first_name: 'Samir',
        last_name: 'Nagheenanajar',
        phone: '+1 512 555 0199',
        company: { name: 'Initech' },
        address: { street: '4120 Freidrich Ln', city: 'Austin', state: 'TX', postal_code: '78744', country: 'us' }
      }
    }
    await testDestination.testAction('createAffiliate', {
      event,
      settings,
      mapping: { offer: '4407', conversionTriggerCoupon: 'SAMIR10', sendWelcome: true },
      useDefaultMappings: true
    })
    expect(bodies).toHaveLength(1)
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })

  it('repeated identify → /affiliate/edit (upsert)', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, { total: 1, results: [{ id: 'a3y7', email: 'Peter@Initech.com' }] })
      .post(p('/affiliate/get'))
      .reply(200, { id: 37569297 })
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [37569297], ids_not_changed: [] })
    const bodies = recordBodies(scope)
    await testDestination.testAction('createAffiliate', { event: docsIdentify(), settings, useDefaultMappings: true })
    expect(scope.isDone()).toBe(true)
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })
})
