import { InvalidAuthenticationError, PayloadValidationError } from '@segment/actions-core'
import destination from '../../index'
import trackOrder from '../index'
import { DEFAULT_TRACKING_URL, trackingUrl } from '../../lib/client'
import { FieldValidationError, isRetryable, RefersionApiError, RefersionRetryableError } from '../../lib/errors'
import { caught, recordBodies, SECRET_KEY, trap, useOfflineNock } from '../../__tests__/__helpers__/refersion'
import {
  batch,
  Event,
  ORDER_BODY,
  orderCompleted,
  PAID,
  performed,
  run,
  tracking,
  TRACKING_ORIGIN,
  trackingTrap
} from '../../__tests__/__helpers__/orders'

useOfflineNock()

const product = (extra: Record<string, unknown>) => ({
  sku: 'SKU-1',
  name: 'Stapler',
  price: 9.5,
  quantity: 1,
  ...extra
})
const withProducts = (...products: Record<string, unknown>[]) => orderCompleted({ products })

/** Expects a FieldValidationError naming exactly `fields`, with no request sent to either host. */
async function rejects(event: Event, fields: string[], message?: RegExp) {
  const rest = trap()
  const hook = trackingTrap()
  const error = await caught(() => run('trackOrder', event))
  expect(error).toBeInstanceOf(FieldValidationError)
  expect(error).toBeInstanceOf(PayloadValidationError)
  expect(error.status).toBe(400)
  expect((error as unknown as FieldValidationError).fields).toEqual(fields)
  for (const field of fields) expect(error.message).toContain(field)
  if (message) expect(error.message).toMatch(message)
  expect(rest.isDone()).toBe(false)
  expect(hook.isDone()).toBe(false)
  return error
}

describe('trackOrder: definition', () => {
  it('subscribes to Order Completed and has the SPEC fields', () => {
    expect(trackOrder.title).toBe('Track Order')
    expect(trackOrder.defaultSubscription).toBe('type = "track" and event = "Order Completed"')
    expect(Object.keys(trackOrder.fields)).toEqual([
      'orderId',
      'cartId',
      'currency',
      'items',
      'shipping',
      'tax',
      'discount',
      'discountCode',
      'customer',
      'affiliateId',
      'subscriptionId',
      'enable_batching',
      'batch_size'
    ])
    for (const key of ['orderId', 'cartId', 'currency', 'items']) expect(trackOrder.fields[key].required).toBe(true)
    expect(Object.keys(trackOrder.fields.items.properties ?? {})).toEqual(['sku', 'name', 'price', 'quantity'])
    expect(trackOrder.fields.items.multiple).toBe(true)
    expect(trackOrder.fields.affiliateId.default).toBeUndefined()
    expect(trackOrder.fields.subscriptionId.default).toBeUndefined()
  })

  it('tells merchants what cart_id must equal and that the auto-credit affiliate overrides attribution', () => {
    expect(trackOrder.fields.cartId.description).toMatch(/refersion\.js/)
    expect(trackOrder.fields.cartId.description).toMatch(/guessable/)
    expect(trackOrder.fields.affiliateId.description).toMatch(/overrid/i)
    expect(trackOrder.fields.discountCode.description).toMatch(/COUPON/)
    expect(trackOrder.fields.customer.description).toMatch(/EMAIL/)
  })

  it('has an automatic "Track Order" preset with the default mappings', () => {
    const preset = destination.presets?.find((p) => p.name === 'Track Order')
    expect(preset).toMatchObject({
      type: 'automatic',
      subscribe: 'type = "track" and event = "Order Completed"',
      partnerAction: 'trackOrder'
    })
  })
})

