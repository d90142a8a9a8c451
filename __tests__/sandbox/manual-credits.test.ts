import { RunningSandbox, startSandbox } from '../../tools/sandbox'
import { AUTH, api, create, read, track } from './helpers'

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 41 })
})

afterAll(async () => {
  await sandbox.close()
})

beforeEach(() => sandbox.reset())

const REPROCESSING = 'Order(s) are re-processing. Changes may take a couple of minutes to appear.'
const ERROR_6 = 'The affiliate you provided has already been manually credited for this order ID. (Error 6)'
const INVALID_AFFILIATE = 'Invalid affiliate ID (error 2).'
const BEING_PROCESSED = 'This order ID is being process (error 5).'

function credit(s: RunningSandbox, body: Record<string, unknown>) {
  return api(s, '/conversion/manual_credit', body)
}

function creditOrder(s: RunningSandbox, body: Record<string, unknown>) {
  return api(s, '/conversion/manual_credit_order_id', body)
}

/** Everything a manual credit could change. */
function state(s: RunningSandbox = sandbox): unknown {
  return { orders: s.conversions(), manual: s.manualCredits() }
}

async function listed() {
  return (await read(await fetch(`${sandbox.url}/_sandbox/conversions`))).json
}

describe('POST /v2/conversion/manual_credit', () => {
  it('records a MANUAL_CREDIT_BY_CLIENT conversion and answers 200 {"conversion_id": <integer>}', async () => {
    const { id } = await create(sandbox, { email: 'lead@example.com' })
    const res = await credit(sandbox, { id, commission: 25, status: 'PENDING', currency: 'eur', notes: 'Signed Up' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ conversion_id: expect.any(Number) })
    expect(Number.isInteger(res.json.conversion_id)).toBe(true)
    expect(sandbox.manualCredits()).toEqual([
      {
        conversion_id: res.json.conversion_id,
        type: 'MANUAL_CREDIT_BY_CLIENT',
        affiliate_id: id,
        commission: 25,
        status: 'PENDING',
        currency: 'EUR',
        notes: 'Signed Up',
        created_at: expect.any(String)
      }
    ])
  })

  it('credits twice when called twice: two conversions with their own ids (no idempotency key)', async () => {
    const { id } = await create(sandbox, { email: 'twice@example.com' })
    const body = { id, commission: 10, status: 'APPROVED', notes: 'Same note' }
    const first = await credit(sandbox, body)
    const second = await credit(sandbox, body)
    expect([first.status, second.status]).toEqual([200, 200])
    expect(second.json.conversion_id).not.toBe(first.json.conversion_id)
    const credits = sandbox.manualCredits()
    expect(credits.map((c) => c.conversion_id)).toEqual([first.json.conversion_id, second.json.conversion_id])
    expect(credits.map((c) => [c.commission, c.notes])).toEqual([
      [10, 'Same note'],
      [10, 'Same note']
    ])
  })

  it("uses the account's currency (USD) when none is given, and accepts negative and zero commissions", async () => {
    const { id } = await create(sandbox, { email: 'clawback@example.com' })
    for (const commission of [-12.5, 0]) {
      expect((await credit(sandbox, { id, commission, status: 'APPROVED' })).status).toBe(200)
    }
    expect(sandbox.manualCredits().map((c) => [c.commission, c.currency, c.notes])).toEqual([
      [-12.5, 'USD', null],
      [0, 'USD', null]
    ])
  })

  it.each([
    [
      'a status other than APPROVED or PENDING',
      { status: 'approved' },
      'approved is not a allowed value for field status'
    ],
    ['a four-letter currency', { currency: 'EURO' }, 'EURO is not a valid currency'],
    ['a currency that is not letters', { currency: '$$$' }, '$$$ is not a valid currency'],
    ['an unknown affiliate id', { id: 1 }, INVALID_AFFILIATE]
  ])('answers %s with 422 and records nothing', async (_label, overrides, error) => {
    const { id } = await create(sandbox, { email: 'values@example.com' })
    const res = await credit(sandbox, { id, commission: 5, status: 'PENDING', ...overrides })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({ errors: [error] })
    expect(sandbox.manualCredits()).toEqual([])
  })

  it('lists every value error of a request in one 422', async () => {
    const res = await credit(sandbox, { id: 1, commission: 5, status: 'DONE', currency: 'US' })
    expect(res.json).toEqual({
      errors: ['DONE is not a allowed value for field status', 'US is not a valid currency', INVALID_AFFILIATE]
    })
  })

  it('answers a misnamed or mistyped field with 204 and no body, a missing one with 400', async () => {
    const { id } = await create(sandbox, { email: 'contract@example.com' })
    for (const body of [
      { affiliate_id: id, commission: 25, status: 'PENDING' },
      { id, commission: '25', status: 'PENDING' }
    ]) {
      const res = await credit(sandbox, body)
      expect([res.status, res.text]).toEqual([204, ''])
    }
    const missing = await credit(sandbox, { id, commission: 25 })
    expect([missing.status, missing.json]).toEqual([400, { error: 'Missing required field status' }])
    expect(sandbox.manualCredits()).toEqual([])
  })
})

