/**
 * Segment's snapshot test, in the shape of its template (every action: its required fields only, then all its
 * fields, given as the mapping; the request bodies snapshotted), with data this project controls instead of
 * Segment's generated test data: a well-formed key pair, realistic field values, and nock answering every Refersion
 * request as Refersion documents it. A new action, or a new field of an action, fails here until DATA covers it.
 */
import nock from 'nock'
import { createTestEvent, createTestIntegration } from '@segment/actions-core'
import type { JSONObject } from '@segment/actions-core'
import destination from '../index'
import { passwordPolicyViolation } from '../createAffiliate/password'
import { useOfflineNock } from './__helpers__/refersion'

const testDestination = createTestIntegration(destination)
const destinationSlug = 'actions-refersion'

const settings = { apiKey: 'pub_5nap5h0t.sec_5nap5h0tK3y' }
const API = 'https://api.refersion.com'
const TRACKING = 'https://inbound-webhooks.refersion.com'

// Each test starts from production hosts and the affiliate cache off, so no test depends on what another sent.
useOfflineNock({ REFERSION_CACHE: 'off' })

interface ActionData {
  /** The action's required fields, plus the least the action needs to send anything (named in `why`). */
  required: JSONObject
  /** Why `required` holds more than the fields marked required, when it does. */
  why?: string
  /** Every field of the action (objects with every property). */
  all: JSONObject
}

const PETER = 'peter@initech.com'
const ITEMS = [
  { sku: '45790-32', name: 'Monopoly: 3rd Edition', price: '19', quantity: '1' },
  { sku: '46493-32', name: 'Uno Card Game', price: '3', quantity: '2' }
]
const BATCHING = { enable_batching: true, batch_size: 50 }

/** Field values per action, by action key. */
const DATA: Record<string, ActionData> = {
  createAffiliate: {
    required: { email: PETER },
    all: {
      email: PETER,
      firstName: 'Peter',
      lastName: 'Gibbons',
      name: 'Peter Gibbons',
      address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' },
      company: 'Initech',
      phone: '+1 415 555 0100',
      password: 'Corr3ct#Horse',
      status: 'ACTIVE',
      offer: '4407',
      sendWelcome: true,
      paypalEmail: 'pay@initech.com',
      conversionTriggerCoupon: 'PETER10',
      uniqueMerchantId: 'crm-42',
      updateExisting: true,
      ...BATCHING
    }
  },
  deleteAffiliate: {
    required: { affiliateId: '37569297' },
    why: 'no field is required on its own, but one of Affiliate ID, Email or User ID must name the affiliate',
    all: { affiliateId: 'a3y7', email: PETER, userId: 'u-1', status: 'DENIED', ...BATCHING }
  },
  trackOrder: {
    required: {
      orderId: '50314b8e9bcf000000000000',
      cartId: 'fksdjfsdjfisjf9sdfjsd9f',
      currency: 'USD',
      items: [{ sku: '45790-32', price: '19' }]
    },
    all: {
      orderId: '50314b8e9bcf000000000000',
      cartId: 'fksdjfsdjfisjf9sdfjsd9f',
      currency: 'usd',
      items: ITEMS,
      shipping: 3,
      tax: 2,
      discount: -2.5,
      discountCode: 'hasbros',
      customer: { email: 'milton@initech.com', firstName: 'Milton', lastName: 'Waddams', ipAddress: '203.0.113.7' },
      affiliateId: '37569297',
      subscriptionId: 'sub_7',
      ...BATCHING
    }
  },
  cancelOrder: {
    required: { orderId: '50314b8e9bcf000000000000', items: [{ sku: '45790-32' }] },
    all: {
      orderId: '50314b8e9bcf000000000000',
      items: ITEMS.map(({ sku, price, quantity }) => ({ sku, price, quantity })),
      ...BATCHING
    }
  },
  addConversionTrigger: {
    required: { trigger: 'PETER10', email: PETER },
    why: 'Affiliate Code or Email must name the affiliate',
    all: { affiliateCode: 'a3y7', email: PETER, type: 'COUPON', trigger: 'PETER10', ...BATCHING }
  },
  creditCommission: {
    required: { commission: 25, affiliateId: '37569297' },
    why: 'Affiliate ID or Affiliate Email must name the affiliate to credit',
    all: {
      affiliateId: 'a3y7',
      email: PETER,
      commission: -12.5,
      currency: 'usd',
      status: 'APPROVED',
      notes: 'Segment: Trial Cancelled (messageId snap-1)',
      ...BATCHING
    }
  },
  creditOrder: {
    required: { orderId: '50314b8e9bcf000000000000', affiliateId: '37569297' },
    why: 'Affiliate ID or Affiliate Email must name the affiliate to credit',
    all: {
      affiliateId: 'a3y7',
      email: PETER,
      orderId: '50314b8e9bcf000000000000',
      status: 'PENDING',
      notes: 'Segment: Order Attributed (messageId snap-2)',
      ...BATCHING
    }
  }
}

const ID = 37569297
const CODE = 'a3y7'

