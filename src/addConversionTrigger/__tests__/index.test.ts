import addConversionTrigger from '../index'
import { AffiliateNotFoundError, FieldValidationError, isRetryable, RefersionApiError } from '../../lib/errors'
import {
  caught,
  p,
  PETER_EMAIL,
  recordBodies,
  refersion,
  SEARCH_MISS,
  searchResult,
  trap,
  useOfflineNock
} from '../../__tests__/__helpers__/refersion'
import { batch, Event, performed, run } from '../../__tests__/__helpers__/orders'

useOfflineNock()

const identify = (email = PETER_EMAIL, traits: Record<string, unknown> = {}): Event => ({
  type: 'identify',
  userId: 'u-1',
  traits: { email, coupon: 'PETER10', ...traits }
})
const mapping = { trigger: { '@path': '$.traits.coupon' } }
const CODE = 'a3y7'
const exact = { id: CODE, email: 'Peter@Initech.com', first_name: 'Peter', status: 'ACTIVE' }
const partial = { id: 'jp01', email: 'jpeter@initech.com', first_name: 'J', status: 'ACTIVE' }
const EXISTS = { errors: ['Conversion trigger already exists for same or another affiliate.'] }

describe('addConversionTrigger: definition', () => {
  it('has no default subscription and the SPEC fields', () => {
    expect(addConversionTrigger.title).toBe('Add Conversion Trigger')
    expect(addConversionTrigger.defaultSubscription).toBeUndefined()
    const f = addConversionTrigger.fields
    expect(Object.keys(f)).toEqual(['affiliateCode', 'email', 'type', 'trigger', 'enable_batching', 'batch_size'])
    expect(f.type.default).toBe('COUPON')
    expect(f.type.choices).toEqual([
      { label: 'Coupon', value: 'COUPON' },
      { label: 'Email', value: 'EMAIL' },
      { label: 'SKU', value: 'SKU' }
    ])
    expect(f.trigger.required).toBe(true)
    expect(f.email.default).toEqual(
      expect.objectContaining({ '@if': expect.objectContaining({ exists: { '@path': '$.traits.email' } }) })
    )
  })
})

describe('addConversionTrigger: perform', () => {
  it('by affiliate code: one POST /affiliate/trigger, no search', async () => {
    const scope = refersion()
      .post(p('/affiliate/trigger'), { affiliate_code: 'zz42', type: 'SKU', trigger: 'SKU-1' })
      .reply(200, { trigger_id: 1097, trigger: 'SKU-1' })
    const responses = await run('addConversionTrigger', identify(), {
      affiliateCode: 'zz42',
      type: 'SKU',
      trigger: 'SKU-1'
    })
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(1)
    expect(performed()).toEqual({
      outcome: 'added',
      affiliate_code: 'zz42',
      type: 'SKU',
      trigger: 'SKU-1',
      trigger_id: 1097
    })
  })

  it('by exact email (any case), skipping partial matches: search → trigger with the code', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, exact]))
      .post(p('/affiliate/trigger'), { affiliate_code: CODE, type: 'COUPON', trigger: 'PETER10' })
      .reply(200, { trigger_id: 5, trigger: 'PETER10' })
    await run('addConversionTrigger', identify(), mapping)
    expect(scope.isDone()).toBe(true)
    expect(performed()).toMatchObject({ outcome: 'added', affiliate_code: CODE })
  })

  it('only a partial match: final "affiliate not found", no trigger sent', async () => {
    const trigger = refersion().post(p('/affiliate/trigger')).reply(200, { trigger_id: 1 })
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial]))
    const error = await caught(() => run('addConversionTrigger', identify(), mapping))
    expect(scope.isDone()).toBe(true)
    expect(trigger.isDone()).toBe(false)
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
    expect(error.message).toMatch(/affiliate not found/i)
    expect(isRetryable(error)).toBe(false)
  })

  it('no affiliate at all (search 422): not found', async () => {
    refersion().post(p('/affiliate/search')).reply(422, SEARCH_MISS)
    expect(await caught(() => run('addConversionTrigger', identify(), mapping))).toBeInstanceOf(AffiliateNotFoundError)
  })

  it('"already exists" counts as done', async () => {
    const scope = refersion()
      .post(p('/affiliate/trigger'), { affiliate_code: CODE, type: 'EMAIL', trigger: 'buyer@initrode.com' })
      .reply(422, EXISTS)
    await run('addConversionTrigger', identify(), {
      affiliateCode: CODE,
      type: 'EMAIL',
      trigger: 'buyer@initrode.com'
    })
    expect(scope.isDone()).toBe(true)
    expect(performed()).toEqual({
      outcome: 'exists',
      affiliate_code: CODE,
      type: 'EMAIL',
      trigger: 'buyer@initrode.com'
    })
  })

  it('another 422 is final with Refersion’s words', async () => {
    refersion()
      .post(p('/affiliate/trigger'))
      .reply(422, { errors: ['Affiliate not found.'] })
    const error = await caught(() => run('addConversionTrigger', identify(), { ...mapping, affiliateCode: 'nope' }))
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.message).toContain('Affiliate not found.')
  })

  it('neither code nor email: a validation error naming both, nothing sent', async () => {
    const rest = trap()
    const error = await caught(() =>
      run('addConversionTrigger', { type: 'track', event: 'x', properties: {} }, { trigger: 'X1' })
    )
    expect(error).toBeInstanceOf(FieldValidationError)
    expect((error as unknown as FieldValidationError).fields).toEqual(['affiliateCode', 'email'])
    expect(rest.isDone()).toBe(false)
  })

  it('a blank trigger: a validation error naming it, nothing sent', async () => {
    const rest = trap()
    const error = await caught(() => run('addConversionTrigger', identify(PETER_EMAIL, { coupon: '  ' }), mapping))
    expect((error as unknown as FieldValidationError).fields).toEqual(['trigger'])
    expect(rest.isDone()).toBe(false)
  })
})

