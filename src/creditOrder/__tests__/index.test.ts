import nock from 'nock'
import {
  AFFILIATE_CODE,
  AFFILIATE_EMAIL,
  AFFILIATE_ID,
  batch,
  lookupByEmail,
  ORIGIN,
  perform,
  performError,
  refersion,
  trackEvent,
  useCleanEnvironment
} from '../../__tests__/__helpers__/credits'

useCleanEnvironment()

const PATH = '/v2/conversion/manual_credit_order_id'
const REPROCESSING = 'Order(s) are re-processing. Changes may take a couple of minutes to appear.'
const NOTE = 'Segment: Lead Converted (messageId msg-1)'
const converted = (properties = {}, messageId = 'msg-1') =>
  trackEvent('Lead Converted', { order_id: '1001', ...properties }, messageId)
const byId = { affiliateId: String(AFFILIATE_ID) }

describe('Credit Order to Affiliate: what is sent', () => {
  it('sends the documented body (integer id, order id, note; no status unless mapped)', async () => {
    const bodies: unknown[] = []
    const scope = refersion(bodies).post(PATH).reply(200, { message: REPROCESSING })
    const result = await perform('creditOrder', converted(), byId)
    expect(scope.isDone()).toBe(true)
    expect(bodies).toStrictEqual([{ id: AFFILIATE_ID, order_id: '1001', notes: NOTE }])
    expect(result).toStrictEqual({
      outcome: 'credited',
      affiliate_id: AFFILIATE_ID,
      affiliate_from: 'mapped',
      order_id: '1001',
      message: REPROCESSING
    })
  })

  it('sends a mapped status; a numeric order id in the event is sent as text', async () => {
    const bodies: unknown[] = []
    refersion(bodies).post(PATH).reply(200, { message: REPROCESSING })
    await perform('creditOrder', converted({ order_id: 1002 }), { ...byId, status: 'APPROVED', notes: '' })
    expect(bodies).toStrictEqual([{ id: AFFILIATE_ID, order_id: '1002', status: 'APPROVED' }])
  })

  it("carries Refersion's warning when the order was credited to another affiliate", async () => {
    const warning = 'Order ID is already credited to affiliate 12345678'
    refersion().post(PATH).reply(200, { message: REPROCESSING, warning })
    expect(await perform('creditOrder', converted(), byId)).toMatchObject({ outcome: 'credited', warning })
  })

  it('finds the affiliate by exact email; a second credit for that email costs one request', async () => {
    const bodies: unknown[] = []
    lookupByEmail(refersion(bodies)).post(PATH).times(2).reply(200, { message: REPROCESSING })
    await perform('creditOrder', converted(), { email: AFFILIATE_EMAIL })
    await perform('creditOrder', converted({ order_id: '1003' }, 'msg-2'), { email: AFFILIATE_EMAIL })
    expect(bodies).toHaveLength(4)
  })

  it('turns a code into the numeric id with get', async () => {
    const bodies: unknown[] = []
    refersion(bodies)
      .post('/v2/affiliate/get', { affiliate_code: AFFILIATE_CODE })
      .reply(200, { id: AFFILIATE_ID })
      .post(PATH)
      .reply(200, { message: REPROCESSING })
    expect(await perform('creditOrder', converted(), { affiliateId: AFFILIATE_CODE })).toMatchObject({
      affiliate_from: 'code'
    })
    expect(bodies[1]).toMatchObject({ id: AFFILIATE_ID })
  })
})

describe("Credit Order to Affiliate: Refersion's answers", () => {
  it('Error 6 (already credited to this affiliate) is a success that changed nothing', async () => {
    refersion()
      .post(PATH)
      .reply(422, {
        errors: ['The affiliate you provided has already been manually credited for this order ID. (Error 6)']
      })
    expect(await perform('creditOrder', converted(), byId)).toStrictEqual({
      outcome: 'already_credited',
      changed: false,
      affiliate_id: AFFILIATE_ID,
      affiliate_from: 'mapped',
      order_id: '1001'
    })
  })

  it('error 5 (the order is being processed) is retryable', async () => {
    refersion()
      .post(PATH)
      .reply(422, { errors: ['This order ID is being process (error 5).'] })
    const error = await performError('creditOrder', converted(), byId)
    expect(error.constructor.name).toBe('RefersionRetryableError')
    expect(error.message).toContain('being process')
  })

  it('500 is retried as usual (Refersion dedupes by order id, so a repeat is Error 6)', async () => {
    refersion().post(PATH).reply(500, { error: 'boom' })
    expect((await performError('creditOrder', converted(), byId)).constructor.name).toBe('RefersionRetryableError')
  })

  it("another 422 is final with Refersion's words", async () => {
    refersion()
      .post(PATH)
      .reply(422, { errors: ['Invalid order ID (error 5).'] })
    const error = await performError('creditOrder', converted(), byId)
    expect(error.status).toBe(422)
    expect(error.message).toContain('Invalid order ID')
  })

  it('an unknown email is the final "affiliate not found", and no credit is sent', async () => {
    const scope = refersion()
      .post('/v2/affiliate/search')
      .reply(422, { errors: ['Could not find affiliates with this keyword.'] })
    const error = await performError('creditOrder', converted(), { email: 'nobody@chotchkies.com' })
    expect(error.status).toBe(404)
    expect(error.message).toContain('not found')
    expect(scope.isDone()).toBe(true)
  })

  it('no affiliate, or no order id, is a validation error naming the fields; nothing is sent', async () => {
    const scope = nock(ORIGIN).post(/.*/).reply(500)
    const noAffiliate = await performError('creditOrder', converted(), {})
    expect(noAffiliate.message).toMatch(/affiliateId.*email/)
    const noOrder = await performError('creditOrder', converted({ order_id: ' ' }), byId)
    expect(noOrder.message).toContain('orderId')
    expect(scope.isDone()).toBe(false)
  })
})

describe('Credit Order to Affiliate: batches', () => {
  it('one result per event: credited, already credited, in progress (retryable), invalid', async () => {
    const answer = (orderId: string) => (body: { order_id: string }) => body.order_id === orderId
    refersion()
      .post(PATH, answer('1'))
      .reply(200, { message: REPROCESSING })
      .post(PATH, answer('2'))
      .reply(422, {
        errors: ['The affiliate you provided has already been manually credited for this order ID. (Error 6)']
      })
      .post(PATH, answer('3'))
      .reply(422, { errors: ['This order ID is being process (error 5).'] })
    const events = ['1', '2', '3', ''].map((id, i) => converted({ order_id: id }, `m-${i}`))
    const statuses = await batch('creditOrder', events, byId)
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 503, 400])
    expect(statuses[1].body).toMatchObject({ outcome: 'already_credited' })
  })
})
