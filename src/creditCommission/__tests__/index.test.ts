import http from 'node:http'
import type { AddressInfo } from 'node:net'
import nock from 'nock'
import { affiliateCache } from '../../lib/affiliate-cache'
import { provesNotSent } from '../once'
import { takeUnmatched } from '../../__tests__/__helpers__/refersion'
import {
  AFFILIATE_CODE,
  AFFILIATE_EMAIL,
  AFFILIATE_ID,
  batch,
  lookupByEmail,
  ORIGIN,
  perform,
  performError,
  PUBLIC_KEY,
  refersion,
  trackEvent,
  useCleanEnvironment
} from '../../__tests__/__helpers__/credits'

useCleanEnvironment()

const PATH = '/v2/conversion/manual_credit'
const NOTE = 'Segment: Signed Up (messageId msg-1)'
const signedUp = (properties = {}, messageId = 'msg-1') =>
  trackEvent('Signed Up', { commission: 25, currency: 'usd', ...properties }, messageId)
const byId = { affiliateId: String(AFFILIATE_ID) }

describe('Credit Commission: what is sent', () => {
  it('sends the documented body: integer id, number commission, PENDING, upper-case currency, the default note', async () => {
    const bodies: unknown[] = []
    const scope = refersion(bodies).post(PATH).reply(200, { conversion_id: 12345 })
    const result = await perform('creditCommission', signedUp(), byId)
    expect(scope.isDone()).toBe(true)
    expect(bodies).toStrictEqual([
      { id: AFFILIATE_ID, commission: 25, status: 'PENDING', currency: 'USD', notes: NOTE }
    ])
    expect(result).toStrictEqual({
      outcome: 'credited',
      affiliate_id: AFFILIATE_ID,
      affiliate_from: 'mapped',
      conversion_id: 12345,
      commission: 25,
      status: 'PENDING',
      currency: 'USD',
      notes: NOTE
    })
  })

  it('sends a clawback as a negative number, APPROVED when mapped, without currency or note when empty', async () => {
    const bodies: unknown[] = []
    refersion(bodies).post(PATH).reply(200, { conversion_id: 7 })
    await perform('creditCommission', signedUp({ commission: -12.5, currency: '' }), {
      ...byId,
      status: 'APPROVED',
      notes: ''
    })
    expect(bodies).toStrictEqual([{ id: AFFILIATE_ID, commission: -12.5, status: 'APPROVED' }])
  })

  it('accepts a numeric string amount and sends it as a number', async () => {
    const bodies: unknown[] = []
    refersion(bodies).post(PATH).reply(200, { conversion_id: 8 })
    await perform('creditCommission', signedUp({ commission: '19.99' }), byId)
    expect(bodies).toStrictEqual([
      { id: AFFILIATE_ID, commission: 19.99, status: 'PENDING', currency: 'USD', notes: NOTE }
    ])
  })

  it('turns an affiliate code into the numeric id with get (2 requests)', async () => {
    const bodies: unknown[] = []
    refersion(bodies)
      .post('/v2/affiliate/get', { affiliate_code: AFFILIATE_CODE })
      .reply(200, { id: AFFILIATE_ID, affiliate_code: AFFILIATE_CODE })
      .post(PATH)
      .reply(200, { conversion_id: 9 })
    const result = await perform('creditCommission', signedUp(), { affiliateId: AFFILIATE_CODE })
    expect(bodies).toHaveLength(2)
    expect(result).toMatchObject({ affiliate_id: AFFILIATE_ID, affiliate_from: 'code' })
  })

  it('finds the affiliate by exact email, then a second credit for the same email costs one request (cache)', async () => {
    const bodies: unknown[] = []
    const scope = lookupByEmail(refersion(bodies)).post(PATH).times(2).reply(200, { conversion_id: 10 })
    const mapping = { email: { '@path': '$.properties.referrer' } }
    const first = await perform('creditCommission', signedUp({ referrer: AFFILIATE_EMAIL }), mapping)
    expect(first).toMatchObject({ affiliate_id: AFFILIATE_ID, affiliate_from: 'search' })
    expect(bodies).toHaveLength(3)
    const second = await perform('creditCommission', signedUp({ referrer: 'Joanna@Chotchkies.com' }, 'msg-2'), mapping)
    expect(second).toMatchObject({ affiliate_id: AFFILIATE_ID, affiliate_from: 'cache' })
    expect(bodies).toHaveLength(4)
    expect(scope.isDone()).toBe(true)
  })

  it('uses the id Create Affiliate remembered for the email: one request', async () => {
    affiliateCache.remember(PUBLIC_KEY, AFFILIATE_EMAIL, { id: AFFILIATE_ID, code: AFFILIATE_CODE, fingerprint: 'f' })
    const bodies: unknown[] = []
    refersion(bodies).post(PATH).reply(200, { conversion_id: 11 })
    await perform('creditCommission', signedUp(), { email: AFFILIATE_EMAIL })
    expect(bodies).toStrictEqual([
      { id: AFFILIATE_ID, commission: 25, status: 'PENDING', currency: 'USD', notes: NOTE }
    ])
  })

  it('does not read the cache when REFERSION_CACHE is off', async () => {
    affiliateCache.remember(PUBLIC_KEY, AFFILIATE_EMAIL, { id: 1, fingerprint: 'f' })
    process.env.REFERSION_CACHE = 'off'
    const bodies: unknown[] = []
    lookupByEmail(refersion(bodies)).post(PATH).reply(200, { conversion_id: 12 })
    await perform('creditCommission', signedUp(), { email: AFFILIATE_EMAIL })
    expect(bodies).toHaveLength(3)
    expect(bodies[2]).toMatchObject({ id: AFFILIATE_ID })
  })

  it('a cached id Refersion does not know (422, nothing credited) is dropped and the affiliate looked up afresh', async () => {
    affiliateCache.remember(PUBLIC_KEY, AFFILIATE_EMAIL, { id: 999, fingerprint: 'f' })
    const bodies: unknown[] = []
    const scope = refersion(bodies)
      .post(PATH, (body: { id: number }) => body.id === 999)
      .reply(422, { errors: ['Invalid affiliate ID (error 2).'] })
    lookupByEmail(scope)
      .post(PATH, (body: { id: number }) => body.id === AFFILIATE_ID)
      .reply(200, { conversion_id: 13 })
    const result = await perform('creditCommission', signedUp(), { email: AFFILIATE_EMAIL })
    expect(result).toMatchObject({ affiliate_id: AFFILIATE_ID, affiliate_from: 'search', conversion_id: 13 })
    expect(scope.isDone()).toBe(true)
    expect(affiliateCache.get(PUBLIC_KEY, AFFILIATE_EMAIL)?.id).toBe(AFFILIATE_ID)
  })
})