describe('addConversionTrigger: performBatch', () => {
  it('per-event results: added, exists, not found and invalid each on their own', async () => {
    const other = { id: 'mb22', email: 'milton@initech.com', status: 'ACTIVE' }
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([exact]))
      .post(p('/affiliate/search'), { keyword: 'milton@initech.com', page: '1' })
      .reply(200, searchResult([other]))
      .post(p('/affiliate/search'), { keyword: 'nobody@initech.com', page: '1' })
      .reply(422, SEARCH_MISS)
      .post(p('/affiliate/trigger'), { affiliate_code: CODE, type: 'COUPON', trigger: 'PETER10' })
      .reply(200, { trigger_id: 5 })
      .post(p('/affiliate/trigger'), { affiliate_code: 'mb22', type: 'COUPON', trigger: 'STAPLER' })
      .reply(422, EXISTS)
    const statuses = await batch(
      'addConversionTrigger',
      [
        identify(),
        identify('milton@initech.com', { coupon: 'STAPLER' }),
        identify('nobody@initech.com'),
        identify('bill@initech.com', { coupon: '' })
      ],
      mapping
    )
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 404, 400])
    expect(statuses[0].body).toMatchObject({ outcome: 'added', affiliate_code: CODE, trigger_id: 5 })
    expect(statuses[1].body).toMatchObject({ outcome: 'exists', affiliate_code: 'mb22' })
    expect(statuses[2].errormessage).toMatch(/affiliate not found/i)
    expect(statuses[3].errortype).toBe('PAYLOAD_VALIDATION_FAILED')
  })
})

describe('conversion request body snapshots', () => {
  it('identify with a coupon → search → /affiliate/trigger', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ id: 'a3y7', email: PETER_EMAIL }]))
      .post(p('/affiliate/trigger'))
      .reply(200, { trigger_id: 1097, trigger: 'PETER10' })
    const bodies = recordBodies(scope)
    await run(
      'addConversionTrigger',
      { type: 'identify', userId: 'u-1', traits: { email: PETER_EMAIL, coupon: 'PETER10' } },
      { trigger: { '@path': '$.traits.coupon' } }
    )
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