describe('trackOrder: the webhook body', () => {
  it('Spec v2 Order Completed → one POST with the exact body (discount absolute, currency upper case)', async () => {
    const scope = tracking().post(PAID, ORDER_BODY).reply(200, { ok: true })
    const responses = await run('trackOrder', orderCompleted())
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(1)
    expect(responses[0].url).toBe(`${TRACKING_ORIGIN}${PAID}`)
    expect(performed()).toEqual({
      outcome: 'tracked',
      order_id: ORDER_BODY.order_id,
      cart_id: ORDER_BODY.cart_id,
      status: 200
    })
  })

  it('cart_id: cart_id, else checkout_id, else order_id', async () => {
    const scope = tracking()
      .post(PAID, { ...ORDER_BODY, cart_id: 'cart-9f3' })
      .reply(200, {})
      .post(PAID, { ...ORDER_BODY, cart_id: ORDER_BODY.order_id })
      .reply(200, {})
    await run('trackOrder', orderCompleted({ cart_id: 'cart-9f3' }))
    await run('trackOrder', orderCompleted({ checkout_id: undefined }))
    expect(scope.isDone()).toBe(true)
  })

  it('sku falls back to product_id; quantity defaults to 1; name left out when absent', async () => {
    const scope = tracking()
      .post(PAID, {
        ...ORDER_BODY,
        items: [
          { sku: 'p-1', quantity: 1, price: 4 },
          { sku: 'SKU-2', quantity: 3, price: 5, name: 'Red Stapler' }
        ]
      })
      .reply(200, {})
    await run(
      'trackOrder',
      withProducts(
        { product_id: 'p-1', price: 4 },
        { product_id: 'p-2', sku: 'SKU-2', price: 5, quantity: 3, name: 'Red Stapler' }
      )
    )
    expect(scope.isDone()).toBe(true)
  })

  it('currency USD when absent; numeric strings are numbers; absent optional values are left out', async () => {
    const event = orderCompleted({
      currency: undefined,
      shipping: '4.50',
      tax: undefined,
      discount: undefined,
      coupon: undefined,
      products: [product({ price: '19.99', quantity: '2' })]
    })
    event.context = {}
    const scope = tracking()
      .post(PAID, {
        cart_id: ORDER_BODY.cart_id,
        order_id: ORDER_BODY.order_id,
        currency_code: 'USD',
        items: [{ sku: 'SKU-1', quantity: 2, price: 19.99, name: 'Stapler' }],
        shipping: 4.5
      })
      .reply(200, {})
    await run('trackOrder', event)
    expect(scope.isDone()).toBe(true)
  })

  it('customer email falls back to properties.email; first_name/last_name snake_case traits are read', async () => {
    const event = orderCompleted({ email: 'bob@initech.com' })
    event.context = { traits: { first_name: 'Bob', last_name: 'Slydell' } }
    const scope = tracking()
      .post(PAID, { ...ORDER_BODY, customer: { first_name: 'Bob', last_name: 'Slydell', email: 'bob@initech.com' } })
      .reply(200, {})
    await run('trackOrder', event)
    expect(scope.isDone()).toBe(true)
  })

  it('auto-credit affiliate and subscription when mapped', async () => {
    const scope = tracking()
      .post(PAID, {
        ...ORDER_BODY,
        auto_credit_affiliate_id: '37569297',
        is_subscription: true,
        subscription_id: 'sub_7'
      })
      .reply(200, {})
    await run('trackOrder', orderCompleted(), { affiliateId: '37569297', subscriptionId: 'sub_7' })
    expect(scope.isDone()).toBe(true)
  })
})