describe('POST /v2/conversion/manual_credit_order_id', () => {
  it('credits a tracked order that no one was credited for: 200 {message}, the order becomes a conversion', async () => {
    const { id, code } = await create(sandbox, { email: 'late@example.com' })
    await track(sandbox, { order_id: 'M-1' })
    const res = await creditOrder(sandbox, { id, order_id: 'M-1' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ message: REPROCESSING })
    const [order] = sandbox.conversions()
    expect(order).toMatchObject({ affiliate: { id, code }, credited_by: 'manual', conversion_id: expect.any(String) })
    expect(order.manual_order_credits).toEqual([
      {
        affiliate_id: id,
        replaced_affiliate_id: null,
        status: 'APPROVED',
        notes: null,
        credited_at: expect.any(String)
      }
    ])
    const cancel = await api(sandbox, '/conversion/cancel', { order_id: 'M-1', items: [{ sku: 'TSHIRT-RED' }] })
    expect(cancel.json).toEqual({ conversion_id: order.conversion_id })
  })

  it('moves an order credited to another affiliate, with a warning naming it', async () => {
    const tracked = await create(sandbox, { email: 'tracked@example.com' })
    const later = await create(sandbox, { email: 'later@example.com' })
    await track(sandbox, { order_id: 'M-2', auto_credit_affiliate_id: tracked.code })
    const conversionId = sandbox.conversions()[0].conversion_id
    const res = await creditOrder(sandbox, { id: later.id, order_id: 'M-2', status: 'PENDING', notes: 'Phone sale' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      message: REPROCESSING,
      warning: `Order ID is already credited to affiliate ${tracked.id}`
    })
    const [order] = sandbox.conversions()
    expect(order).toMatchObject({ affiliate: { id: later.id }, credited_by: 'manual', conversion_id: conversionId })
    expect(order.manual_order_credits).toEqual([
      expect.objectContaining({ affiliate_id: later.id, replaced_affiliate_id: tracked.id, status: 'PENDING' })
    ])
    expect(order.manual_order_credits[0].notes).toBe('Phone sale')
  })

  it('gives no warning when the order was already credited to the same affiliate', async () => {
    const { id, code } = await create(sandbox, { email: 'same@example.com' })
    await track(sandbox, { order_id: 'M-3', auto_credit_affiliate_id: code })
    const res = await creditOrder(sandbox, { id, order_id: 'M-3' })
    expect(res.json).toEqual({ message: REPROCESSING })
    expect(sandbox.conversions()[0]).toMatchObject({ affiliate: { id }, credited_by: 'manual' })
  })

  it('answers a repeat for the same affiliate and order with Error 6 and changes nothing', async () => {
    const { id } = await create(sandbox, { email: 'repeat@example.com' })
    await track(sandbox, { order_id: 'M-4' })
    expect((await creditOrder(sandbox, { id, order_id: 'M-4' })).status).toBe(200)
    const before = state()
    const again = await creditOrder(sandbox, { id, order_id: ' M-4 ', status: 'PENDING' })
    expect(again.status).toBe(422)
    expect(again.json).toEqual({ errors: [ERROR_6] })
    expect(state()).toEqual(before)
  })

  it('Error 6 means "manually credited before": it holds after the order moved on to someone else', async () => {
    const first = await create(sandbox, { email: 'first@example.com' })
    const second = await create(sandbox, { email: 'second@example.com' })
    await track(sandbox, { order_id: 'M-5' })
    await creditOrder(sandbox, { id: first.id, order_id: 'M-5' })
    const moved = await creditOrder(sandbox, { id: second.id, order_id: 'M-5' })
    expect(moved.json.warning).toBe(`Order ID is already credited to affiliate ${first.id}`)
    const back = await creditOrder(sandbox, { id: first.id, order_id: 'M-5' })
    expect(back.json).toEqual({ errors: [ERROR_6] })
    expect(sandbox.conversions()[0].affiliate?.id).toBe(second.id)
  })

  it('a redelivered order keeps its manual credit', async () => {
    const { id } = await create(sandbox, { email: 'keep@example.com' })
    const other = await create(sandbox, { email: 'other@example.com' })
    await track(sandbox, { order_id: 'M-6', cart_id: 'cart-M-6' })
    await creditOrder(sandbox, { id, order_id: 'M-6' })
    await track(sandbox, { order_id: 'M-6', cart_id: 'cart-M-6', auto_credit_affiliate_id: other.code })
    expect(sandbox.conversions()[0]).toMatchObject({ affiliate: { id }, credited_by: 'manual', deliveries: 2 })
  })

  it.each([
    ['an unknown affiliate', { id: 1 }, INVALID_AFFILIATE],
    ['an order the sandbox never saw tracked', { order_id: 'never-tracked' }, 'Invalid order ID (error 5)'],
    ['a status other than APPROVED or PENDING', { status: 'DENIED' }, 'DENIED is not a allowed value for field status']
  ])('answers %s with 422 and changes nothing', async (_label, overrides, error) => {
    const { id } = await create(sandbox, { email: 'refused@example.com' })
    await track(sandbox, { order_id: 'M-7' })
    const before = state()
    const res = await creditOrder(sandbox, { id, order_id: 'M-7', ...overrides })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({ errors: [error] })
    expect(state()).toEqual(before)
  })

  it('answers a misnamed or mistyped field with 204 and no body, a missing one with 400', async () => {
    const { id } = await create(sandbox, { email: 'contract2@example.com' })
    await track(sandbox, { order_id: 'M-8' })
    for (const body of [
      { affiliate_id: id, order_id: 'M-8' },
      { id, order_id: 8 }
    ]) {
      const res = await creditOrder(sandbox, body)
      expect([res.status, res.text]).toEqual([204, ''])
    }
    const missing = await creditOrder(sandbox, { order_id: 'M-8' })
    expect([missing.status, missing.json]).toEqual([400, { error: 'Missing required field id' }])
    expect(sandbox.conversions()[0].manual_order_credits).toEqual([])
  })
})

