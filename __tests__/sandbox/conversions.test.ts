import { RunningSandbox, startSandbox } from '../../tools/sandbox'
import { AUTH, api, create, order, read, track } from './helpers'

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 31 })
})

afterAll(async () => {
  await sandbox.close()
})

beforeEach(() => sandbox.reset())

async function trigger(code: string, type: string, value: string): Promise<void> {
  const res = await api(sandbox, '/affiliate/trigger', { affiliate_code: code, type, trigger: value })
  expect(res.status).toBe(200)
}

async function listed(): Promise<{ total: number; conversions: Record<string, unknown>[] }> {
  return (await read(await fetch(`${sandbox.url}/_sandbox/conversions`))).json
}

describe('POST /tracker/orders/paid (root of the sandbox)', () => {
  it('records an order and answers 200 with a small JSON body; it is not served under /v2', async () => {
    const res = await track(sandbox, { order_id: 'A-1', cart_id: 'cart-A-1' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ status: 'received', order_id: 'A-1' })
    expect(sandbox.conversions()).toHaveLength(1)
    const underV2 = await api(sandbox, '/tracker/orders/paid', order())
    expect(underV2.status).toBe(404)
    expect(sandbox.conversions()).toHaveLength(1)
  })

  it('needs both key headers (401 otherwise) and a body', async () => {
    const variants: Record<string, string>[] = [
      { 'Content-Type': 'application/json' },
      { 'Refersion-Public-Key': 'pub' }
    ]
    for (const headers of variants) {
      const res = await track(sandbox, {}, headers)
      expect(res.status).toBe(401)
      expect(res.json).toEqual({ error: 'Invalid API credentials (error 2).' })
    }
    const empty = await track(sandbox, '')
    expect(empty.status).toBe(400)
    expect(sandbox.conversions()).toEqual([])
  })

  it.each([
    ['an undocumented field', { coupon: 'X' }, 'Invalid field coupon'],
    ['a string price', { items: [{ sku: 'a', quantity: 1, price: '9.99' }] }, 'Invalid field items[0].price'],
    ['a fractional quantity', { items: [{ sku: 'a', quantity: 1.5, price: 1 }] }, 'Invalid field items[0].quantity'],
    ['a negative price', { items: [{ sku: 'a', quantity: 1, price: -1 }] }, 'Invalid field items[0].price'],
    ['a four-letter currency', { currency_code: 'USDX' }, 'Invalid field currency_code'],
    ['a cart id over 255 characters', { cart_id: 'c'.repeat(256) }, 'Invalid field cart_id'],
    ['a numeric order id', { order_id: 1001 }, 'Invalid field order_id'],
    ['no items', { items: [] }, 'Invalid field items'],
    ['a string is_subscription', { is_subscription: 'true' }, 'Invalid field is_subscription'],
    ['a missing cart id', { cart_id: undefined }, 'Missing required field cart_id'],
    ['an item without sku', { items: [{ quantity: 1, price: 1 }] }, 'Missing required field items[0].sku'],
    ['a missing currency', { currency_code: undefined }, 'Missing required field currency_code']
  ])('answers %s with 400 and records nothing', async (_label, overrides, error) => {
    const res = await track(sandbox, overrides)
    expect(res.status).toBe(400)
    expect(res.json).toEqual({ error })
    expect(sandbox.conversions()).toEqual([])
    expect(sandbox.stats().contractRejections).toBe(1)
  })

  it('accepts every documented optional field', async () => {
    const res = await track(sandbox, {
      shipping: 5,
      tax: 1.25,
      discount: 3,
      discount_code: 'NONE',
      customer: { first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com', ip_address: '203.0.113.9' },
      is_subscription: true,
      subscription_id: 'sub-1',
      auto_credit_affiliate_id: 'nobody',
      currency_code: 'eur'
    })
    expect(res.status).toBe(200)
    expect(sandbox.conversions()[0]).toMatchObject({ currency_code: 'EUR', affiliate: null, credited_by: null })
  })
})

describe('attribution', () => {
  it('credits auto_credit_affiliate_id (id or code) first, then the COUPON trigger, then the EMAIL trigger', async () => {
    const auto = await create(sandbox, { email: 'auto@example.com' })
    const coupon = await create(sandbox, { email: 'coupon@example.com', conversion_trigger_coupon: 'Summer10' })
    const byEmail = await create(sandbox, { email: 'email@example.com' })
    await trigger(byEmail.code, 'EMAIL', 'Buyer@Example.com')
    const customer = { email: 'buyer@example.com' }

    await track(sandbox, { order_id: 'o1', auto_credit_affiliate_id: auto.code, discount_code: 'SUMMER10', customer })
    await track(sandbox, { order_id: 'o2', auto_credit_affiliate_id: auto.id, discount_code: 'SUMMER10', customer })
    await track(sandbox, { order_id: 'o3', auto_credit_affiliate_id: String(auto.id), customer })
    await track(sandbox, { order_id: 'o4', discount_code: 'summer10', customer })
    await track(sandbox, { order_id: 'o5', auto_credit_affiliate_id: 'nobody', discount_code: 'OTHER', customer })
    await track(sandbox, { order_id: 'o6', discount_code: 'OTHER', customer: { email: 'stranger@example.com' } })
    await track(sandbox, { order_id: 'o7' })

    const credits = sandbox.conversions().map((o) => [o.order_id, o.affiliate?.code ?? null, o.credited_by])
    expect(credits).toEqual([
      ['o1', auto.code, 'auto_credit'],
      ['o2', auto.code, 'auto_credit'],
      ['o3', auto.code, 'auto_credit'],
      ['o4', coupon.code, 'coupon'],
      ['o5', byEmail.code, 'email'],
      ['o6', null, null],
      ['o7', null, null]
    ])
    expect(sandbox.conversions().map((o) => o.conversion_id !== null)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false
    ])
  })

  it('credits an order id once: a redelivery answers 200 and changes nothing', async () => {
    const first = await create(sandbox, { email: 'first@example.com', conversion_trigger_coupon: 'ONE' })
    const second = await create(sandbox, { email: 'second@example.com' })
    const body = { order_id: 'dup-1', cart_id: 'cart-dup', discount_code: 'ONE' }
    expect((await track(sandbox, body)).status).toBe(200)
    const before = sandbox.conversions()[0]
    const again = await track(sandbox, { ...body, auto_credit_affiliate_id: second.code, items: [] as unknown[] })
    expect(again.status).toBe(400) // an invalid redelivery is still refused by the contract
    const redelivered = await track(sandbox, { ...body, auto_credit_affiliate_id: second.code, cart_id: 'other' })
    expect(redelivered.status).toBe(200)
    expect(redelivered.json).toEqual({ status: 'received', order_id: 'dup-1' })
    const after = sandbox.conversions()
    expect(after).toHaveLength(1)
    expect(after[0]).toEqual({ ...before, deliveries: 2 })
    expect(after[0].affiliate).toEqual({ id: first.id, code: first.code })
  })
})

