// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * The affiliate's Refersion code (e.g. a3y7). When empty, the affiliate is found by Email.
   */
  affiliateCode?: string
  /**
   * Used when Affiliate Code is empty: the affiliate whose email is exactly this (any case); a partial match is never used.
   */
  email?: string
  /**
   * What the trigger matches on an order: a coupon code, the customer email, or a product SKU.
   */
  type?: string
  /**
   * The coupon code, customer email or SKU that credits the affiliate (for example a trait such as traits.coupon).
   */
  trigger: string
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum events per batch (up to 100). Each trigger is still added with its own result.
   */
  batch_size?: number
}
