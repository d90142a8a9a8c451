import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../index'
import { batchStatuses, PUBLIC_KEY, SECRET_KEY, settings } from './refersion'

/** Refersion's production tracking host: `useRefersionEnv` leaves REFERSION_TRACKING_URL unset. */
export const TRACKING_ORIGIN = 'https://inbound-webhooks.refersion.com'
export const PAID = '/tracker/orders/paid'

/** A nock scope for the tracking webhook host that only matches requests carrying the key pair and JSON. */
export function tracking(origin = TRACKING_ORIGIN) {
  return nock(origin)
    .matchHeader('Refersion-Public-Key', PUBLIC_KEY)
    .matchHeader('Refersion-Secret-Key', SECRET_KEY)
    .matchHeader('content-type', /application\/json/)
}

/** A catch-all on the tracking host: tests assert it stayed unused. */
export function trackingTrap() {
  return nock(TRACKING_ORIGIN).post(/.*/).reply(500, { error: 'this request should not have been sent' }).persist()
}

export type Event = Partial<SegmentEvent>

/** Segment's Spec v2 "Order Completed" example, with a negative discount and a lower-case currency. */
export function orderCompleted(properties: Record<string, unknown> = {}): Event {
  return {
    type: 'track',
    event: 'Order Completed',
    userId: 'u-42',
    context: {
      ip: '203.0.113.7',
      traits: { email: 'Milton@Initech.com', firstName: 'Milton', lastName: 'Waddams' }
    },
    properties: {
      checkout_id: 'fksdjfsdjfisjf9sdfjsd9f',
      order_id: '50314b8e9bcf000000000000',
      affiliation: 'Google Store',
      total: 27.5,
      subtotal: 22.5,
      revenue: 25.0,
      shipping: 3,
      tax: 2,
      discount: -2.5,
      coupon: 'hasbros',
      currency: 'usd',
      products: [
        {
          product_id: '507f1f77bcf86cd799439011',
          sku: '45790-32',
          name: 'Monopoly: 3rd Edition',
          price: 19,
          quantity: 1,
          category: 'Games',
          url: 'https://www.example.com/product/path',
          image_url: 'https:///www.example.com/product/path.jpg'
        },
        {
          product_id: '505bd76785ebb509fc183733',
          sku: '46493-32',
          name: 'Uno Card Game',
          price: 3,
          quantity: 2,
          category: 'Games'
        }
      ],
      ...properties
    }
  }
}

/** The exact webhook body for `orderCompleted()` with the default mappings. */
export const ORDER_BODY = {
  cart_id: 'fksdjfsdjfisjf9sdfjsd9f',
  order_id: '50314b8e9bcf000000000000',
  currency_code: 'USD',
  items: [
    { sku: '45790-32', quantity: 1, price: 19, name: 'Monopoly: 3rd Edition' },
    { sku: '46493-32', quantity: 2, price: 3, name: 'Uno Card Game' }
  ],
  shipping: 3,
  tax: 2,
  discount: 2.5,
  discount_code: 'hasbros',
  customer: { first_name: 'Milton', last_name: 'Waddams', email: 'Milton@Initech.com', ip_address: '203.0.113.7' }
}

export interface Status {
  status: number
  errortype?: string
  errormessage?: string
  sent?: unknown
  body?: unknown
}

export const testDestination = createTestIntegration(destination)

export type ConversionAction = 'trackOrder' | 'cancelOrder' | 'addConversionTrigger'

/** Runs one event through perform with the default mappings (plus `mapping`); returns the exchanges made. */
export function run(action: ConversionAction, event: Event, mapping: JSONObject = {}) {
  testDestination.responses = []
  return testDestination.testAction(action, { event, settings, mapping, useDefaultMappings: true })
}

/** Runs performBatch and returns the per-event statuses Segment would see. */
export const batch = (action: ConversionAction, events: Event[], mapping: JSONObject = {}) =>
  batchStatuses(testDestination, action, events, mapping)

/** What the last `run` returned from perform (the action's result). */
export function performed(): unknown {
  return (testDestination.results as { output?: string; data?: unknown }[]).find((r) => r.output === 'Action Executed')
    ?.data
}