describe('POST /v2/conversion/cancel', () => {
  async function credited(): Promise<string> {
    const { code } = await create(sandbox, { email: 'seller@example.com' })
    await track(sandbox, {
      order_id: 'R-1',
      cart_id: 'cart-R-1',
      auto_credit_affiliate_id: code,
      items: [
        { sku: 'MUG', quantity: 3, price: 8 },
        { sku: 'CAP', quantity: 1, price: 15 }
      ]
    })
    return sandbox.conversions()[0].conversion_id as string
  }

  it('cancels items of a credited order: 200 {"conversion_id": "<string>"}', async () => {
    const conversionId = await credited()
    const res = await api(sandbox, '/conversion/cancel', {
      order_id: 'R-1',
      items: [{ sku: 'MUG', price: 8, quantity: 2 }]
    })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ conversion_id: conversionId })
    expect(typeof res.json.conversion_id).toBe('string')
    expect(sandbox.conversions()[0].cancelled_items).toEqual([{ sku: 'MUG', price: 8, quantity: 2 }])
  })

  it('never cancels more of a SKU than was ordered, so a redelivery takes nothing more', async () => {
    await credited()
    const body = { order_id: 'R-1', items: [{ sku: 'MUG', price: 8, quantity: 2 }, { sku: 'CAP' }, { sku: 'HAT' }] }
    for (let i = 0; i < 3; i++) expect((await api(sandbox, '/conversion/cancel', body)).status).toBe(200)
    expect(sandbox.conversions()[0].cancelled_items).toEqual([
      { sku: 'MUG', price: 8, quantity: 2 },
      { sku: 'CAP', price: 15, quantity: 1 },
      { sku: 'MUG', price: 8, quantity: 1 }
    ])
  })

  it('answers an order id with no credited conversion with 422 "Invalid order ID (error 5)"', async () => {
    await track(sandbox, { order_id: 'uncredited' })
    for (const orderId of ['uncredited', 'never-seen']) {
      const res = await api(sandbox, '/conversion/cancel', { order_id: orderId, items: [{ sku: 'TSHIRT-RED' }] })
      expect(res.status).toBe(422)
      expect(res.json).toEqual({ errors: ['Invalid order ID (error 5)'] })
    }
    expect(sandbox.conversions()[0].cancelled_items).toEqual([])
  })
})