describe('trackOrder: validation (FieldValidationError naming the field, nothing sent)', () => {
  it('no items', async () => {
    await rejects(withProducts(), ['items'])
  })

  it('no products at all: the required field is missing (schema validation, 400, nothing sent)', async () => {
    const rest = trackingTrap()
    const error = await caught(() => run('trackOrder', orderCompleted({ products: undefined })))
    expect(error.message).toMatch(/items/)
    expect(rest.isDone()).toBe(false)
  })

  it('an item with neither SKU nor product ID names its position', async () => {
    await rejects(withProducts(product({}), product({}), product({ sku: undefined })), ['items[2].sku'])
  })

  it('a negative price, a zero or fractional quantity', async () => {
    await rejects(withProducts(product({ price: -1 })), ['items[0].price'], /unit price/)
    await rejects(withProducts(product({}), product({ quantity: 0 })), ['items[1].quantity'])
  })

  it('a missing price (Refersion needs the unit price)', async () => {
    await rejects(withProducts(product({ price: undefined })), ['items[0].price'], /missing/)
  })

  it('negative shipping or tax; several problems are all named', async () => {
    await rejects(orderCompleted({ shipping: -3 }), ['shipping'])
    await rejects(orderCompleted({ tax: -0.01, currency: 'dollars' }), ['currency', 'tax'])
  })

  it('a currency that is not three letters', async () => {
    await rejects(orderCompleted({ currency: 'US' }), ['currency'])
    await rejects(orderCompleted({ currency: 'U$D' }), ['currency'])
  })

  it('a non-numeric price or quantity names the item', async () => {
    await rejects(withProducts(product({}), product({ price: 'nineteen' })), ['items[1].price'])
    await rejects(withProducts(product({ quantity: 'two' })), ['items[0].quantity'])
    await rejects(withProducts(product({}), product({}), product({ quantity: 1.5 })), ['items[2].quantity'])
    await rejects(withProducts(product({ price: true })), ['items[0].price'])
  })

  it('a non-numeric shipping or tax is rejected by its type (400 naming the field), nothing sent', async () => {
    const rest = trackingTrap()
    for (const bad of [{ shipping: 'free' }, { tax: 'n/a' }]) {
      const error = await caught(() => run('trackOrder', orderCompleted(bad)))
      expect(error.message).toMatch(/^(Shipping|Tax) must be a number/)
    }
    expect(rest.isDone()).toBe(false)
  })
})

describe('trackOrder: answers', () => {
  it.each([
    ['204 without a body', 204, undefined, undefined],
    ['200 with an empty body', 200, '', undefined],
    ['200 with a non-JSON body', 200, 'OK', { 'Content-Type': 'text/plain' }],
    ['201 with JSON', 201, { id: 1 }, undefined]
  ])('%s is success', async (_name, status, body, headers) => {
    const scope = tracking()
      .post(PAID)
      .reply(status, body as never, headers)
    await run('trackOrder', orderCompleted())
    expect(scope.isDone()).toBe(true)
    expect(performed()).toMatchObject({ outcome: 'tracked', status })
  })

  it('401 → InvalidAuthenticationError without the secret', async () => {
    tracking()
      .post(PAID)
      .reply(401, { error: `Invalid API credentials for ${SECRET_KEY} (error 2).` })
    const error = await caught(() => run('trackOrder', orderCompleted()))
    expect(error).toBeInstanceOf(InvalidAuthenticationError)
    expect(error.message).not.toContain(SECRET_KEY)
    expect(isRetryable(error)).toBe(false)
  })

  it('429 and 500 are retryable; 429 keeps Retry-After', async () => {
    tracking().post(PAID).reply(429, { error: 'Too many requests' }, { 'Retry-After': '3' })
    const limited = await caught(() => run('trackOrder', orderCompleted()))
    expect(limited).toBeInstanceOf(RefersionRetryableError)
    expect((limited as unknown as RefersionRetryableError).retryAfterMs).toBe(3000)
    tracking().post(PAID).reply(500, 'Internal Server Error')
    const down = await caught(() => run('trackOrder', orderCompleted()))
    expect(isRetryable(down)).toBe(true)
    expect(down.status).toBe(500)
  })

  it('a connection reset is retryable', async () => {
    tracking()
      .post(PAID)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    const error = await caught(() => run('trackOrder', orderCompleted()))
    expect(isRetryable(error)).toBe(true)
  })

  it("400 is final and carries Refersion's words", async () => {
    tracking().post(PAID).reply(400, { error: 'Missing required field cart_id' })
    const error = await caught(() => run('trackOrder', orderCompleted()))
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.status).toBe(400)
    expect(error.message).toContain('Missing required field cart_id')
    expect(isRetryable(error)).toBe(false)
  })
})

