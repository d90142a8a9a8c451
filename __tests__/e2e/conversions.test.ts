/**
 * End to end, the README's conversions walkthrough: `./bin/run serve` (default: the built-in sandbox) as a real
 * child process, driven over HTTP with the walkthrough's JSON bodies. An affiliate with a coupon → an order with
 * that coupon (other case) is credited to it → a refund of one product cancels that item; an order no affiliate
 * gets → its refund is a success that says the order was never credited. Tracking goes to the sandbox's root,
 * never to Refersion's real tracking host.
 */
import { Answer, freePort, poster, read, Served, startServe, Transcript } from './helpers'

const SECRET = 'sec_demo'
const settings = { apiKey: `pub_demo.${SECRET}` }

// The walkthrough's bodies (README: "Conversions on the sandbox"), verbatim.
const CREATE_PETER = {
  payload: {
    type: 'identify',
    userId: 'peter-gibbons',
    traits: { name: 'Peter Gibbons', email: 'peter@initech.com', coupon: 'PETER10' }
  },
  settings,
  mapping: { conversionTriggerCoupon: { '@path': '$.traits.coupon' } }
}
const ORDER_1001 = {
  payload: {
    type: 'track',
    event: 'Order Completed',
    userId: 'milton-waddams',
    context: {
      traits: { email: 'milton@initech.com', first_name: 'Milton', last_name: 'Waddams' },
      ip: '203.0.113.7'
    },
    properties: {
      order_id: '1001',
      checkout_id: 'chk-7f3a9c',
      currency: 'usd',
      shipping: 5,
      tax: 3.5,
      discount: -4.45,
      coupon: 'peter10',
      products: [
        { product_id: 'pid-stapler', sku: 'STAPLER-RED', name: 'Red Swingline stapler', price: 24.5, quantity: 1 },
        { product_id: 'pid-tps', sku: 'TPS-COVER', name: 'TPS report cover sheets', price: 9.99, quantity: 2 }
      ]
    }
  },
  settings
}
const REFUND_1001 = {
  payload: {
    type: 'track',
    event: 'Order Refunded',
    userId: 'milton-waddams',
    properties: {
      order_id: '1001',
      products: [{ product_id: 'pid-stapler', sku: 'STAPLER-RED', price: 24.5, quantity: 1 }]
    }
  },
  settings
}
const ORDER_1002 = {
  payload: {
    type: 'track',
    event: 'Order Completed',
    userId: 'samir-n',
    context: { traits: { email: 'samir@initech.com' } },
    properties: { order_id: '1002', products: [{ sku: 'TPS-COVER', price: 9.99 }] }
  },
  settings
}
const REFUND_1002 = {
  payload: {
    type: 'track',
    event: 'Order Refunded',
    userId: 'samir-n',
    properties: { order_id: '1002', products: [{ sku: 'TPS-COVER', price: 9.99 }] }
  },
  settings
}

let served: Served
let sandboxPort: number
let post: ReturnType<typeof poster>
const transcript = new Transcript()

interface Conversion {
  order_id: string
  cart_id: string
  currency_code: string
  affiliate: { id: number; code: string } | null
  credited_by: string | null
  items: unknown[]
  cancelled_items: unknown[]
  deliveries: number
}

async function conversions(): Promise<Conversion[]> {
  const answer = transcript.record(await read(await fetch(`${served.sandboxUrl}/_sandbox/conversions`)))
  expect(answer.status).toBe(200)
  return answer.json.conversions
}

async function conversion(orderId: string): Promise<Conversion | undefined> {
  return (await conversions()).find((c) => c.order_id === orderId)
}

/** The one exchange of an action answer (a success: no requestError entry). */
function onlyExchange(answer: Answer) {
  expect(answer.status).toBe(200)
  expect(answer.json).toEqual([expect.objectContaining({ request: expect.any(Object), response: expect.any(Object) })])
  return answer.json[0] as {
    request: { url: string; method: string; headers: Record<string, string>; body: string }
    response: { statusCode: number; body: unknown }
  }
}

/** The action's result, as serve reports it in the `x-serve-result` header. */
function resultOf(answer: Answer): unknown {
  const header = answer.headers.get('x-serve-result')
  expect(header).toEqual(expect.any(String))
  return JSON.parse(header!)
}

beforeAll(async () => {
  const port = await freePort()
  sandboxPort = await freePort()
  // As the walkthrough starts it (`./bin/run serve --sandbox-port 3001`), on free ports and without watching.
  served = await startServe(['--port', String(port), '--sandbox-port', String(sandboxPort), '--no-watch'])
  post = poster(served.url, transcript)
}, 60_000)

afterAll(async () => {
  await served?.cli.stop()
})

test('serve points both Refersion hosts at the sandbox by default', () => {
  expect(served.sandboxUrl).toBe(`http://127.0.0.1:${sandboxPort}`)
  expect(served.cli.output).toContain(`REFERSION_BASE_URL=${served.sandboxUrl}/v2`)
  expect(served.cli.output).toContain(`REFERSION_TRACKING_URL=${served.sandboxUrl}`)
  for (const route of ['POST /trackOrder', 'POST /cancelOrder', 'POST /addConversionTrigger']) {
    expect(served.cli.output).toContain(`  ${route}\n`)
  }
})

