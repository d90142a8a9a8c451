import type { RefersionClient } from '../lib/client'
import { buildItems } from '../lib/items'
import { text } from '../lib/normalise'
import { amount, fail, numberOf, Problem, shownValue } from '../lib/problems'
import type { Payload } from './generated-types'

/** Refersion's order-tracking webhook path, on the tracking host (`REFERSION_TRACKING_URL`). */
export const TRACK_ORDER_PATH = '/tracker/orders/paid'
/** What Refersion allows for `cart_id`. */
export const MAX_CART_ID_LENGTH = 255
/** The currency sent when an event names none (Segment's e-commerce spec assumes USD too). */
export const DEFAULT_CURRENCY = 'USD'

const at = (path: string) => ({ '@path': path })

/** `properties.currency` when the event has one, else USD. */
export const CURRENCY_DEFAULT = {
  '@if': { exists: at('$.properties.currency'), then: at('$.properties.currency'), else: DEFAULT_CURRENCY }
}

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
export function buildOrder(payload: Payload): OrderBody {
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

function customerOf(input: Payload['customer']): OrderBody['customer'] {
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
