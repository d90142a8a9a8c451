import nock from 'nock'
import { createTestIntegration, IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../src'
import { isRetryable, RefersionApiError } from '../../src/lib/errors'
import { passwordPolicyViolation } from '../../src/lib/password'
import {
  caught,
  CREATED,
  docsIdentify,
  EMAIL_TAKEN,
  newAffiliateBody,
  p,
  PETER_BODY,
  PETER_EMAIL,
  refersion,
  SEARCH_MISS,
  searchResult,
  settings,
  trap,
  useOfflineNock
} from './helpers'

const testDestination = createTestIntegration(destination)

useOfflineNock()

type Event = Partial<SegmentEvent>

const create = (event: Event, mapping: JSONObject = {}) => {
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
  const responses = await create(event, mapping)
  expect(scope.isDone()).toBe(true)
  expect(responses).toHaveLength(1)
  expect(seen).toHaveLength(1)
  return seen[0]
}

/** Runs the event, expecting a validation error and no request at all. */
async function expectRejected(event: Event, mapping: JSONObject = {}) {
  const anyRequest = trap()
  const error = await caught(() => create(event, mapping))
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
    await create(docsIdentify())
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

  it('rejects a single-word name with a PayloadValidationError and sends nothing', async () => {
    const error = await expectRejected(identify({ email: PETER_EMAIL, name: 'Peter' }))
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.status).toBe(400)
    expect(error.message).toMatch(/last name/i)
    expect(error.message).toMatch(/only one word/)
  })

  it('rejects an event with no name at all, naming the fields to map, and sends nothing', async () => {
    const error = await expectRejected(identify({ email: PETER_EMAIL }))
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.message).toMatch(/first and last name/)
    expect(error.message).toContain('"First Name"')
    expect(error.message).toContain('"Last Name"')
    expect(error.message).toContain('"Name"')
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
    await create(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { password: 'Corr3ct#Horse' })
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
      await create(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }), { password })
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
    country: 'US',
    unique_merchant_id: 'test-user-t0zpx'
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
    const responses = await create(docsIdentify())
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
    await create(docsIdentify(), { status: 'ACTIVE', sendWelcome: true, password: 'Corr3ct#Horse' })
    expect(edits).toHaveLength(1)
    for (const key of ['password', 'status', 'send_welcome', 'email']) expect(edits[0]).not.toHaveProperty(key)
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
    const responses = await create(docsIdentify())
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
    await create(docsIdentify())
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
    const error = await caught(() => create(docsIdentify()))
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
    const error = await caught(() => create(docsIdentify()))
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
    const error = await caught(() => create(docsIdentify()))
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
    const responses = await create(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }))
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
      .post(p('/affiliate/edit'), {
        affiliates: [{ id, first_name: 'Peter', last_name: 'Gibbons', unique_merchant_id: 'u-1' }]
      })
      .reply(200, { ids_changed: [id], ids_not_changed: [] })
    await create(identify({ email: PETER_EMAIL, name: 'Peter Gibbons' }))
    expect(scope.isDone()).toBe(true)
  })

  it('does not treat other 422 errors as "email taken"', async () => {
    const search = refersion().post(p('/affiliate/search')).reply(200, searchResult([]))
    refersion()
      .post(p('/affiliate/new'))
      .reply(422, { errors: ['XX is not a allowed value for field country'] })
    const error = await caught(() => create(docsIdentify()))
    expect(search.isDone()).toBe(false)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.message).toContain('XX is not a allowed value for field country')
    expect(isRetryable(error)).toBe(false)
  })
})
