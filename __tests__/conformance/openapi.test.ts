/**
 * Every request the destination sends, on every path, follows Refersion's published contract.
 *
 * The destination is driven against the sandbox with every field mapped (camelCase and snake_case traits, name
 * only, partial identifies, repeats, coupons, batches, every delete path, onDelete, orders, refunds, triggers and
 * manual credits).
 * The sandbox records each request it receives; each one is then checked against the project's schemas of
 * Refersion's OpenAPI (tools/sandbox/contract.ts, written from the published reference), and the sandbox must
 * have refused none (an undocumented field or a wrong type is Refersion's 204 "invalid field").
 */
import { createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../src'
import { checkRequest, startSandbox, TRACKING_PATH } from '../../tools/sandbox'
import type { RunningSandbox } from '../../tools/sandbox'

const settings = { apiKey: 'pub_conform.sec_Conformance_42' }
const testDestination = createTestIntegration(destination)

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 7 })
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  process.env.REFERSION_TRACKING_URL = sandbox.trackingUrl
})

afterAll(async () => {
  delete process.env.REFERSION_BASE_URL
  delete process.env.REFERSION_TRACKING_URL
  delete process.env.REFERSION_CACHE
  await sandbox.close()
})

type Event = Partial<SegmentEvent>
type Slug = keyof typeof destination.actions

async function run(action: Slug, event: Event, mapping: JSONObject = {}) {
  await testDestination.testAction(action, {
    event: event as SegmentEvent,
    settings,
    mapping,
    useDefaultMappings: true
  })
}

async function runBatch(action: Slug, events: Event[], mapping: JSONObject = {}) {
  await testDestination.testBatchAction(action, {
    events: events as SegmentEvent[],
    settings,
    mapping,
    useDefaultMappings: true
  })
  return testDestination.results[0].multistatus as { status: number; errormessage?: string }[]
}

const camel = (email: string, extra: Record<string, unknown> = {}): Event => ({
  type: 'identify',
  userId: `user-${email}`,
  traits: {
    email,
    firstName: 'Samir',
    lastName: 'Nagheenanajar',
    company: { name: 'Initech' },
    phone: '+1 555 0100',
    address: { street: '6th St', city: 'Austin', state: 'TX', postalCode: '73301', country: 'United States' },
    ...extra
  }
})

const snake = (email: string, extra: Record<string, unknown> = {}): Event => ({
  type: 'identify',
  userId: `user-${email}`,
  traits: {
    email,
    first_name: 'Michael',
    last_name: 'Bolton',
    company: 'Initech',
    address: { street: '1 Main St', city: 'Toronto', state: 'ON', postal_code: 'M5V', country: 'CAN' },
    ...extra
  }
})

const nameOnly = (email: string, name = 'Peter Gibbons'): Event => ({
  type: 'identify',
  userId: `user-${email}`,
  traits: { email, name }
})

/** Mappings for the fields no default maps: coupon, offer, PayPal e-mail, password, status, welcome e-mail. */
const everyField = (suffix: string): JSONObject => ({
  conversionTriggerCoupon: `COUPON-${suffix}`,
  offer: '4407',
  paypalEmail: `paypal-${suffix}@initech.com`,
  password: 'Str0ng!Passw0rd#',
  status: 'ACTIVE',
  sendWelcome: true
})

/** Numeric id and code of the affiliate with this email, from the sandbox's own state. */
function affiliateOf(email: string) {
  const found = sandbox.store.all().find((a) => a.email.toLowerCase() === email.toLowerCase())
  if (!found) throw new Error(`no affiliate ${email} in the sandbox`)
  return found
}