test('walkthrough: affiliate with a coupon → order with that coupon is credited → refund cancels one item', async () => {
  // 1. An affiliate whose coupon PETER10 is its COUPON conversion trigger.
  const created = onlyExchange(await post('/createAffiliate', CREATE_PETER))
  expect(new URL(created.request.url).pathname).toBe('/v2/affiliate/new')
  expect(JSON.parse(created.request.body)).toMatchObject({
    email: 'peter@initech.com',
    conversion_trigger_coupon: 'PETER10'
  })
  expect(created.response.statusCode).toBe(200)
  const affiliates = (await read(await fetch(`${served.sandboxUrl}/_sandbox/affiliates`))).json.affiliates
  const peter = affiliates.find((a: { email: string }) => a.email === 'peter@initech.com')
  expect(peter).toMatchObject({ id: expect.any(Number), code: expect.any(String) })

  // 2. The order, coupon in lower case: one request, to the sandbox's root, never to Refersion's real host.
  const orderAnswer = await post('/trackOrder', ORDER_1001)
  const tracked = onlyExchange(orderAnswer)
  expect(tracked.request.url).toBe(`${served.sandboxUrl}/tracker/orders/paid`)
  expect(tracked.request.method).toBe('POST')
  expect(tracked.request.headers['refersion-secret-key']).toBe('<redacted>')
  expect(JSON.parse(tracked.request.body)).toEqual({
    cart_id: 'chk-7f3a9c',
    order_id: '1001',
    currency_code: 'USD',
    items: [
      { sku: 'STAPLER-RED', quantity: 1, price: 24.5, name: 'Red Swingline stapler' },
      { sku: 'TPS-COVER', quantity: 2, price: 9.99, name: 'TPS report cover sheets' }
    ],
    shipping: 5,
    tax: 3.5,
    discount: 4.45,
    discount_code: 'peter10',
    customer: { first_name: 'Milton', last_name: 'Waddams', email: 'milton@initech.com', ip_address: '203.0.113.7' }
  })
  expect(tracked.response).toMatchObject({ statusCode: 200, body: { status: 'received', order_id: '1001' } })
  expect(resultOf(orderAnswer)).toMatchObject({ outcome: 'tracked', order_id: '1001', cart_id: 'chk-7f3a9c' })

  // 3. The sandbox credited it to Peter, by coupon.
  expect(await conversion('1001')).toMatchObject({
    cart_id: 'chk-7f3a9c',
    currency_code: 'USD',
    affiliate: { id: peter.id, code: peter.code },
    credited_by: 'coupon',
    cancelled_items: [],
    deliveries: 1
  })

  // 4. The stapler is refunded: that one item is cancelled.
  const refundAnswer = await post('/cancelOrder', REFUND_1001)
  const cancelled = onlyExchange(refundAnswer)
  expect(new URL(cancelled.request.url).pathname).toBe('/v2/conversion/cancel')
  expect(JSON.parse(cancelled.request.body)).toEqual({
    order_id: '1001',
    items: [{ sku: 'STAPLER-RED', price: 24.5, quantity: 1 }]
  })
  expect(cancelled.response).toMatchObject({ statusCode: 200, body: { conversion_id: expect.any(String) } })
  expect(resultOf(refundAnswer)).toMatchObject({ outcome: 'cancelled', order_id: '1001' })
  expect((await conversion('1001'))?.cancelled_items).toEqual([{ sku: 'STAPLER-RED', price: 24.5, quantity: 1 }])

  // A redelivered order changes nothing: still one order 1001, credited to Peter.
  onlyExchange(await post('/trackOrder', ORDER_1001))
  const again = (await conversions()).filter((c) => c.order_id === '1001')
  expect(again).toHaveLength(1)
  expect(again[0]).toMatchObject({ affiliate: { id: peter.id }, credited_by: 'coupon', deliveries: 2 })
})

test('an order no affiliate gets: recorded uncredited, and its refund is a success that says so', async () => {
  const tracked = onlyExchange(await post('/trackOrder', ORDER_1002))
  expect(tracked.request.url).toBe(`${served.sandboxUrl}/tracker/orders/paid`)
  // No cart id, no checkout id: the order id is the cart id; no currency: USD.
  expect(JSON.parse(tracked.request.body)).toMatchObject({ cart_id: '1002', currency_code: 'USD' })
  expect(await conversion('1002')).toMatchObject({ affiliate: null, credited_by: null, cancelled_items: [] })

  const refundAnswer = await post('/cancelOrder', REFUND_1002)
  const exchange = onlyExchange(refundAnswer)
  // Refersion's "Invalid order ID" for an order it never credited is not an error for the destination.
  expect(exchange.response).toMatchObject({
    statusCode: 422,
    body: { errors: [expect.stringMatching(/invalid order id/i)] }
  })
  expect(resultOf(refundAnswer)).toEqual({ outcome: 'not_credited', order_id: '1002' })
  expect((await conversion('1002'))?.cancelled_items).toEqual([])
})

test('nothing went to the real tracking host, and the secret never showed', () => {
  expect(transcript.all).not.toContain('inbound-webhooks.refersion.com')
  expect(transcript.all).not.toContain(SECRET)
  expect(served.cli.output).not.toContain(SECRET)
  expect(served.cli.output).toMatch(/^200 POST \/trackOrder \d+ms$/m)
  expect(served.cli.output).toMatch(/^200 POST \/cancelOrder \d+ms$/m)
})
