import type { RefersionClient } from '../lib/client'
import {
  AffiliateSource,
  creditAffiliate,
  CreditStatus,
  creditStatusOf,
  CreditTarget,
  creditTargetOf
} from '../lib/credit'
import { RefersionApiError, RefersionRetryableError } from '../lib/errors'
import { text } from '../lib/normalise'
import { fail, Problem } from '../lib/problems'
import type { Payload } from './generated-types'

export const MANUAL_CREDIT_ORDER_PATH = '/conversion/manual_credit_order_id'

/** Refersion's 422 when this affiliate was already credited with this order: "(Error 6)", a success here. */
const ALREADY_CREDITED = /already been manually credited/i
/** Refersion's 422 while a credit of this order is being processed: "…is being process (error 5)", retryable. */
const IN_PROGRESS = /being process/i

/** A validated Credit Order to Affiliate event. */
export interface OrderCreditRequest {
  target: CreditTarget
  order: { order_id: string; status?: CreditStatus; notes?: string }
}

export function buildOrderCredit(payload: Payload): OrderCreditRequest {
  const problems: Problem[] = []
  const target = creditTargetOf(payload, problems)
  const orderId = text(payload.orderId)
  if (!orderId) problems.push({ field: 'orderId', message: '"Order ID" (orderId) is empty' })
  const status = creditStatusOf(payload.status, problems)
  if (problems.length) fail('Credit Order to Affiliate', problems)
  const order: OrderCreditRequest['order'] = { order_id: orderId as string }
  if (status) order.status = status
  const notes = text(payload.notes)
  if (notes) order.notes = notes
  return { target, order }
}

export type OrderCredited =
  | {
      /** Refersion credited the order to the affiliate (it re-processes the order). */
      outcome: 'credited'
      affiliate_id: number
      affiliate_from: AffiliateSource
      order_id: string
      message?: string
      /** Refersion's warning when the order had been credited to another affiliate. */
      warning?: string
    }
  | {
      /** Refersion had already credited this order to this affiliate manually (its Error 6): nothing changed. */
      outcome: 'already_credited'
      changed: false
      affiliate_id: number
      affiliate_from: AffiliateSource
      order_id: string
    }

function refersionSays(error: unknown, pattern: RegExp): boolean {
  return (
    error instanceof RefersionApiError && error.refersionStatus === 422 && error.messages.some((m) => pattern.test(m))
  )
}

async function postOrderCredit(
  client: RefersionClient,
  id: number,
  source: AffiliateSource,
  order: OrderCreditRequest['order']
): Promise<OrderCredited> {
  const base = { affiliate_id: id, affiliate_from: source, order_id: order.order_id }
  try {
    const data = await client.post<{ message?: unknown; warning?: unknown }>(MANUAL_CREDIT_ORDER_PATH, { id, ...order })
    const message = text(data.message)
    const warning = text(data.warning)
    return { outcome: 'credited', ...base, ...(message ? { message } : {}), ...(warning ? { warning } : {}) }
  } catch (error) {
    if (refersionSays(error, ALREADY_CREDITED)) return { outcome: 'already_credited', changed: false, ...base }
    if (refersionSays(error, IN_PROGRESS)) {
      throw new RefersionRetryableError(
        `${(error as Error).message} (Refersion is still processing a credit of this order; Segment will retry)`,
        503
      )
    }
    throw error
  }
}

/**
 * Credits an order Refersion already tracked to the affiliate the event names. Refersion dedupes by order id and
 * affiliate, so a repeat (a redelivery, or a retry after a lost answer) is its Error 6: a success that changed
 * nothing. Retried as usual.
 */
export async function sendOrderCredit(
  client: RefersionClient,
  request: OrderCreditRequest,
  account: string | undefined
): Promise<OrderCredited> {
  return creditAffiliate(client, request.target, account, (id, source) =>
    postOrderCredit(client, id, source, request.order)
  )
}
