// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * The Refersion affiliate to credit: its numeric ID (one request per credit) or its affiliate code (looked up first). When set, Email is not used. Map it from the event, e.g. a trait or property holding the code.
   */
  affiliateId?: string
  /**
   * Used when Affiliate ID is empty: the affiliate whose email is exactly this (any case); a partial match is never credited. No default: the event must say which affiliate earns the credit.
   */
  email?: string
  /**
   * The ID of the order, as sent with Track Order.
   */
  orderId: string
  /**
   * Status of the credited conversion: APPROVED or PENDING. Empty: Refersion's default.
   */
  status?: string
  /**
   * The credit's note in Refersion. The default names the event and its messageId.
   */
  notes?: string
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum credits per batch (up to 100). Each order credit is still one request with its own result.
   */
  batch_size?: number
}
