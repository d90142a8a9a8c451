import type { RefersionClient } from '../lib/client'
import { RefersionApiError } from '../lib/errors'
import { buildItems } from '../lib/items'
import { text } from '../lib/normalise'
import { fail, Problem } from '../lib/problems'
import type { Payload } from './generated-types'

export const CANCEL_PATH = '/conversion/cancel'

/** Refersion's 422 for `/conversion/cancel` when no conversion has the order id: "Invalid order ID (error 5)". */
const INVALID_ORDER_ID = /invalid order id/i

export interface CancelBody {
  order_id: string
  items: { sku: string; price?: number; quantity: number }[]
}

export function buildCancellation(payload: Payload): CancelBody {
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
