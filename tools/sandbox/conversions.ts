/**
 * Orders reported through the tracking webhook, their attribution and their cancellations. Framework-free
 * like the store: the HTTP layer validates bodies and calls `record` / `cancel`.
 *
 * Assumptions where Refersion documents nothing: an order id is credited once (its first delivery decides;
 * a redelivery changes nothing), and a cancellation never takes back more of a SKU than the order had.
 */
import type { SandboxAffiliate, SandboxStore } from './store'

/** How an order was attributed: `auto_credit_affiliate_id`, a COUPON trigger, or an EMAIL trigger. */
export type CreditedBy = 'auto_credit' | 'coupon' | 'email'

export interface OrderItem {
  sku: string
  quantity: number
  /** Unit price. */
  price: number
  name?: string
}

export interface CancelledItem {
  sku: string
  price: number
  quantity: number
}

/** What the webhook body carries that the ledger keeps (already checked against the contract). */
export interface TrackedOrder {
  cart_id: string
  order_id: string
  currency_code: string
  items: OrderItem[]
  discount_code?: string
  customer?: { email?: string }
  auto_credit_affiliate_id?: string | number
}

export interface SandboxOrder {
  order_id: string
  cart_id: string
  currency_code: string
  /** The credited affiliate, or null when no attribution path matched (the order is recorded, not credited). */
  affiliate: { id: number; code: string } | null
  credited_by: CreditedBy | null
  /** Set for credited orders: what `/conversion/cancel` answers. */
  conversion_id: string | null
  discount_code: string | null
  customer_email: string | null
  items: OrderItem[]
  cancelled_items: CancelledItem[]
  /** How many times this order id was delivered (the first delivery is the one that counts). */
  deliveries: number
  received_at: string
}

export const FIRST_CONVERSION_ID = 11900001

function copy(order: SandboxOrder): SandboxOrder {
  return {
    ...order,
    affiliate: order.affiliate ? { ...order.affiliate } : null,
    items: order.items.map((i) => ({ ...i })),
    cancelled_items: order.cancelled_items.map((i) => ({ ...i }))
  }
}

export class ConversionLedger {
  private readonly orders = new Map<string, SandboxOrder>()
  private nextConversionId = FIRST_CONVERSION_ID

  constructor(private readonly store: SandboxStore, private readonly now: () => Date = () => new Date()) {}

  get size(): number {
    return this.orders.size
  }

  /** Every order, in the order first received (copies). */
  all(): SandboxOrder[] {
    return Array.from(this.orders.values(), copy)
  }

  get(orderId: string): SandboxOrder | undefined {
    const order = this.orders.get(orderId)
    return order ? copy(order) : undefined
  }

  clear(): void {
    this.orders.clear()
    this.nextConversionId = FIRST_CONVERSION_ID
  }

  /** Records an order; a known order id only counts the delivery. `repeated` tells which happened. */
  record(body: TrackedOrder): { order: SandboxOrder; repeated: boolean } {
    const known = this.orders.get(body.order_id)
    if (known) {
      known.deliveries++
      return { order: copy(known), repeated: true }
    }
    const credit = this.attribute(body)
    const order: SandboxOrder = {
      order_id: body.order_id,
      cart_id: body.cart_id,
      currency_code: body.currency_code.toUpperCase(),
      affiliate: credit ? { id: credit.affiliate.id, code: credit.affiliate.code } : null,
      credited_by: credit?.by ?? null,
      conversion_id: credit ? String(this.nextConversionId++) : null,
      discount_code: body.discount_code ?? null,
      customer_email: body.customer?.email ?? null,
      items: body.items.map(({ sku, quantity, price, name }) =>
        name === undefined ? { sku, quantity, price } : { sku, quantity, price, name }
      ),
      cancelled_items: [],
      deliveries: 1,
      received_at: this.now().toISOString()
    }
    this.orders.set(order.order_id, order)
    return { order: copy(order), repeated: false }
  }

  /**
   * Cancels items of a credited order. Each SKU is cancelled at most up to the quantity ordered (so a
   * redelivered cancellation takes nothing more); SKUs the order does not have are ignored. Undefined when
   * no credited conversion has this order id.
   */
  cancel(orderId: string, items: { sku: string; price?: number; quantity?: number }[]): SandboxOrder | undefined {
    const order = this.orders.get(orderId)
    if (!order || !order.conversion_id) return undefined
    for (const item of items) {
      const sku = item.sku.trim()
      const ordered = order.items.filter((i) => i.sku === sku)
      if (ordered.length === 0) continue
      const total = ordered.reduce((sum, i) => sum + i.quantity, 0)
      const done = order.cancelled_items.filter((i) => i.sku === sku).reduce((sum, i) => sum + i.quantity, 0)
      const quantity = Math.min(item.quantity ?? 1, total - done)
      if (quantity <= 0) continue
      order.cancelled_items.push({ sku, price: item.price ?? ordered[0].price, quantity })
    }
    return copy(order)
  }

  /** Auto-credit affiliate (id or code), else COUPON trigger on the discount code, else EMAIL trigger. */
  private attribute(body: TrackedOrder): { affiliate: Readonly<SandboxAffiliate>; by: CreditedBy } | undefined {
    const auto = this.affiliateByIdOrCode(body.auto_credit_affiliate_id)
    if (auto) return { affiliate: auto, by: 'auto_credit' }
    const coupon = body.discount_code?.trim()
    const byCoupon = coupon ? this.store.findTrigger('COUPON', coupon) : undefined
    const couponOwner = byCoupon ? this.store.getById(byCoupon.affiliate_id) : undefined
    if (couponOwner) return { affiliate: couponOwner, by: 'coupon' }
    const email = body.customer?.email?.trim()
    const byEmail = email ? this.store.findTrigger('EMAIL', email) : undefined
    const emailOwner = byEmail ? this.store.getById(byEmail.affiliate_id) : undefined
    if (emailOwner) return { affiliate: emailOwner, by: 'email' }
    return undefined
  }

  private affiliateByIdOrCode(value: string | number | undefined): Readonly<SandboxAffiliate> | undefined {
    if (value === undefined) return undefined
    const raw = String(value).trim()
    if (raw === '') return undefined
    const byId = /^\d{1,15}$/.test(raw) ? this.store.getById(Number(raw)) : undefined
    return byId ?? this.store.getByCode(raw)
  }
}