describe.each(['off', 'on'])('every request validates against the published contract (cache %s)', (cache) => {
  beforeAll(() => {
    process.env.REFERSION_CACHE = cache
    sandbox.reset()
  })

  it('affiliates: create, repeat, partial identify, coupon on update, batches, every delete path, onDelete', async () => {
    // Creation with every field, camelCase and snake_case traits, name only.
    await run('createAffiliate', camel('samir@initech.com'), everyField('samir'))
    await run('createAffiliate', snake('michael@initech.com'), everyField('michael'))
    await run('createAffiliate', nameOnly('peter@initech.com'))
    // Repeats: changed profile with every field (edit + trigger for the coupon), identical, partial (email only,
    // one changed trait, first name only).
    await run('createAffiliate', camel('samir@initech.com', { phone: '+1 555 0199' }), everyField('samir2'))
    await run('createAffiliate', snake('michael@initech.com'), everyField('michael'))
    await run('createAffiliate', { type: 'identify', traits: { email: 'peter@initech.com' } })
    await run('createAffiliate', { type: 'identify', traits: { email: 'PETER@initech.com', city: 'Austin' } })
    await run(
      'createAffiliate',
      { type: 'identify', traits: { email: 'peter@initech.com', firstName: 'Pete' } },
      {
        conversionTriggerCoupon: 'PETE5',
        offer: '12'
      }
    )
    // A batch: new people, a repeat, a partial identify, two events for one email.
    const statuses = await runBatch(
      'createAffiliate',
      [
        camel('bob.slydell@initech.com'),
        snake('bob.porter@initech.com'),
        nameOnly('samir@initech.com', 'Samir N'),
        { type: 'identify', traits: { email: 'michael@initech.com', phone: '+1 555 0142' } },
        nameOnly('lumbergh@initech.com', 'Bill Lumbergh'),
        nameOnly('lumbergh@initech.com', 'William Lumbergh')
      ],
      everyField('batch')
    )
    expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200])

    // Delete paths: numeric id, code, exact email, userId equal to the email, and a batch of each.
    await run(
      'deleteAffiliate',
      { type: 'track', event: 'Removed' },
      { affiliateId: String(affiliateOf('samir@initech.com').id) }
    )
    await run(
      'deleteAffiliate',
      { type: 'track', event: 'Removed' },
      { affiliateId: affiliateOf('michael@initech.com').code }
    )
    await run('deleteAffiliate', { type: 'delete', traits: { email: 'Peter@Initech.com' } }, { status: 'DENIED' })
    await run('deleteAffiliate', { type: 'delete', userId: 'bob.slydell@initech.com' }, { email: '' })
    const deletes = await runBatch('deleteAffiliate', [
      { type: 'delete', traits: { email: 'bob.porter@initech.com' } },
      { type: 'delete', traits: { email: 'lumbergh@initech.com' } },
      { type: 'delete', traits: { email: 'samir@initech.com' } }
    ])
    expect(deletes.map((s) => s.status)).toEqual([200, 200, 200])

    // onDelete: a user whose userId is the affiliate's email, and one who never was an affiliate.
    await run('createAffiliate', nameOnly('milton@initech.com', 'Milton Waddams'))
    await testDestination.onDelete!({ type: 'delete', userId: 'milton@initech.com' } as SegmentEvent, settings)
    await testDestination.onDelete!({ type: 'delete', userId: 'never-an-affiliate' } as SegmentEvent, settings)
  })

  it('conversions: orders, refunds and triggers', async () => {
    await run('createAffiliate', nameOnly('tom@initech.com', 'Tom Smykowski'), { conversionTriggerCoupon: 'TOM10' })
    const tom = affiliateOf('tom@initech.com')
    await run(
      'addConversionTrigger',
      { type: 'track', event: 'Trigger' },
      { affiliateCode: tom.code, trigger: 'TOMSKU', type: 'SKU' }
    )
    await run(
      'addConversionTrigger',
      { type: 'identify', traits: { email: 'TOM@initech.com' } },
      { trigger: 'buyer@initech.com', type: 'EMAIL' }
    )
    const order = (orderId: string, extra: Record<string, unknown> = {}): Event => ({
      type: 'track',
      event: 'Order Completed',
      userId: 'buyer',
      context: { ip: '203.0.113.9', traits: { email: 'buyer@initech.com', first_name: 'Joanna', last_name: 'Smith' } },
      properties: {
        order_id: orderId,
        checkout_id: `chk-${orderId}`,
        currency: 'eur',
        shipping: 4.5,
        tax: 1.25,
        discount: -3,
        coupon: 'tom10',
        products: [
          { product_id: 'p-1', sku: 'FLAIR-1', name: 'Flair', price: 9.99, quantity: 2 },
          { product_id: 'p-2', name: 'Stapler', price: '12.50' }
        ],
        ...extra
      }
    })
    await run('trackOrder', order('o-1'), { affiliateId: String(tom.id), subscriptionId: 'sub-1' })
    await run('trackOrder', order('o-2', { cart_id: 'cart-2' }))
    const batch = await runBatch('trackOrder', [order('o-3'), order('o-4', { coupon: undefined })])
    expect(batch.map((s) => s.status)).toEqual([200, 200])
    await run('cancelOrder', {
      type: 'track',
      event: 'Order Refunded',
      properties: { order_id: 'o-1', products: [{ sku: 'FLAIR-1', price: 9.99, quantity: 1 }] }
    })
    const refunds = await runBatch('cancelOrder', [
      {
        type: 'track',
        event: 'Order Cancelled',
        properties: { order_id: 'o-3', products: [{ product_id: 'p-2', price: 12.5 }] }
      },
      {
        type: 'track',
        event: 'Order Refunded',
        properties: { order_id: 'never-credited', products: [{ sku: 'X', price: 1 }] }
      }
    ])
    expect(refunds.map((s) => s.status)).toEqual([200, 200])
  })

  it('manual credits: commissions and order credits by id, code and email, every field, batches', async () => {
    await run('createAffiliate', nameOnly('nina@initech.com', 'Nina Receptionist'))
    await run('createAffiliate', nameOnly('drew@initech.com', 'Drew Consultant'))
    const nina = affiliateOf('nina@initech.com')
    const signedUp = (extra: Record<string, unknown> = {}): Event => ({
      type: 'track',
      event: 'Signed Up',
      messageId: `m-${JSON.stringify(extra).length}`,
      properties: { commission: 25, ...extra }
    })
    const byEmail = { email: { '@path': '$.properties.affiliate_email' } }
    // Required fields only (the affiliate by numeric id), then every field, by code and by (cached) email.
    await run('creditCommission', signedUp(), { affiliateId: String(nina.id), notes: '' })
    await run('creditCommission', signedUp({ currency: 'eur' }), { affiliateId: nina.code, status: 'APPROVED' })
    await run('creditCommission', signedUp({ commission: -12.5, affiliate_email: 'NINA@initech.com' }), byEmail)
    const credits = await runBatch(
      'creditCommission',
      [
        signedUp({ commission: 5, affiliate_email: 'drew@initech.com' }),
        signedUp({ commission: '7.5', currency: 'USD', affiliate_email: 'drew@initech.com' }),
        signedUp({ commission: 0, affiliate_email: 'drew@initech.com' })
      ],
      byEmail
    )
    expect(credits.map((s) => s.status)).toEqual([200, 200, 400])

    const order = (orderId: string): Event => ({
      type: 'track',
      event: 'Order Completed',
      properties: { order_id: orderId, currency: 'usd', products: [{ sku: 'TPS', price: 9.99 }] }
    })
    await run('trackOrder', order('late-1'))
    await run('trackOrder', order('late-2'))
    const attributed = (orderId: string): Event => ({
      type: 'track',
      event: 'Order Attributed',
      properties: { order_id: orderId }
    })
    await run('creditOrder', attributed('late-1'), { affiliateId: String(nina.id), notes: '' })
    await run('creditOrder', attributed('late-1'), { affiliateId: nina.code, status: 'PENDING' })
    const orderCredits = await runBatch('creditOrder', [attributed('late-2'), attributed('late-1')], {
      email: 'drew@initech.com',
      status: 'APPROVED'
    })
    expect(orderCredits.map((s) => s.status)).toEqual([200, 200])
  })

  it('the sandbox refused nothing, and every recorded request passes the schemas of the published API', () => {
    const requests = sandbox.requests()
    expect(requests.length).toBeGreaterThan(40)
    const problems = requests
      .map((r) => ({ path: r.path, check: checkRequest(r.path, r.body), rejection: r.rejection }))
      .filter((r) => !r.check.ok || r.rejection)
    expect(problems).toEqual([])
    expect(sandbox.stats().contractRejections).toBe(0)
    // Every operation the destination uses was exercised.
    const paths = new Set(requests.map((r) => r.path))
    for (const path of [
      '/v2/affiliate/new',
      '/v2/affiliate/edit',
      '/v2/affiliate/get',
      '/v2/affiliate/search',
      '/v2/affiliate/status_change',
      '/v2/affiliate/trigger',
      '/v2/conversion/cancel',
      '/v2/conversion/manual_credit',
      '/v2/conversion/manual_credit_order_id',
      TRACKING_PATH
    ]) {
      expect(paths).toContain(path)
    }
  })
})
