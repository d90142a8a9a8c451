import destination from '../../index'
import cancelOrder from '../index'
import { FieldValidationError, isRetryable, RefersionApiError } from '../../lib/errors'
import { caught, p, recordBodies, refersion, trap, useOfflineNock } from '../../__tests__/__helpers__/refersion'
import { batch, Event, orderCompleted, performed, run, trackingTrap } from '../../__tests__/__helpers__/orders'

useOfflineNock()

const refunded = (properties: Record<string, unknown> = {}): Event => ({
  ...orderCompleted(properties),
  event: 'Order Refunded'
})

/** The exact /conversion/cancel body for `refunded()`. */
const CANCEL_BODY = {
  order_id: '50314b8e9bcf000000000000',
  items: [
    { sku: '45790-32', price: 19, quantity: 1 },
    { sku: '46493-32', price: 3, quantity: 2 }
  ]
}
const INVALID_ORDER = { errors: ['Invalid order ID (error 5)'] }

describe('cancelOrder: definition', () => {
  it('subscribes to Order Refunded and Order Cancelled, with the SPEC fields', () => {
    expect(cancelOrder.title).toBe('Cancel Order')
    expect(cancelOrder.defaultSubscription).toBe(
      'type = "track" and (event = "Order Refunded" or event = "Order Cancelled")'
    )
    expect(Object.keys(cancelOrder.fields)).toEqual(['orderId', 'items', 'enable_batching', 'batch_size'])
    expect(cancelOrder.fields.orderId).toMatchObject({ required: true, default: { '@path': '$.properties.order_id' } })
    expect(cancelOrder.fields.items).toMatchObject({ required: true, multiple: true, type: 'object' })
    expect(Object.keys(cancelOrder.fields.items.properties ?? {})).toEqual(['sku', 'price', 'quantity'])
  })

  it('has an automatic "Cancel Order" preset', () => {
    expect(destination.presets?.find((p) => p.name === 'Cancel Order')).toMatchObject({
      type: 'automatic',
      subscribe: 'type = "track" and (event = "Order Refunded" or event = "Order Cancelled")',
      partnerAction: 'cancelOrder'
    })
  })
})

describe('cancelOrder: perform', () => {
  it('posts order_id and the items (sku, unit price, quantity) to /conversion/cancel', async () => {
    const scope = refersion().post(p('/conversion/cancel'), CANCEL_BODY).reply(200, { conversion_id: '11900254' })
    const responses = await run('cancelOrder', refunded())
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(1)
    expect(performed()).toEqual({ outcome: 'cancelled', order_id: CANCEL_BODY.order_id, conversion_id: '11900254' })
  })

  it('Order Cancelled too; sku falls back to product_id, quantity to 1, price left out when absent', async () => {
    const scope = refersion()
      .post(p('/conversion/cancel'), {
        order_id: 'o-1',
        items: [
          { sku: 'p-1', price: 4.25, quantity: 1 },
          { sku: 'p-2', quantity: 3 }
        ]
      })
      .reply(200, { conversion_id: '7' })
    const event = {
      ...refunded({
        order_id: 'o-1',
        products: [
          { product_id: 'p-1', price: '4.25' },
          { product_id: 'p-2', quantity: 3 }
        ]
      }),
      event: 'Order Cancelled'
    }
    await run('cancelOrder', event)
    expect(scope.isDone()).toBe(true)
  })

  it('422 "Invalid order ID": the order was never credited, a success that changed nothing', async () => {
    const scope = refersion().post(p('/conversion/cancel'), CANCEL_BODY).reply(422, INVALID_ORDER)
    await run('cancelOrder', refunded())
    expect(scope.isDone()).toBe(true)
    expect(performed()).toEqual({ outcome: 'not_credited', order_id: CANCEL_BODY.order_id })
  })

  it('any other 422 is final, with Refersion’s words', async () => {
    refersion()
      .post(p('/conversion/cancel'))
      .reply(422, { errors: ['Value exceed the char limit'] })
    const error = await caught(() => run('cancelOrder', refunded()))
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.status).toBe(422)
    expect(error.message).toContain('Value exceed the char limit')
    expect(isRetryable(error)).toBe(false)
  })

  it('a 422 that lists "Invalid order ID" next to another error is not taken as "not credited"', async () => {
    refersion()
      .post(p('/conversion/cancel'))
      .reply(422, { errors: ['Value exceed the char limit', 'Invalid order ID (error 5)'] })
    const error = await caught(() => run('cancelOrder', refunded()))
    expect(error).toBeInstanceOf(RefersionApiError)
  })

  it('500 is retryable', async () => {
    refersion().post(p('/conversion/cancel')).reply(503, { error: 'down' })
    expect(isRetryable(await caught(() => run('cancelOrder', refunded())))).toBe(true)
  })

  it('no products: a 400 validation error, nothing sent (Refersion cancels by item)', async () => {
    const rest = trap()
    const hook = trackingTrap()
    const missing = await caught(() => run('cancelOrder', refunded({ products: undefined })))
    expect(missing.message).toMatch(/items/i)
    const empty = await caught(() => run('cancelOrder', refunded({ products: [] })))
    expect(empty).toBeInstanceOf(FieldValidationError)
    expect(empty.status).toBe(400)
    expect((empty as unknown as FieldValidationError).fields).toEqual(['items'])
    expect(rest.isDone()).toBe(false)
    expect(hook.isDone()).toBe(false)
  })

  it('an item without SKU or product ID, or a bad price or quantity, names the item', async () => {
    const rest = trap()
    const error = await caught(() =>
      run(
        'cancelOrder',
        refunded({ products: [{ sku: 'a', price: 1 }, { price: 2 }, { sku: 'c', price: -1, quantity: 0 }] })
      )
    )
    expect(error).toBeInstanceOf(FieldValidationError)
    expect((error as unknown as FieldValidationError).fields).toEqual([
      'items[1].sku',
      'items[2].price',
      'items[2].quantity'
    ])
    expect(rest.isDone()).toBe(false)
  })
})

describe('cancelOrder: performBatch', () => {
  it('per-event results: cancelled, not credited, invalid and failing events each on their own', async () => {
    const body = (id: string) => ({ ...CANCEL_BODY, order_id: id })
    const scope = refersion()
      .post(p('/conversion/cancel'), body('o-0'))
      .reply(200, { conversion_id: '10' })
      .post(p('/conversion/cancel'), body('o-1'))
      .reply(422, INVALID_ORDER)
      .post(p('/conversion/cancel'), body('o-3'))
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '0' })
    const statuses = await batch('cancelOrder', [
      refunded({ order_id: 'o-0' }),
      refunded({ order_id: 'o-1' }),
      refunded({ order_id: 'o-2', products: [] }),
      refunded({ order_id: 'o-3' })
    ])
    expect(scope.isDone()).toBe(true)
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 400, 429])
    expect(statuses[0]).toMatchObject({ body: { outcome: 'cancelled', conversion_id: '10' }, sent: body('o-0') })
    expect(statuses[1]).toMatchObject({ body: { outcome: 'not_credited', order_id: 'o-1' } })
    expect(statuses[2].errortype).toBe('PAYLOAD_VALIDATION_FAILED')
    expect(statuses[3].errortype).toBe('TOO_MANY_REQUESTS')
  })
})

describe('conversion request body snapshots', () => {
  it('Order Refunded → /conversion/cancel', async () => {
    const scope = refersion().post(p('/conversion/cancel')).reply(200, { conversion_id: '11900254' })
    const bodies = recordBodies(scope)
    await run('cancelOrder', { ...orderCompleted(), event: 'Order Refunded' })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
