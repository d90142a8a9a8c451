// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * The ID of the order, as sent with Track Order.
   */
  orderId: string
  /**
   * The refunded or cancelled products: SKU (the product ID when the SKU is missing) as sent with Track Order, the original unit price, and how many to cancel (1 when empty).
   */
  items: {
    sku?: string
    price?: string
    quantity?: string
  }[]
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum refunds per batch (up to 100). Each refund is still one request with its own result.
   */
  batch_size?: number
}
