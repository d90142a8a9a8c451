// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * A Refersion affiliate ID (numeric) or affiliate code. When set, Email and User ID are not used.
   */
  affiliateId?: string
  /**
   * The affiliate's email; only an affiliate with exactly this email (any case) is changed.
   */
  email?: string
  /**
   * Used when no email is mapped: the affiliate whose email equals it, or whose Unique Merchant ID (set from userId on create) equals it where Refersion's search matches and returns that ID. Map Email when you can.
   */
  userId?: string
  /**
   * The status that removes the affiliate: DISABLED (default) or DENIED.
   */
  status?: string
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum events per batch (up to 100). The default, 50, matches the 50 ids Refersion accepts per status change.
   */
  batch_size?: number
}