describe('Credit Commission: bad input sends nothing', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, string[]][] = [
    ['a commission of 0', { commission: 0 }, byId, ['commission']],
    ['a currency that is not three letters', { currency: 'dollars' }, byId, ['currency']],
    ['no affiliate at all', {}, {}, ['affiliateId', 'email']]
  ]
  it.each(cases)('%s is a validation error naming the field', async (_name, properties, mapping, fields) => {
    const scope = nock(ORIGIN).post(/.*/).reply(500)
    const error = await performError('creditCommission', signedUp(properties), mapping as never)
    expect(error.constructor.name).toBe('FieldValidationError')
    expect(error.status).toBe(400)
    for (const field of fields) expect(error.message).toContain(field)
    expect(scope.isDone()).toBe(false)
  })

  it.each([
    ['a non-numeric commission', { commission: 'twenty' }, byId, 'Commission'],
    ['a status that is not PENDING or APPROVED', {}, { ...byId, status: 'PAID' }, 'Status']
  ])('%s is refused by the field schema before perform', async (_name, properties, mapping, label) => {
    const scope = nock(ORIGIN).post(/.*/).reply(500)
    const error = await performError('creditCommission', signedUp(properties), mapping as never)
    expect(error.name).toBe('AggregateAjvError')
    expect(error.message).toContain(label)
    expect(scope.isDone()).toBe(false)
  })
})