describe('GET /_sandbox/conversions and its reset', () => {
  it('lists each order with its affiliate, how it was credited, items and cancelled items', async () => {
    const { id, code } = await create(sandbox, { email: 'lister@example.com', conversion_trigger_coupon: 'LIST5' })
    await track(sandbox, { order_id: 'L-1', cart_id: 'cart-L-1', discount_code: 'LIST5' })
    await track(sandbox, { order_id: 'L-2', cart_id: 'cart-L-2' })
    await api(sandbox, '/conversion/cancel', {
      order_id: 'L-1',
      items: [{ sku: 'TSHIRT-RED', price: 19.5, quantity: 1 }]
    })
    const res = await listed()
    expect(res.total).toBe(2)
    expect(res.conversions[0]).toMatchObject({
      order_id: 'L-1',
      cart_id: 'cart-L-1',
      affiliate: { id, code },
      credited_by: 'coupon',
      items: [{ sku: 'TSHIRT-RED', quantity: 2, price: 19.5, name: 'Red T-shirt' }],
      cancelled_items: [{ sku: 'TSHIRT-RED', price: 19.5, quantity: 1 }],
      deliveries: 1
    })
    expect(res.conversions[1]).toMatchObject({
      order_id: 'L-2',
      affiliate: null,
      credited_by: null,
      cancelled_items: []
    })

    const reset = await fetch(`${sandbox.url}/_sandbox/conversions/reset`, { method: 'POST' })
    expect(await reset.json()).toEqual({ ok: true })
    expect((await listed()).total).toBe(0)
    expect(sandbox.store.size).toBe(1)
  })

  it('POST /_sandbox/reset clears orders too', async () => {
    await track(sandbox)
    await fetch(`${sandbox.url}/_sandbox/reset`, { method: 'POST' })
    expect(sandbox.conversions()).toEqual([])
  })
})

describe('faults on the conversion routes', () => {
  it('injects 5xx and 429 before applying, on the webhook and on cancel and trigger', async () => {
    const { code } = await create(sandbox, { email: 'faulty@example.com' })
    sandbox.setFaults({ errorRates: { 503: 1 } })
    expect((await track(sandbox, { order_id: 'F-1', auto_credit_affiliate_id: code })).status).toBe(503)
    expect((await api(sandbox, '/affiliate/trigger', { affiliate_code: code, type: 'SKU', trigger: 's' })).status).toBe(
      503
    )
    expect((await api(sandbox, '/conversion/cancel', { order_id: 'F-1', items: [{ sku: 'x' }] })).status).toBe(503)
    sandbox.setFaults({ errorRates: { 429: 1 }, retryAfterSeconds: 4 })
    const limited = await track(sandbox, { order_id: 'F-1' })
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '4'])
    expect(sandbox.conversions()).toEqual([])
    expect(sandbox.store.allTriggers()).toEqual([])
    expect(sandbox.stats().byRoute['/tracker/orders/paid']).toBe(2)
  })

  it('reset applies nothing; apply-then-drop keeps the order, and the redelivery does not count it twice', async () => {
    const { code } = await create(sandbox, { email: 'drop@example.com' })
    sandbox.setFaults({ resetRate: 1 })
    await expect(track(sandbox, { order_id: 'D-1', auto_credit_affiliate_id: code })).rejects.toThrow()
    expect(sandbox.conversions()).toEqual([])
    sandbox.setFaults({ resetRate: 0, applyThenDropRate: 1 })
    await expect(track(sandbox, { order_id: 'D-1', auto_credit_affiliate_id: code })).rejects.toThrow()
    expect(sandbox.conversions()).toHaveLength(1)
    sandbox.setFaults({ applyThenDropRate: 0 })
    expect((await track(sandbox, { order_id: 'D-1', auto_credit_affiliate_id: code })).status).toBe(200)
    expect(sandbox.conversions()).toEqual([
      expect.objectContaining({ order_id: 'D-1', credited_by: 'auto_credit', deliveries: 2 })
    ])
    expect(sandbox.requests().map((r) => r.status)).toEqual([200, null, null, 200])
  })

  it('rate-limits the webhook per public key together with the REST routes', async () => {
    sandbox.setFaults({ rateLimit: { requests: 2, perMs: 60000 } })
    expect((await api(sandbox, '/affiliate/list', { limit: '1' })).status).toBe(200)
    expect((await track(sandbox)).status).toBe(200)
    const limited = await track(sandbox)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('applies latency to the webhook', async () => {
    sandbox.setFaults({ latencyMs: 120 })
    const started = Date.now()
    expect((await track(sandbox)).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(118)
  })
})

describe('the root describes both URLs', () => {
  it('GET / names apiBaseUrl, trackingUrl and the new routes', async () => {
    const res = await read(await fetch(`${sandbox.url}/`, { headers: AUTH }))
    expect(res.json).toMatchObject({ apiBaseUrl: sandbox.baseUrl, trackingUrl: sandbox.trackingUrl })
    expect(res.json.api).toEqual(
      expect.arrayContaining(['POST /tracker/orders/paid', 'POST /v2/conversion/cancel', 'POST /v2/affiliate/trigger'])
    )
    expect(res.json.inspection).toEqual(expect.arrayContaining(['GET /_sandbox/conversions', 'GET /_sandbox/requests']))
  })
})