describe('"This order ID is being process (error 5)." (orderProcessingAttempts)', () => {
  it('is off by default: the first attempt is processed', async () => {
    const { id } = await create(sandbox, { email: 'default@example.com' })
    await track(sandbox, { order_id: 'P-0' })
    expect((await creditOrder(sandbox, { id, order_id: 'P-0' })).json).toEqual({ message: REPROCESSING })
  })

  it('answers the first N attempts per order with error 5, changing nothing, then processes the next', async () => {
    const s = await startSandbox({ seed: 3, orderProcessingAttempts: 2 })
    try {
      const { id } = await create(s, { email: 'busy@example.com' })
      await track(s, { order_id: 'P-1' })
      await track(s, { order_id: 'P-2' })
      const before = state(s)
      for (let i = 0; i < 2; i++) {
        const busy = await creditOrder(s, { id, order_id: 'P-1' })
        expect([busy.status, busy.json]).toEqual([422, { errors: [BEING_PROCESSED] }])
      }
      expect(state(s)).toEqual(before)
      expect((await creditOrder(s, { id, order_id: 'P-1' })).json).toEqual({ message: REPROCESSING })
      expect((await creditOrder(s, { id, order_id: 'P-1' })).json).toEqual({ errors: [ERROR_6] })
      expect((await creditOrder(s, { id, order_id: 'P-2' })).json).toEqual({ errors: [BEING_PROCESSED] })
      expect((await creditOrder(s, { id, order_id: 'never' })).json).toEqual({ errors: ['Invalid order ID (error 5)'] })
      s.reset()
      await create(s, { email: 'busy@example.com' })
      await track(s, { order_id: 'P-1' })
      expect((await creditOrder(s, { id, order_id: 'P-1' })).json).toEqual({ errors: [BEING_PROCESSED] })
    } finally {
      await s.close()
    }
  })

  it('refuses a bad value', async () => {
    await expect(startSandbox({ orderProcessingAttempts: -1 })).rejects.toThrow(/orderProcessingAttempts/)
    await expect(startSandbox({ orderProcessingAttempts: 1.5 })).rejects.toThrow(/orderProcessingAttempts/)
  })
})

