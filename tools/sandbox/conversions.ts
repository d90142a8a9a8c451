/**
 * Orders reported through the tracking webhook, their attribution and their cancellations, and the
 * commissions credited by hand (`/conversion/manual_credit`, `/conversion/manual_credit_order_id`).
 * Framework-free like the store: the HTTP layer validates bodies and calls `record` / `cancel` /
 * `addManualCredit` / `creditOrder`.
 *
 * Assumptions where Refersion documents nothing: an order id is credited once (its first delivery decides;
 * a redelivery changes nothing), and a cancellation never takes back more of a SKU than the order had.
 * Every conversion (a credited order, a manual commission) takes its id from one counter.
 */
import type { SandboxAffiliate, SandboxStore } from './store'

/**
 * How an order was attributed: `auto_credit_affiliate_id`, a COUPON trigger, an EMAIL trigger, or by hand
 * (`/conversion/manual_credit_order_id`, which moves the credit to the affiliate it names).
 */
export type CreditedBy = 'auto_credit' | 'coupon' | 'email' | 'manual'

/** A manual credit's conversion status, as Refersion documents it for both manual credit operations. */
export type CreditStatus = 'APPROVED' | 'PENDING'
export const CREDIT_STATUSES: readonly CreditStatus[] = ['APPROVED', 'PENDING']

/** The conversion type Refersion gives a commission credited through `/conversion/manual_credit`. */
export const MANUAL_CREDIT_TYPE = 'MANUAL_CREDIT_BY_CLIENT'

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
  /** Each `/conversion/manual_credit_order_id` that credited this order, oldest first. */
  manual_order_credits: ManualOrderCredit[]
}

/** One manual credit of a tracked order to an affiliate. */
export interface ManualOrderCredit {
  affiliate_id: number
  /** The other affiliate the order was credited to until then (the answer's warning names it), else null. */
  replaced_affiliate_id: number | null
  status: CreditStatus
  notes: string | null
  credited_at: string
}

/** A commission credited with `/conversion/manual_credit`: a conversion of its own, tied to no order. */
export interface SandboxManualCredit {
  conversion_id: number
  type: typeof MANUAL_CREDIT_TYPE
  affiliate_id: number
  /** As sent: negative for a clawback; 0 is accepted (Refersion's reference does not forbid it). */
  commission: number
  status: CreditStatus
  /** Upper case; the account's default when the request named none. */
  currency: string
  notes: string | null
  created_at: string
}

/** What a manual commission credit carries (already checked by the handler). */
export interface NewManualCredit {
  commission: number
  status: CreditStatus
  currency: string
  notes?: string
}

export const FIRST_CONVERSION_ID = 11900001

function copy(order: SandboxOrder): SandboxOrder {
  return {
    ...order,
    affiliate: order.affiliate ? { ...order.affiliate } : null,
    items: order.items.map((i) => ({ ...i })),
    cancelled_items: order.cancelled_items.map((i) => ({ ...i })),
    manual_order_credits: order.manual_order_credits.map((c) => ({ ...c }))
  }
}

export class ConversionLedger {
  private readonly orders = new Map<string, SandboxOrder>()
  private readonly manual: SandboxManualCredit[] = []
  /** Per order id: how many times a manual credit of it was attempted. */
  private readonly creditAttempts = new Map<string, number>()
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

  /** Every manual commission credit, in the order credited (copies). */
  manualCredits(): SandboxManualCredit[] {
    return this.manual.map((c) => ({ ...c }))
  }

  clear(): void {
    this.orders.clear()
    this.manual.length = 0
    this.creditAttempts.clear()
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
      received_at: this.now().toISOString(),
      manual_order_credits: []
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

  /** Records a manual commission credit: a new conversion on every call (Refersion has no dedupe for it). */
  addManualCredit(affiliate: Readonly<SandboxAffiliate>, credit: NewManualCredit): SandboxManualCredit {
    const created: SandboxManualCredit = {
      conversion_id: this.nextConversionId++,
      type: MANUAL_CREDIT_TYPE,
      affiliate_id: affiliate.id,
      commission: credit.commission,
      status: credit.status,
      currency: credit.currency,
      notes: credit.notes ?? null,
      created_at: this.now().toISOString()
    }
    this.manual.push(created)
    return { ...created }
  }

  /** Counts an attempt to credit this order by hand: 1 for the first; undefined for an order never tracked. */
  countCreditAttempt(orderId: string): number | undefined {
    if (!this.orders.has(orderId)) return undefined
    const attempts = (this.creditAttempts.get(orderId) ?? 0) + 1
    this.creditAttempts.set(orderId, attempts)
    return attempts
  }

  /**
   * Credits a tracked order to `affiliate` by hand: the order moves to it (`credited_by: 'manual'`), and an
   * order that was credited to no one becomes a conversion with a new id. `replaced` is the other affiliate
   * that held the order until then (null when none, or when it was this one). 'already_credited', changing
   * nothing, when this affiliate was manually credited for the order before, whoever holds it now. Throws for
   * an order id never tracked (callers check `countCreditAttempt` first).
   */
  creditOrder(
    orderId: string,
    affiliate: Readonly<SandboxAffiliate>,
    credit: { status: CreditStatus; notes?: string }
  ): 'already_credited' | { replaced: number | null } {
    const order = this.orders.get(orderId)
    if (!order) throw new Error(`order ${orderId} was never tracked`)
    if (order.manual_order_credits.some((c) => c.affiliate_id === affiliate.id)) return 'already_credited'
    const previous = order.affiliate?.id
    const replaced = previous !== undefined && previous !== affiliate.id ? previous : null
    order.affiliate = { id: affiliate.id, code: affiliate.code }
    order.credited_by = 'manual'
    order.conversion_id ??= String(this.nextConversionId++)
    order.manual_order_credits.push({
      affiliate_id: affiliate.id,
      replaced_affiliate_id: replaced,
      status: credit.status,
      notes: credit.notes ?? null,
      credited_at: this.now().toISOString()
    })
    return { replaced }
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