describe('trackOrder: tracking host', () => {
  afterEach(() => {
    delete process.env.REFERSION_TRACKING_URL
  })

  it('is production when REFERSION_TRACKING_URL is unset or blank', () => {
    expect(trackingUrl({})).toBe(DEFAULT_TRACKING_URL)
    expect(trackingUrl({ REFERSION_TRACKING_URL: '  ' })).toBe('https://inbound-webhooks.refersion.com')
  })

  it('REFERSION_TRACKING_URL overrides it (trailing slash ignored)', async () => {
    process.env.REFERSION_TRACKING_URL = 'http://127.0.0.1:4599/'
    const hook = trackingTrap()
    const local = tracking('http://127.0.0.1:4599').post(PAID, ORDER_BODY).reply(204)
    await run('trackOrder', orderCompleted())
    expect(local.isDone()).toBe(true)
    expect(hook.isDone()).toBe(false)
  })
})

describe('trackOrder: performBatch', () => {
  const order = (i: number, extra: Record<string, unknown> = {}) =>
    orderCompleted({ order_id: `o-${i}`, checkout_id: `c-${i}`, ...extra })
  const body = (i: number) => ({ ...ORDER_BODY, order_id: `o-${i}`, cart_id: `c-${i}` })

  it('one request per order; a bad event fails alone (400) and a failing one fails alone', async () => {
    const scope = tracking()
      .post(PAID, body(0))
      .reply(200, {})
      .post(PAID, body(2))
      .reply(400, { error: 'Invalid field currency_code' })
      .post(PAID, body(3))
      .reply(204)
    const statuses = await batch('trackOrder', [order(0), order(1, { currency: 'dollars' }), order(2), order(3)])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 400, 400, 200])
    expect(statuses[1]).toMatchObject({ errortype: 'PAYLOAD_VALIDATION_FAILED' })
    expect(statuses[1].errormessage).toContain('currency')
    expect(statuses[2].errormessage).toContain('Invalid field currency_code')
    expect(statuses[0]).toMatchObject({ sent: body(0), body: { outcome: 'tracked', order_id: 'o-0', status: 200 } })
  })

  it('a 429 on one order makes only that one retryable', async () => {
    const scope = tracking()
      .post(PAID, body(0))
      .reply(200, {})
      .post(PAID, body(1))
      .reply(429, { error: 'slow down' }, { 'Retry-After': '0' })
      .post(PAID, body(2))
      .reply(200, {})
    const statuses = await batch('trackOrder', [order(0), order(1), order(2)])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 429, 200])
    expect(statuses[1].errortype).toBe('TOO_MANY_REQUESTS')
    expect(statuses[1].errormessage).toContain('slow down')
  })

  it('a 401 fails the events as INVALID_AUTHENTICATION (final), without the secret', async () => {
    const scope = tracking().post(PAID).times(2).reply(401, { error: 'Invalid API credentials (error 2).' })
    const statuses = await batch('trackOrder', [order(0), order(1)])
    expect(scope.isDone()).toBe(true)
    for (const status of statuses) {
      expect(status).toMatchObject({ status: 401, errortype: 'INVALID_AUTHENTICATION' })
      expect(JSON.stringify(status)).not.toContain(SECRET_KEY)
    }
  })
})

describe('conversion request body snapshots', () => {
  it('Spec v2 Order Completed → tracking webhook', async () => {
    const scope = tracking().post(PAID).reply(204)
    const bodies = recordBodies(scope)
    await run('trackOrder', orderCompleted(), { affiliateId: '37569297', subscriptionId: 'sub_7' })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