describe('Credit Commission: at most once', () => {
  it.each([429, 503])('Refersion %s (nothing applied) is retryable', async (status) => {
    refersion().post(PATH).reply(status, { error: 'slow down' })
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.constructor.name).toBe('RefersionRetryableError')
    expect(error.status).toBe(status)
  })

  it.each([500, 502, 504])(
    'Refersion %s (may have been applied) is final and names the note to look for',
    async (status) => {
      refersion().post(PATH).reply(status, { error: 'upstream' })
      const error = await performError('creditCommission', signedUp(), byId)
      expect(error.status).toBe(409)
      expect(error.code).toBe('COMMISSION_MAY_HAVE_BEEN_CREDITED')
      expect(error.message).toContain('may have been credited')
      expect(error.message).toContain(`affiliate ${AFFILIATE_ID} with the note "${NOTE}"`)
    }
  )

  it('a 200 without the documented JSON body is final too: Refersion took the request', async () => {
    refersion().post(PATH).reply(200, 'OK')
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(409)
    expect(error.message).toContain('without a JSON body')
  })

  it('a 204 (Refersion: invalid field, nothing applied) is a final error that does not say "may have been credited"', async () => {
    refersion().post(PATH).reply(204)
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(400)
    expect(error.message).not.toContain('may have been credited')
  })

  it('a 401 is an authentication error (nothing credited)', async () => {
    refersion().post(PATH).reply(401, { error: 'Invalid API credentials (error 2).' })
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.constructor.name).toBe('InvalidAuthenticationError')
  })

  it('a 422 keeps Refersion’s words and is final', async () => {
    refersion()
      .post(PATH)
      .reply(422, { errors: ['X is not a valid currency'] })
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(422)
    expect(error.message).toContain('X is not a valid currency')
  })

  it('a timeout is final: the credit may have been applied', async () => {
    process.env.REFERSION_TIMEOUT_MS = '100'
    refersion().post(PATH).delay(500).reply(200, { conversion_id: 1 })
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(409)
    expect(error.message).toContain('may have been credited')
  })

  it('a reset the transport cannot place (no connection the probe saw) is final', async () => {
    refersion()
      .post(PATH)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(409)
    expect(error.message).toContain('may have been credited')
  })
})

describe('Credit Commission: what proves a request was never sent', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  const timeout = Object.assign(new Error('Request timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' })

  it('a connection that was never established proves it, whatever the error', () => {
    for (const error of [refused, reset, timeout]) expect(provesNotSent(error, 'connecting')).toBe(true)
  })
  it('an established connection never does', () => {
    for (const error of [refused, reset, timeout]) expect(provesNotSent(error, 'connected')).toBe(false)
  })
  it('unobserved, only an error code that means no connection was made does', () => {
    expect(provesNotSent(refused, 'unobserved')).toBe(true)
    expect(provesNotSent({ cause: { code: 'ENOTFOUND' } }, 'unobserved')).toBe(true)
    expect(provesNotSent(reset, 'unobserved')).toBe(false)
    expect(provesNotSent(timeout, 'unobserved')).toBe(false)
    expect(provesNotSent(new Error('no code'), 'unobserved')).toBe(false)
  })
})

describe('Credit Commission: at most once over a real connection (127.0.0.1)', () => {
  let server: http.Server
  let received = 0
  let behaviour: 'drop-after-read' | 'answer' = 'answer'

  beforeEach(async () => {
    received = 0
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        received++
        if (behaviour === 'drop-after-read') req.socket.destroy()
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"conversion_id":77}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    process.env.REFERSION_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`
    nock.enableNetConnect('127.0.0.1')
  })
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve))
    takeUnmatched() // these requests went to the real local server on purpose, past nock
  })

  it('an answer comes back through the probe agent', async () => {
    behaviour = 'answer'
    expect(await perform('creditCommission', signedUp(), byId)).toMatchObject({ conversion_id: 77 })
    expect(received).toBe(1)
  })

  it('Refersion read the request, then the connection was cut: final, received once, never retried', async () => {
    behaviour = 'drop-after-read'
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.status).toBe(409)
    expect(error.message).toContain('may have been credited')
    expect(received).toBe(1)
  })

  it('nothing listening (connection refused before anything was written): retryable', async () => {
    await new Promise((resolve) => server.close(resolve))
    const error = await performError('creditCommission', signedUp(), byId)
    expect(error.constructor.name).toBe('RefersionRetryableError')
    server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
})

describe('Credit Commission: batches', () => {
  it('gives every event its own result: credited, invalid (not sent), retryable, may-have-been-credited', async () => {
    const bodies: { commission: number }[] = []
    refersion(bodies)
      .post(PATH, (b: { commission: number }) => b.commission === 1)
      .reply(200, { conversion_id: 1 })
      .post(PATH, (b: { commission: number }) => b.commission === 3)
      .reply(503, { error: 'busy' })
      .post(PATH, (b: { commission: number }) => b.commission === 4)
      .reply(500, { error: 'boom' })
    const events = [1, 0, 3, 4].map((commission, i) => signedUp({ commission }, `m-${i}`))
    const statuses = await batch('creditCommission', events, byId)
    expect(statuses.map((s) => s.status)).toEqual([200, 400, 503, 409])
    expect(statuses[3].errormessage).toContain('Segment: Signed Up (messageId m-3)')
    expect(bodies.map((b) => b.commission).sort()).toEqual([1, 3, 4])
  })
})
