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
   * The amount to credit, in Currency. Negative for a clawback; 0 is rejected. Map it from the event, e.g. a fixed bounty such as 25, or a property.
   */
  commission: number
  /**
   * Three-letter currency code (e.g. USD). Empty: your Refersion account's default currency.
   */
  currency?: string
  /**
   * PENDING (default): the credit waits for your review in Refersion before it is paid. APPROVED: it is approved at once.
   */
  status?: string
  /**
   * The credit's note in Refersion. The default names the event and its messageId, so every credit can be traced to the event that made it (and found, should an answer be lost).
   */
  notes?: string
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum credits per batch (up to 100). Each credit is still one request with its own result.
   */
  batch_size?: number
}
