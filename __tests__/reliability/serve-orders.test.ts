/**
 * Hostile input to the conversion routes of `./bin/run serve --sandbox`: malformed JSON, wrongly typed and huge
 * payloads to `/trackOrder`, `/cancelOrder` and `/addConversionTrigger`. Every request gets a clear 4xx or an
 * error array (never a 500, never a crash), nothing that breaks Refersion's contract reaches the sandbox, the
 * secret never shows, and a valid order afterwards is still tracked and credited.
 */
import { API_KEY, SECRET_KEY } from './helpers'
import { expectSane, useHostileServe } from './serve-process'

const settings = { apiKey: API_KEY }
const ROUTES = ['/trackOrder', '/cancelOrder', '/addConversionTrigger'] as const

const orderEvent = (orderId: string, properties: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Order Completed',
  userId: `buyer-${orderId}`,
  properties: {
    order_id: orderId,
    currency: 'usd',
    products: [{ sku: 'TSHIRT-1', name: 'T-shirt', price: 19.99, quantity: 2 }],
    ...properties
  }
})
const refundEvent = (orderId: string, products: unknown) => ({
  type: 'track',
  event: 'Order Refunded',
  properties: { order_id: orderId, products }
})

const hostile = useHostileServe()
const { send, sandbox, answers } = hostile

