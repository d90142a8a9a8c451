import { MultiStatusResponse } from '@segment/actions-core'
import type { ActionDefinition, InputField, JSONLikeObject } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import type { Payload as TrackPayload } from '../trackOrder/generated-types'
import type { Payload as CancelPayload } from '../cancelOrder/generated-types'
import type { Payload as TriggerPayload } from '../addConversionTrigger/generated-types'
import { batchFields, MAX_BATCH_SIZE, runBounded, setError } from './batch'
import { clientFor } from './client'
import type { RefersionClient, TriggerType } from './client'
import { AffiliateNotFoundError, FieldValidationError, RefersionApiError } from './errors'
import { fallback } from './mapping'
import { numericId, sameEmail, text } from './normalise'

/** Refersion's order-tracking webhook path, on the tracking host (`REFERSION_TRACKING_URL`). */
export const TRACK_ORDER_PATH = '/tracker/orders/paid'
export const CANCEL_PATH = '/conversion/cancel'
/** What Refersion allows for `cart_id`. */
export const MAX_CART_ID_LENGTH = 255
/** The currency sent when an event names none (Segment's e-commerce spec assumes USD too). */
export const DEFAULT_CURRENCY = 'USD'

/** Refersion's 422 for `/conversion/cancel` when no conversion has the order id: "Invalid order ID (error 5)". */
const INVALID_ORDER_ID = /invalid order id/i

// ---------------------------------------------------------------------------------------------------------------
// Default mappings (Segment Spec v2 e-commerce events)

const at = (path: string) => ({ '@path': path })

/** Each of `properties.products`: `sku`, else `product_id`, plus the given properties read as they are. */
export function productsDefault(properties: string[]) {
  const shape: Record<string, unknown> = { sku: fallback('$.sku', '$.product_id') }
  for (const key of properties) shape[key] = at(`$.${key}`)
  return { '@arrayPath': ['$.properties.products', shape] }
}