/** Refersion's documented answer to each REST v2 endpoint the destination calls (an unknown one is a 404). */
function refersionAnswer(path: string, body: Record<string, unknown>): [number, Record<string, unknown>] {
  const keyword = String(body.keyword ?? '')
  switch (path) {
    case '/v2/affiliate/new':
      return [
        200,
        {
          id: CODE,
          link: `https://initech.refersion.com/c/${CODE}`,
          message: `The affiliate ${ID} has been created with the status of ${String(body.status ?? 'PENDING')}.`
        }
      ]
    case '/v2/affiliate/search':
      return [
        200,
        {
          total: 1,
          results: [
            {
              id: CODE,
              first_name: 'Peter',
              last_name: 'Gibbons',
              email: keyword.includes('@') ? keyword : PETER,
              unique_merchant_id: keyword.includes('@') ? 'u-1' : keyword,
              status: 'ACTIVE'
            }
          ]
        }
      ]
    case '/v2/affiliate/get':
      return [
        200,
        { id: ID, affiliate_code: CODE, first_name: 'Peter', last_name: 'Gibbons', email: PETER, status: 'ACTIVE' }
      ]
    case '/v2/affiliate/edit':
      return [200, { ids_changed: (body.affiliates as { id: number }[]).map((a) => a.id), ids_not_changed: [] }]
    case '/v2/affiliate/status_change':
      return [200, { ids_changed: body.ids as number[], ids_not_changed: [] }]
    case '/v2/affiliate/trigger':
      return [200, { trigger_id: 1097, trigger: body.trigger as string }]
    case '/v2/conversion/cancel':
      return [200, { conversion_id: '11900254' }]
    case '/v2/conversion/manual_credit':
      return [200, { conversion_id: 11900255 }]
    case '/v2/conversion/manual_credit_order_id':
      return [200, { message: 'Order(s) are re-processing. Changes may take a couple of minutes to appear.' }]
    default:
      return [404, { error: `not an endpoint this test knows: ${path}` }]
  }
}

interface SentRequest {
  method: string
  url: string
  body: unknown
}

/** Answers every request to Refersion's API and tracking host; returns what was sent, in order. */
function answerLikeRefersion(): SentRequest[] {
  const sent: SentRequest[] = []
  nock(API)
    .persist()
    .post(/.*/)
    .reply(function (path, body) {
      const json = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>
      sent.push({ method: this.req.method ?? 'POST', url: `${API}${path}`, body: json })
      return refersionAnswer(path, json)
    })
  // The order webhook: Refersion documents no answer body; it acknowledges with a 2xx.
  nock(TRACKING)
    .persist()
    .post(/.*/)
    .reply(function (path, body) {
      const json = typeof body === 'string' ? (JSON.parse(body) as unknown) : body
      sent.push({ method: this.req.method ?? 'POST', url: `${TRACKING}${path}`, body: json })
      return [204]
    })
  return sent
}

/** A generated password (createAffiliate without a mapped one) is checked against the policy, then normalised. */
function normalise(requests: SentRequest[], fields: JSONObject): SentRequest[] {
  return requests.map((request) => {
    const body = request.body as Record<string, unknown>
    if (typeof body?.password !== 'string' || 'password' in fields) return request
    expect(passwordPolicyViolation(body.password, String(body.email))).toBeUndefined()
    return { ...request, body: { ...body, password: '<generated>' } }
  })
}

function dataFor(actionSlug: string): ActionData {
  const data = DATA[actionSlug]
  if (!data) {
    throw new Error(
      `no snapshot data for action "${actionSlug}": add its fields to DATA in src/__tests__/snapshot.test.ts`
    )
  }
  return data
}

/** The data must match the action's fields: every required one in both cases, every one (and property) in "all". */
function checkCoverage(actionSlug: string, data: ActionData) {
  const fields = destination.actions[actionSlug].fields
  const required = Object.keys(fields).filter((key) => fields[key].required === true)
  for (const key of required) {
    expect([actionSlug, 'required', key, key in data.required]).toEqual([actionSlug, 'required', key, true])
    expect([actionSlug, 'all', key, key in data.all]).toEqual([actionSlug, 'all', key, true])
  }
  expect([actionSlug, Object.keys(data.all).sort()]).toEqual([actionSlug, Object.keys(fields).sort()])
  for (const [key, field] of Object.entries(fields)) {
    if (!field.properties) continue
    const value = data.all[key]
    for (const item of Array.isArray(value) ? value : [value]) {
      expect([actionSlug, key, Object.keys(item as JSONObject).sort()]).toEqual([
        actionSlug,
        key,
        Object.keys(field.properties).sort()
      ])
    }
  }
  const extra = Object.keys(data.required).filter((key) => !required.includes(key))
  if (extra.length) expect([actionSlug, 'why', typeof data.why]).toEqual([actionSlug, 'why', 'string'])
}

async function snapshotOf(actionSlug: string, fields: JSONObject) {
  const sent = answerLikeRefersion()
  const event = createTestEvent({
    messageId: 'segment-test-message-snapshot',
    timestamp: '2024-01-01T00:00:00.000Z',
    receivedAt: '2024-01-01T00:00:00.000Z',
    sentAt: '2024-01-01T00:00:00.000Z',
    properties: fields
  })
  await testDestination.testAction(actionSlug, {
    event,
    mapping: event.properties,
    settings,
    auth: undefined
  })
  expect(sent.length).toBeGreaterThan(0)
  return normalise(sent, fields)
}

describe(`Testing snapshot for ${destinationSlug} destination:`, () => {
  it('has snapshot data for exactly the actions of the destination', () => {
    expect(Object.keys(DATA).sort()).toEqual(Object.keys(destination.actions).sort())
  })

  for (const actionSlug in destination.actions) {
    it(`${actionSlug} action - required fields`, async () => {
      const data = dataFor(actionSlug)
      checkCoverage(actionSlug, data)
      expect(await snapshotOf(actionSlug, data.required)).toMatchSnapshot()
    })

    it(`${actionSlug} action - all fields`, async () => {
      const data = dataFor(actionSlug)
      checkCoverage(actionSlug, data)
      expect(await snapshotOf(actionSlug, data.all)).toMatchSnapshot()
    })
  }
})
