/**
 * Seeded workloads for the order fault suite: affiliates with COUPON and EMAIL conversion triggers, Order
 * Completed events attributed every way SPEC lists (auto-credit by id or code, coupon in any case, customer
 * email, no one), Order Refunded events, and an independent model of what Refersion must record (written
 * from SPEC.md's attribution order, not from the destination or the sandbox).
 */
import type { JSONObject } from '@segment/actions-core'
import type { Rng } from './scenario'

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]
const chance = (rng: Rng, p: number) => rng() < p

/** A random mix of upper and lower case: coupons and emails must match whatever their case. */
export function anyCase(rng: Rng, value: string): string {
  switch (Math.floor(rng() * 4)) {
    case 0:
      return value
    case 1:
      return value.toUpperCase()
    case 2:
      return value.toLowerCase()
    default:
      return [...value].map((c) => (rng() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('')
  }
}

/** An affiliate of the shop, as the sandbox created it, with the triggers the suite gives it. */
export interface ShopAffiliate {
  id: number
  code: string
  email: string
  /** Its COUPON trigger (every affiliate has one). */
  coupon: string
  /** Its EMAIL trigger: a customer whose orders credit it (some affiliates only). */
  customerEmail?: string
}

export type Expect = { kind: 'success' } | { kind: 'failed'; status: number; noRequest: boolean }

/** One Add Conversion Trigger event and what it must leave in Refersion. */
export interface TriggerStep {
  event: JSONObject
  expect: Expect
  /** The trigger it adds (absent for events that must fail). */
  adds?: { code: string; type: 'COUPON' | 'EMAIL'; trigger: string }
  label: string
}

/** Mapping overrides: code, type and trigger from traits (the email comes from the default mapping). */
export const TRIGGER_OVERRIDES: JSONObject = {
  affiliateCode: { '@path': '$.traits.affiliateCode' },
  type: { '@path': '$.traits.triggerType' },
  trigger: { '@path': '$.traits.trigger' }
}

/** Track Order with the auto-credit affiliate mapped from the event (a workspace's own property). */
export const ORDER_OVERRIDES: JSONObject = { affiliateId: { '@path': '$.properties.affiliate_id' } }

let counter = 0
const messageId = (label: string) => `ord-${label}-${++counter}`

function triggerEvent(traits: Record<string, unknown>, label: string): JSONObject {
  return {
    type: 'identify',
    messageId: messageId(label),
    timestamp: '2026-01-01T00:00:00.000Z',
    userId: `trigger-${counter}`,
    traits
  } as JSONObject
}

/**
 * Triggers for every affiliate: its COUPON (found by code, or by its email in any case) and, for some, an EMAIL
 * trigger; a share sent twice (the second is "already exists", which counts as done); and events that must
 * fail: nobody has the email (final 404 after a search), or nothing to go by / no trigger (400, nothing sent).
 */
export function triggerSteps(rng: Rng, shop: readonly ShopAffiliate[], tag: string): TriggerStep[] {
  const steps: TriggerStep[] = []
  for (const a of shop) {
    const byCode = chance(rng, 0.5)
    const who = byCode ? { affiliateCode: a.code } : { email: anyCase(rng, a.email) }
    const coupon: TriggerStep = {
      event: triggerEvent({ ...who, triggerType: pick(rng, ['COUPON', undefined]), trigger: a.coupon }, 'coupon'),
      expect: { kind: 'success' },
      adds: { code: a.code, type: 'COUPON', trigger: a.coupon },
      label: 'coupon'
    }
    steps.push(coupon)
    if (chance(rng, 0.15)) steps.push({ ...coupon, event: { ...coupon.event, messageId: messageId('again') } })
    if (a.customerEmail) {
      steps.push({
        event: triggerEvent({ affiliateCode: a.code, triggerType: 'EMAIL', trigger: a.customerEmail }, 'email'),
        expect: { kind: 'success' },
        adds: { code: a.code, type: 'EMAIL', trigger: a.customerEmail },
        label: 'email-trigger'
      })
    }
  }
  steps.push(
    {
      event: triggerEvent({ email: `nobody.${tag}@shop.test`, trigger: `NOPE-${tag}` }, 'unknown'),
      expect: { kind: 'failed', status: 404, noRequest: false },
      label: 'unknown-affiliate'
    },
    {
      // Only a partial match exists (ann@… is inside joann@…): never used.
      event: triggerEvent({ email: `nn.${tag}@shop.test`, trigger: `PARTIAL-${tag}` }, 'partial'),
      expect: { kind: 'failed', status: 404, noRequest: false },
      label: 'partial-email'
    },
    {
      event: triggerEvent({ trigger: `ORPHAN-${tag}` }, 'nobody'),
      expect: { kind: 'failed', status: 400, noRequest: true },
      label: 'no-affiliate'
    },
    {
      event: triggerEvent({ affiliateCode: shop[0].code, trigger: '   ' }, 'blank'),
      expect: { kind: 'failed', status: 400, noRequest: true },
      label: 'blank-trigger'
    }
  )
  return steps
}

export interface ExpectedItem {
  sku: string
  quantity: number
  price: number
  name?: string
}

/** How an order must be credited (SPEC's order: auto-credit, COUPON trigger, EMAIL trigger, else no one). */
export interface ExpectedCredit {
  affiliateId: number | null
  by: 'auto_credit' | 'coupon' | 'email' | null
}

export interface OrderStep {
  event: JSONObject
  orderId: string
  label: string
  expect: Expect
  /** For valid orders: what the sandbox must record. */
  items?: ExpectedItem[]
  credit?: ExpectedCredit
  currency?: string
}

function product(rng: Rng, orderId: string, k: number): { raw: Record<string, unknown>; item: ExpectedItem } {
  const sku = `SKU-${orderId}-${k}`
  const cents = 100 + Math.floor(rng() * 20_000)
  const price = cents / 100
  const quantity = 1 + Math.floor(rng() * 4)
  const raw: Record<string, unknown> = { name: `Product ${k}` }
  // SKU, else product ID; price and quantity as numbers or numeric strings (quantity absent means 1).
  if (chance(rng, 0.8)) raw.sku = sku
  else raw.product_id = sku
  raw.price = chance(rng, 0.2) ? price.toFixed(2) : price
  if (quantity === 1 && chance(rng, 0.5)) {
    // absent
  } else raw.quantity = chance(rng, 0.2) ? String(quantity) : quantity
  return { raw, item: { sku, quantity, price, name: `Product ${k}` } }
}

/** A valid Order Completed event and how it must be credited. */
export function order(rng: Rng, shop: readonly ShopAffiliate[], orderId: string): OrderStep {
  const products = Array.from({ length: 1 + Math.floor(rng() * 3) }, (_, k) => product(rng, orderId, k))
  const properties: Record<string, unknown> = {
    order_id: orderId,
    checkout_id: `chk-${orderId}`,
    products: products.map((p) => p.raw),
    shipping: 4.5,
    tax: 1.25,
    discount: -2
  }
  const currency = pick(rng, ['usd', 'EUR', undefined, 'gbp'])
  if (currency) properties.currency = currency
  const withEmailTrigger = shop.filter((a) => a.customerEmail)
  let customerEmail = `shopper.${orderId}@buyers.test`
  let credit: ExpectedCredit
  const kind = pick(rng, ['auto-id', 'auto-code', 'coupon', 'coupon', 'email', 'email', 'none'] as const)
  switch (kind) {
    case 'auto-id':
    case 'auto-code': {
      const a = pick(rng, shop)
      properties.affiliate_id = kind === 'auto-id' ? String(a.id) : a.code
      // Another affiliate's coupon does not take the credit from the auto-credited one.
      if (chance(rng, 0.5)) properties.coupon = pick(rng, shop).coupon
      credit = { affiliateId: a.id, by: 'auto_credit' }
      break
    }
    case 'coupon': {
      const a = pick(rng, shop)
      properties.coupon = anyCase(rng, a.coupon)
      // A customer with an EMAIL trigger of another affiliate: the coupon still wins.
      if (chance(rng, 0.4)) customerEmail = anyCase(rng, pick(rng, withEmailTrigger).customerEmail!)
      credit = { affiliateId: a.id, by: 'coupon' }
      break
    }
    case 'email': {
      const a = pick(rng, withEmailTrigger)
      customerEmail = anyCase(rng, a.customerEmail!)
      if (chance(rng, 0.4)) properties.coupon = `UNKNOWN-${orderId}`
      credit = { affiliateId: a.id, by: 'email' }
      break
    }
    case 'none':
      if (chance(rng, 0.5)) properties.coupon = `UNKNOWN-${orderId}`
      credit = { affiliateId: null, by: null }
      break
  }
  return {
    event: {
      type: 'track',
      event: 'Order Completed',
      messageId: messageId('order'),
      timestamp: '2026-01-02T00:00:00.000Z',
      userId: `buyer-${orderId}`,
      context: { traits: { email: customerEmail, first_name: 'Sam' }, ip: '203.0.113.9' },
      properties
    } as JSONObject,
    orderId,
    label: `order-${kind}`,
    expect: { kind: 'success' },
    items: products.map((p) => p.item),
    credit,
    currency: (currency ?? 'USD').toUpperCase()
  }
}

/** Orders the destination must refuse before sending anything (final 400 on the first attempt). */
export function invalidOrders(tag: string): OrderStep[] {
  const base = (orderId: string, properties: Record<string, unknown>, label: string): OrderStep => ({
    event: {
      type: 'track',
      event: 'Order Completed',
      messageId: messageId(label),
      userId: `bad-${orderId}`,
      properties: { order_id: orderId, ...properties }
    } as JSONObject,
    orderId,
    label,
    expect: { kind: 'failed', status: 400, noRequest: true }
  })
  return [
    base(`bad-none-${tag}`, { products: [] }, 'no-products'),
    base(`bad-absent-${tag}`, {}, 'products-absent'),
    base(`bad-sku-${tag}`, { products: [{ name: 'x', price: 1 }] }, 'no-sku'),
    base(`bad-price-${tag}`, { products: [{ sku: 'a', price: -5 }] }, 'negative-price'),
    base(`bad-nan-${tag}`, { products: [{ sku: 'a', price: 'cheap' }] }, 'text-price'),
    base(`bad-qty-${tag}`, { products: [{ sku: 'a', price: 3, quantity: 0 }] }, 'zero-quantity'),
    base(`bad-cur-${tag}`, { currency: 'EURO', products: [{ sku: 'a', price: 3 }] }, 'bad-currency'),
    base(`bad-tax-${tag}`, { tax: -1, products: [{ sku: 'a', price: 3 }] }, 'negative-tax')
  ]
}

export interface RefundStep {
  event: JSONObject
  orderId: string
  label: string
  expect: Expect
  /** Items this refund cancels (for a credited order; an uncredited one cancels nothing). */
  cancels?: { sku: string; price: number; quantity: number }[]
}

function refundEvent(orderId: string, products: Record<string, unknown>[], label: string, name: string): JSONObject {
  return {
    type: 'track',
    event: name,
    messageId: messageId(label),
    timestamp: '2026-01-03T00:00:00.000Z',
    userId: `buyer-${orderId}`,
    properties: { order_id: orderId, products }
  } as JSONObject
}

/** A refund of some of the order's items, each `quantityOf(item)` times (the whole line when omitted). */
export function refund(
  rng: Rng,
  placed: OrderStep,
  quantityOf: (item: ExpectedItem) => number = (item) => item.quantity,
  items: ExpectedItem[] = placed.items!.filter((_, k) => k === 0 || chance(rng, 0.5))
): RefundStep {
  const products = items.map((item) => {
    const quantity = quantityOf(item)
    const raw: Record<string, unknown> = chance(rng, 0.8) ? { sku: item.sku } : { product_id: item.sku }
    raw.price = item.price
    if (quantity !== 1 || chance(rng, 0.5)) raw.quantity = quantity
    return { raw, cancel: { sku: item.sku, price: item.price, quantity } }
  })
  return {
    event: refundEvent(
      placed.orderId,
      products.map((p) => p.raw),
      'refund',
      pick(rng, ['Order Refunded', 'Order Cancelled'])
    ),
    orderId: placed.orderId,
    label: placed.credit?.affiliateId ? 'refund-credited' : 'refund-not-credited',
    expect: { kind: 'success' },
    cancels: placed.credit?.affiliateId ? products.map((p) => p.cancel) : []
  }
}

/** Refunds the destination must refuse (no products, a product with neither SKU nor ID): 400, nothing sent. */
export function invalidRefunds(orderId: string): RefundStep[] {
  const fail: Expect = { kind: 'failed', status: 400, noRequest: true }
  return [
    { event: refundEvent(orderId, [], 'refund-empty', 'Order Refunded'), orderId, label: 'refund-empty', expect: fail },
    {
      event: refundEvent(orderId, [{ price: 3, quantity: 1 }], 'refund-no-sku', 'Order Refunded'),
      orderId,
      label: 'refund-no-sku',
      expect: fail
    }
  ]
}