/** `properties.currency` when the event has one, else USD. */
export const CURRENCY_DEFAULT = {
  '@if': { exists: at('$.properties.currency'), then: at('$.properties.currency'), else: DEFAULT_CURRENCY }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation helpers: every problem names the field key (and the item's position) it comes from.

/** One input problem: the field key(s) it is about (an item's as `items[2].price`) and what is wrong. */
type Problem = { field: string | string[]; message: string }

function shownValue(value: unknown): string {
  const raw = typeof value === 'string' ? value : JSON.stringify(value)
  return raw === undefined ? String(value) : raw.length > 40 ? `${raw.slice(0, 40)}…` : raw
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

/** A JSON number, or a decimal numeric string ("19.99", "2"); NaN for anything else. */
function numberOf(value: unknown): number {
  if (typeof value === 'number') return value
  return typeof value === 'string' && NUMERIC.test(value) ? Number(value) : NaN
}

/**
 * A number as Refersion wants it, from a JSON number or a numeric string ("19.99"); undefined when absent
 * (undefined, null, empty). Anything else, or a negative number, is a problem.
 */
function amount(value: unknown, field: string, label: string, problems: Problem[]): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined
  const n = numberOf(value)
  if (!Number.isFinite(n) || n < 0) {
    problems.push({ field, message: `${label} must be a number of 0 or more (got ${shownValue(value)})` })
    return undefined
  }
  return n
}

/** A quantity: a whole number of at least 1; 1 when absent. */
function quantity(value: unknown, field: string, label: string, problems: Problem[]): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return 1
  const n = numberOf(value)
  if (!Number.isSafeInteger(n) || n < 1) {
    problems.push({ field, message: `${label} must be a whole number of at least 1 (got ${shownValue(value)})` })
    return 1
  }
  return n
}

function fail(action: string, problems: Problem[]): never {
  throw new FieldValidationError(
    `${action}: ${problems.map((p) => p.message).join('; ')}. Nothing was sent to Refersion.`,
    problems.flatMap((p) => p.field)
  )
}

interface ItemInput {
  sku?: unknown
  name?: unknown
  price?: unknown
  quantity?: unknown
}

/** The order's items as Refersion wants them; `priceRequired` for the tracking webhook (it needs unit prices). */
function buildItems(
  input: unknown,
  priceRequired: boolean,
  problems: Problem[]
): { sku: string; price?: number; quantity: number; name?: string }[] {
  const list: unknown[] = Array.isArray(input) ? input : input && typeof input === 'object' ? [input] : []
  if (!list.length) {
    problems.push({
      field: 'items',
      message:
        '"Items" (items) is empty: Refersion needs at least one item (each of properties.products, with a SKU or product ID)'
    })
    return []
  }
  return list.map((raw, i) => {
    const item = (raw && typeof raw === 'object' ? raw : {}) as ItemInput
    const where = `items[${i}]`
    const sku = text(item.sku)
    if (!sku) {
      problems.push({
        field: `${where}.sku`,
        message: `"Items" ${where}.sku is missing: each item needs a SKU or a product ID`
      })
    }
    const before = problems.length
    const price = amount(item.price, `${where}.price`, `"Items" ${where}.price (the unit price)`, problems)
    if (price === undefined && priceRequired && problems.length === before) {
      problems.push({ field: `${where}.price`, message: `"Items" ${where}.price (the unit price) is missing` })
    }
    const count = quantity(item.quantity, `${where}.quantity`, `"Items" ${where}.quantity`, problems)
    const name = text(item.name)
    const priced = price !== undefined ? { price } : {}
    // The documented key orders: sku, quantity, price, name (tracking webhook); sku, price, quantity (cancel).
    return priceRequired
      ? { sku: sku ?? '', quantity: count, ...priced, ...(name ? { name } : {}) }
      : { sku: sku ?? '', ...priced, quantity: count }
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Track Order: POST {tracking}/tracker/orders/paid

export interface OrderItem {
  sku: string
  quantity: number
  price?: number
  name?: string
}

export interface OrderBody {
  cart_id: string
  order_id: string
  currency_code: string
  items: OrderItem[]
  shipping?: number
  tax?: number
  discount?: number
  discount_code?: string
  customer?: { first_name?: string; last_name?: string; email?: string; ip_address?: string }
  auto_credit_affiliate_id?: string
  is_subscription?: true
  subscription_id?: string
}

/** Validates a Track Order payload and builds the webhook body; throws FieldValidationError listing every problem. */
export function buildOrder(payload: TrackPayload): OrderBody {
  const problems: Problem[] = []
  const orderId = text(payload.orderId)
  if (!orderId) problems.push({ field: 'orderId', message: '"Order ID" (orderId) is empty' })

  // A blank cart id falls back to the order id, as the default mapping does when the event has neither.
  const cartId = text(payload.cartId) ?? orderId
  if (cartId && cartId.length > MAX_CART_ID_LENGTH) {
    problems.push({
      field: 'cartId',
      message: `"Cart ID" (cartId) is longer than Refersion's ${MAX_CART_ID_LENGTH} characters`
    })
  }

  const currencyText = text(payload.currency)
  const currency = currencyText?.toUpperCase() ?? DEFAULT_CURRENCY
  if (!/^[A-Z]{3}$/.test(currency)) {
    problems.push({
      field: 'currency',
      message: `"Currency" (currency) must be a three-letter code such as USD (got ${shownValue(currencyText)})`
    })
  }

  const items = buildItems(payload.items, true, problems)
  const shipping = amount(payload.shipping, 'shipping', '"Shipping" (shipping)', problems)
  const tax = amount(payload.tax, 'tax', '"Tax" (tax)', problems)
  const discount = discountOf(payload.discount, problems)
  if (problems.length) fail('Track Order', problems)

  const body: OrderBody = { cart_id: cartId as string, order_id: orderId as string, currency_code: currency, items }
  if (shipping !== undefined) body.shipping = shipping
  if (tax !== undefined) body.tax = tax
  if (discount !== undefined) body.discount = discount
  const discountCode = text(payload.discountCode)
  if (discountCode) body.discount_code = discountCode
  const customer = customerOf(payload.customer)
  if (customer) body.customer = customer
  const affiliateId = text(payload.affiliateId)
  if (affiliateId) body.auto_credit_affiliate_id = affiliateId
  const subscriptionId = text(payload.subscriptionId)
  if (subscriptionId) {
    body.is_subscription = true
    body.subscription_id = subscriptionId
  }
  return body
}

/** Segment's spec lets `discount` be negative (an amount taken off); Refersion wants the amount: its absolute value. */
function discountOf(value: unknown, problems: Problem[]): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined
  const n = numberOf(value)
  if (!Number.isFinite(n)) {
    problems.push({ field: 'discount', message: `"Discount" (discount) must be a number (got ${shownValue(value)})` })
    return undefined
  }
  return Math.abs(n)
}

function customerOf(input: TrackPayload['customer']): OrderBody['customer'] {
  if (!input) return undefined
  const customer: NonNullable<OrderBody['customer']> = {}
  const firstName = text(input.firstName)
  const lastName = text(input.lastName)
  const email = text(input.email)
  const ip = text(input.ipAddress)
  if (firstName) customer.first_name = firstName
  if (lastName) customer.last_name = lastName
  if (email) customer.email = email
  if (ip) customer.ip_address = ip
  return Object.keys(customer).length ? customer : undefined
}

export interface TrackedOrder {
  outcome: 'tracked'
  order_id: string
  cart_id: string
  /** Refersion's HTTP status (any 2xx). */
  status: number
}

/** Sends one order to Refersion's tracking webhook. */
export async function sendOrder(client: RefersionClient, body: OrderBody): Promise<TrackedOrder> {
  const answer = await client.postTracking(TRACK_ORDER_PATH, body as unknown as Record<string, unknown>)
  return { outcome: 'tracked', order_id: body.order_id, cart_id: body.cart_id, status: answer.status }
}

// ---------------------------------------------------------------------------------------------------------------
// Cancel Order: POST /conversion/cancel

export interface CancelBody {
  order_id: string
  items: { sku: string; price?: number; quantity: number }[]
}

export function buildCancellation(payload: CancelPayload): CancelBody {
  const problems: Problem[] = []
  const orderId = text(payload.orderId)
  if (!orderId) problems.push({ field: 'orderId', message: '"Order ID" (orderId) is empty' })
  const items = buildItems(payload.items, false, problems)
  if (problems.length) fail('Cancel Order', problems)
  return { order_id: orderId as string, items }
}

export type CancelResult =
  | { outcome: 'cancelled'; order_id: string; conversion_id?: string }
  /** Refersion has no conversion for this order (it was never credited to an affiliate): nothing to reverse. */
  | { outcome: 'not_credited'; order_id: string }

/** Cancels the items of a credited order; an order Refersion never credited is a success that changed nothing. */
export async function sendCancellation(client: RefersionClient, body: CancelBody): Promise<CancelResult> {
  try {
    const data = await client.post<{ conversion_id?: unknown }>(CANCEL_PATH, body as unknown as Record<string, unknown>)
    const conversionId = text(data.conversion_id)
    return { outcome: 'cancelled', order_id: body.order_id, ...(conversionId ? { conversion_id: conversionId } : {}) }
  } catch (error) {
    if (
      error instanceof RefersionApiError &&
      error.refersionStatus === 422 &&
      error.messages.length > 0 &&
      error.messages.every((m) => INVALID_ORDER_ID.test(m))
    ) {
      return { outcome: 'not_credited', order_id: body.order_id }
    }
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Add Conversion Trigger: POST /affiliate/trigger

export const TRIGGER_TYPES: readonly TriggerType[] = ['COUPON', 'EMAIL', 'SKU']

export interface TriggerRequest {
  affiliateCode?: string
  email?: string
  type: TriggerType
  trigger: string
}

export function buildTriggerRequest(payload: TriggerPayload): TriggerRequest {
  const problems: Problem[] = []
  const affiliateCode = text(payload.affiliateCode)
  const email = text(payload.email)
  if (!affiliateCode && !email) {
    problems.push({
      field: ['affiliateCode', 'email'],
      message: 'map "Affiliate Code" (affiliateCode) or "Email" (email): both are empty, so no affiliate can be found'
    })
  }
  const type = (text(payload.type)?.toUpperCase() ?? 'COUPON') as TriggerType
  if (!TRIGGER_TYPES.includes(type)) {
    problems.push({
      field: 'type',
      message: `"Type" (type) must be COUPON, EMAIL or SKU (got ${shownValue(payload.type)})`
    })
  }
  const trigger = text(payload.trigger)
  if (!trigger) problems.push({ field: 'trigger', message: '"Trigger" (trigger) is empty' })
  if (problems.length) fail('Add Conversion Trigger', problems)
  return { ...(affiliateCode ? { affiliateCode } : { email }), type, trigger: trigger as string }
}

export interface TriggerAdded {
  /** `added`: Refersion created it; `exists`: Refersion already had it, which counts as done. */
  outcome: 'added' | 'exists'
  affiliate_code: string
  type: TriggerType
  trigger: string
  trigger_id?: number
}

/** The affiliate code for a trigger: the mapped code, else the code of the affiliate with exactly this email. */
async function affiliateCodeFor(client: RefersionClient, request: TriggerRequest): Promise<string> {
  if (request.affiliateCode) return request.affiliateCode
  const email = request.email as string
  const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
  const code = record ? text(record.affiliate_code) ?? text(record.id) : undefined
  if (!code) {
    throw new AffiliateNotFoundError(
      `Refersion affiliate not found: no affiliate has exactly the email ${email} (no trigger was added)`
    )
  }
  return code
}

export async function addConversionTrigger(client: RefersionClient, request: TriggerRequest): Promise<TriggerAdded> {
  const code = await affiliateCodeFor(client, request)
  const result = await client.addTrigger(code, request.type, request.trigger)
  const triggerId = numericId(result.triggerId)
  return {
    outcome: result.outcome,
    affiliate_code: code,
    type: request.type,
    trigger: request.trigger,
    ...(triggerId !== undefined ? { trigger_id: triggerId } : {})
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Batches: one request (chain) per event, run with the affiliate actions' bounded concurrency.

/**
 * performBatch for the conversion actions: every event is validated on its own (a bad one sends nothing and
 * fails alone), the rest are sent concurrently through `runBounded` (a 429 pauses new work, a 401 stops it), and
 * each event gets its own success or error; a result's `sent` is the body (or request) built from the event.
 */
export async function sendEachInBatch<P, B, R>(
  payloads: readonly P[],
  build: (payload: P) => B,
  send: (body: B) => Promise<R>
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const valid: { index: number; body: B }[] = []
  payloads.forEach((payload, index) => {
    try {
      valid.push({ index, body: build(payload) })
    } catch (error) {
      setError(response, index, error)
    }
  })
  const outcomes = await runBounded(valid, (item) => send(item.body))
  valid.forEach(({ index, body }, k) => {
    const outcome = outcomes[k]
    const sent = body as unknown as JSONLikeObject
    if (outcome.ok) {
      response.setSuccessResponseAtIndex(index, {
        status: 200,
        sent,
        body: outcome.value as unknown as JSONLikeObject
      })
    } else setError(response, index, outcome.error, sent)
  })
  return response
}

/** Use Batching and Batch Size for an action that sends one request per event (`what`: "orders", "refunds"…). */
export function oneRequestBatchFields(
  what: string,
  each: string
): Record<'enable_batching' | 'batch_size', InputField> {
  return {
    enable_batching: batchFields.enable_batching,
    batch_size: {
      ...batchFields.batch_size,
      description: `Maximum ${what} per batch (up to ${MAX_BATCH_SIZE}). ${each}`
    }
  }
}

/**
 * `perform` and `performBatch` of an action that builds one request body from each event (validating it, so a
 * bad event sends nothing) and sends it: one event alone, or a batch with one result per event.
 */
export function sendingEachEvent<P, B, R>(
  build: (payload: P) => B,
  send: (client: RefersionClient, body: B) => Promise<R>
): Pick<ActionDefinition<Settings, P>, 'perform' | 'performBatch'> {
  return {
    perform: async (request, { payload, settings }) => send(clientFor(request, settings), build(payload)),
    performBatch: async (request, { payload, settings }) => {
      const client = clientFor(request, settings)
      return sendEachInBatch(payload, build, (body) => send(client, body))
    }
  }
}