describe('GET /_sandbox/conversions and its resets', () => {
  it('lists manual credits beside the orders, and orders with their manual credits', async () => {
    const { id } = await create(sandbox, { email: 'listed@example.com' })
    await track(sandbox, { order_id: 'L-1' })
    await credit(sandbox, { id, commission: 7.5, status: 'APPROVED', notes: 'Trial started' })
    await creditOrder(sandbox, { id, order_id: 'L-1', notes: 'Found later' })
    const res = await listed()
    expect(res.total).toBe(1)
    expect(res.manual_credits).toEqual([
      {
        conversion_id: expect.any(Number),
        type: 'MANUAL_CREDIT_BY_CLIENT',
        affiliate_id: id,
        commission: 7.5,
        status: 'APPROVED',
        currency: 'USD',
        notes: 'Trial started',
        created_at: expect.any(String)
      }
    ])
    expect(res.conversions[0]).toMatchObject({
      order_id: 'L-1',
      affiliate: { id },
      credited_by: 'manual',
      manual_order_credits: [
        { affiliate_id: id, replaced_affiliate_id: null, status: 'APPROVED', notes: 'Found later' }
      ]
    })
  })

  it('POST /_sandbox/conversions/reset and POST /_sandbox/reset clear manual credits and restart their ids', async () => {
    const { id } = await create(sandbox, { email: 'cleared@example.com' })
    const first = await credit(sandbox, { id, commission: 1, status: 'PENDING' })
    await fetch(`${sandbox.url}/_sandbox/conversions/reset`, { method: 'POST' })
    expect((await listed()).manual_credits).toEqual([])
    const again = await credit(sandbox, { id, commission: 1, status: 'PENDING' })
    expect(again.json.conversion_id).toBe(first.json.conversion_id)
    await fetch(`${sandbox.url}/_sandbox/reset`, { method: 'POST' })
    expect(sandbox.manualCredits()).toEqual([])
  })
})

describe('faults on the manual credit routes', () => {
  it('injects 429/500/503 before applying, and a reset applies nothing', async () => {
    const { id } = await create(sandbox, { email: 'faults@example.com' })
    await track(sandbox, { order_id: 'F-1' })
    for (const status of [429, 500, 503] as const) {
      sandbox.setFaults({ errorRates: { [status]: 1 } })
      expect((await credit(sandbox, { id, commission: 5, status: 'PENDING' })).status).toBe(status)
      expect((await creditOrder(sandbox, { id, order_id: 'F-1' })).status).toBe(status)
    }
    sandbox.setFaults({ errorRates: {}, resetRate: 1 })
    await expect(credit(sandbox, { id, commission: 5, status: 'PENDING' })).rejects.toThrow()
    await expect(creditOrder(sandbox, { id, order_id: 'F-1' })).rejects.toThrow()
    expect(sandbox.manualCredits()).toEqual([])
    expect(sandbox.conversions()[0].manual_order_credits).toEqual([])
    expect(sandbox.stats().byRoute).toMatchObject({
      '/v2/conversion/manual_credit': 4,
      '/v2/conversion/manual_credit_order_id': 4
    })
  })

  it('apply-then-drop keeps the credit: a retried manual_credit pays twice, a retried order credit is Error 6', async () => {
    const { id } = await create(sandbox, { email: 'dropped@example.com' })
    await track(sandbox, { order_id: 'F-2' })
    sandbox.setFaults({ applyThenDropRate: 1 })
    await expect(credit(sandbox, { id, commission: 5, status: 'PENDING' })).rejects.toThrow()
    await expect(creditOrder(sandbox, { id, order_id: 'F-2' })).rejects.toThrow()
    sandbox.setFaults({ applyThenDropRate: 0 })
    expect((await credit(sandbox, { id, commission: 5, status: 'PENDING' })).status).toBe(200)
    expect((await creditOrder(sandbox, { id, order_id: 'F-2' })).json).toEqual({ errors: [ERROR_6] })
    expect(sandbox.manualCredits()).toHaveLength(2)
    const log = sandbox.requests().filter((r) => r.path.startsWith('/v2/conversion/manual_credit'))
    expect(log.map((r) => r.status)).toEqual([null, null, 200, 422])
  })

  it('applies latency', async () => {
    const { id } = await create(sandbox, { email: 'slow@example.com' })
    sandbox.setFaults({ latencyMs: 120 })
    const started = Date.now()
    expect((await credit(sandbox, { id, commission: 5, status: 'PENDING' })).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(118)
  })

  it('needs both key headers (401 otherwise)', async () => {
    const headers = { ...AUTH, 'Refersion-Secret-Key': '' }
    for (const path of ['/conversion/manual_credit', '/conversion/manual_credit_order_id']) {
      const res = await api(sandbox, path, { id: 1, commission: 5, status: 'PENDING' }, headers)
      expect([res.status, res.json]).toEqual([401, { error: 'Invalid API credentials (error 2).' }])
    }
  })
})

describe('the root lists the manual credit routes', () => {
  it('GET / names both operations', async () => {
    const res = await read(await fetch(`${sandbox.url}/`))
    expect(res.json.api).toEqual(
      expect.arrayContaining(['POST /v2/conversion/manual_credit', 'POST /v2/conversion/manual_credit_order_id'])
    )
  })
})