describe('serve: hostile input on the conversion routes', () => {
  it('malformed JSON is a 400 that says so, on each route', async () => {
    for (const route of ROUTES) {
      for (const body of [
        '{"payload": ',
        '{payload: {"type": "track"}}',
        `{"payload": {"properties": {"products": [}}, "settings": {"apiKey": "${API_KEY}"}}`,
        '\u0000\u0001',
        Buffer.from([0xff, 0xfe, 0x7b, 0x22]).toString('latin1')
      ]) {
        const answer = await send(route, body)
        expect(answer.status).toBe(400)
        expect(answer.json.message).toMatch(/JSON/)
      }
    }
  })

  it('wrongly typed payloads get error arrays or 4xx, never a 500', async () => {
    const cases: [string, unknown][] = [
      ['/trackOrder', 42],
      ['/trackOrder', { payload: 'Order Completed', settings }],
      ['/trackOrder', { payload: orderEvent('t-1'), settings: 'pub.sec' }],
      ['/trackOrder', { payload: { type: 'track', properties: [] }, settings }],
      ['/trackOrder', { payload: { type: 'track', properties: 'order 1' }, settings }],
      ['/trackOrder', { payload: orderEvent('t-2', { products: 'TSHIRT-1' }), settings }],
      ['/trackOrder', { payload: orderEvent('t-3', { products: [null, 1, 'x', []] }), settings }],
      ['/trackOrder', { payload: orderEvent('t-4', { products: { sku: { nested: true }, price: 1 } }), settings }],
      ['/trackOrder', { payload: orderEvent('t-5', { products: [{ sku: 'a', price: { amount: 1 } }] }), settings }],
      [
        '/trackOrder',
        { payload: orderEvent('t-6', { products: [{ sku: 'a', price: 1, quantity: 1e308 }] }), settings }
      ],
      ['/trackOrder', { payload: orderEvent('t-7', { products: [{ sku: 'a', price: 'NaN' }] }), settings }],
      ['/trackOrder', { payload: orderEvent('t-8', { products: [{ sku: 'a', price: '1e999' }] }), settings }],
      ['/trackOrder', { payload: orderEvent('t-9', { products: [{ sku: 'a', price: 1, quantity: 2.5 }] }), settings }],
      ['/trackOrder', { payload: orderEvent('t-10', { currency: 840 }), settings }],
      ['/trackOrder', { payload: orderEvent('t-11', { currency: ['USD'] }), settings }],
      ['/trackOrder', { payload: orderEvent('t-12', { currency: 'dollars' }), settings }],
      ['/trackOrder', { payload: orderEvent('t-13', { shipping: 'free', tax: { rate: 1 } }), settings }],
      ['/trackOrder', { payload: orderEvent('t-14', { discount: 'lots' }), settings }],
      ['/trackOrder', { payload: orderEvent('t-15', { coupon: { code: 'X' } }), settings }],
      ['/trackOrder', { payload: { ...orderEvent('t-16'), context: { traits: 'me', ip: 7 } }, settings }],
      ['/trackOrder', { payload: orderEvent('', {}), settings }],
      ['/trackOrder', { payload: { ...orderEvent('x'), properties: { order_id: { id: 1 }, products: [] } }, settings }],
      ['/trackOrder', { payload: orderEvent('t-17'), settings, mapping: { affiliateId: { '@path': 42 } } }],
      ['/trackOrder', { payload: orderEvent('t-18'), settings, mapping: { items: 'all' } }],
      ['/trackOrder', { payload: orderEvent('t-19'), settings: { apiKey: 'no-dot' } }],
      ['/cancelOrder', { payload: refundEvent('c-1', 'all'), settings }],
      ['/cancelOrder', { payload: refundEvent('c-2', []), settings }],
      ['/cancelOrder', { payload: refundEvent('c-3', [{ price: -1, quantity: 'two' }]), settings }],
      ['/cancelOrder', { payload: refundEvent('c-4', [{ sku: 'a', quantity: -3 }]), settings }],
      ['/cancelOrder', { payload: refundEvent('c-5', [{ sku: ['a'], price: 1 }]), settings }],
      ['/cancelOrder', { payload: { type: 'track', properties: { products: [{ sku: 'a' }] } }, settings }],
      ['/cancelOrder', { payload: [refundEvent('c-6', 'x'), 7, null], settings }],
      ['/addConversionTrigger', { payload: { type: 'identify', traits: { email: 'a@b.test' } }, settings }],
      [
        '/addConversionTrigger',
        { payload: { type: 'identify', traits: {} }, settings, mapping: { trigger: 'X', type: 'BOGUS' } }
      ],
      [
        '/addConversionTrigger',
        { payload: { traits: { email: ['a@b.test'] } }, settings, mapping: { trigger: { '@path': '$.traits' } } }
      ],
      [
        '/addConversionTrigger',
        {
          payload: { type: 'identify', traits: { email: 'nobody@hostile.test' } },
          settings,
          mapping: { trigger: 'NOPE', affiliateCode: { nested: 1 } }
        }
      ]
    ]
    for (const [route, body] of cases) expectSane(await send(route, body as object), `${route} ${JSON.stringify(body)}`)
    // Nothing that reached the sandbox broke Refersion's published contract.
    expect((await sandbox('/_sandbox/stats')).contractRejections).toBe(0)
    expect(hostile.serve.alive()).toBe(true)
  })

  it('huge payloads: 10 MB is a 413; thousands of products, megabyte ids and deep nesting are answered', async () => {
    const tenMb = JSON.stringify({ payload: orderEvent('huge', { coupon: 'C'.repeat(10 * 1024 * 1024) }), settings })
    const tooBig = await send('/trackOrder', tenMb)
    expect(tooBig.status).toBe(413)

    const manyProducts = Array.from({ length: 5000 }, (_, i) => ({ sku: `SKU-${i}`, price: 1.5, quantity: 1 }))
    expectSane(await send('/trackOrder', { payload: orderEvent('many', { products: manyProducts }), settings }), 'many')
    expectSane(await send('/cancelOrder', { payload: refundEvent('many', manyProducts), settings }), 'many refund')

    // An order id over 255 characters becomes an over-long cart id: refused by name, nothing sent.
    const longId = 'O'.repeat(1024 * 1024)
    const long = await send('/trackOrder', { payload: orderEvent(longId), settings })
    expect(expectSane(long, 'long order id')).toBe('refused')
    expect(long.json[0].message).toMatch(/cartId/)
    expect(long.text.length).toBeLessThan(20_000)

    const bigCoupon = await send('/trackOrder', {
      payload: orderEvent('coupon-2mb', { coupon: 'Z'.repeat(2 << 20) }),
      settings
    })
    expectSane(bigCoupon, 'big coupon')
    const bigTrigger = await send('/addConversionTrigger', {
      payload: { type: 'identify', traits: { email: 'nobody@hostile.test' } },
      settings,
      mapping: { affiliateCode: 'abcd', trigger: 'T'.repeat(2 << 20) }
    })
    expectSane(bigTrigger, 'big trigger')

    const deep = `{"payload": {"type": "track", "properties": {"order_id": "deep", "products": ${'['.repeat(
      5000
    )}${']'.repeat(5000)}}}, "settings": ${JSON.stringify(settings)}}`
    expect((await send('/trackOrder', deep)).status).toBeLessThan(500)

    const poisoned = `{"payload": {"type": "track", "properties": {"order_id": "p-1", "products": [{"__proto__": {"sku": "x", "price": 1}}]}}, "settings": ${JSON.stringify(
      settings
    )}}`
    expectSane(await send('/trackOrder', poisoned), 'proto')
    expect(({} as { sku?: unknown }).sku).toBeUndefined()
    expect(hostile.serve.alive()).toBe(true)
  }, 60_000)

  it('a batch mixing good and hostile orders: each gets its own result, the good ones are recorded', async () => {
    const payload = [
      orderEvent('mix-good-1'),
      orderEvent('mix-bad-1', { products: [{ sku: 'a', price: -1 }] }),
      orderEvent('mix-good-2', { products: [{ product_id: 'P-9', price: '5.00' }] }),
      orderEvent('mix-bad-2', { currency: 'EURO' })
    ]
    const answer = await send('/trackOrder', { payload, settings })
    expect(answer.status).toBe(200)
    expect(expectSane(answer, 'batch')).toBe('sent')
    const recorded = (await sandbox('/_sandbox/conversions')).conversions.map((o: { order_id: string }) => o.order_id)
    expect(recorded).toEqual(expect.arrayContaining(['mix-good-1', 'mix-good-2']))
    expect(recorded).not.toContain('mix-bad-1')
    expect(recorded).not.toContain('mix-bad-2')
  })

  it('afterwards a valid order is still tracked, credited by coupon, and refunded; the secret never showed', async () => {
    const created = await send('/createAffiliate', {
      payload: { type: 'identify', userId: 'after-1', traits: { name: 'After Math', email: 'after@hostile.test' } },
      settings
    })
    expect(created.status).toBe(200)
    const affiliate = (await sandbox('/_sandbox/affiliates')).affiliates.find(
      (a: { email: string }) => a.email === 'after@hostile.test'
    )
    expect(affiliate).toBeDefined()
    const trigger = await send('/addConversionTrigger', {
      payload: { type: 'identify', traits: { email: 'after@hostile.test' } },
      settings,
      mapping: { trigger: 'AFTER10' }
    })
    expect(expectSane(trigger, 'trigger')).toBe('sent')
    const tracked = await send('/trackOrder', { payload: orderEvent('after-order', { coupon: 'after10' }), settings })
    expect(expectSane(tracked, 'order')).toBe('sent')
    expect(tracked.json.map((e: { request: { url: string } }) => new URL(e.request.url).pathname)).toEqual([
      '/tracker/orders/paid'
    ])
    const refunded = await send('/cancelOrder', {
      payload: refundEvent('after-order', [{ sku: 'TSHIRT-1', price: 19.99, quantity: 1 }]),
      settings
    })
    expect(expectSane(refunded, 'refund')).toBe('sent')
    const order = (await sandbox('/_sandbox/conversions')).conversions.find(
      (o: { order_id: string }) => o.order_id === 'after-order'
    )
    expect(order).toMatchObject({
      affiliate: { id: affiliate.id },
      credited_by: 'coupon',
      cancelled_items: [{ sku: 'TSHIRT-1', price: 19.99, quantity: 1 }]
    })

    expect(hostile.serve.alive()).toBe(true)
    for (const answer of answers) expect(answer.text).not.toContain(SECRET_KEY)
    const log = hostile.serve.lines.join('\n')
    expect(log).not.toContain(SECRET_KEY)
    expect(log).not.toMatch(/unhandled|uncaught|FATAL|exited/i)
    expect(log).not.toMatch(/^5\d\d /m)
  })
})
