// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * Your order ID. Refersion keys orders by it and credits an order once, so a redelivered event changes nothing.
   */
  orderId: string
  /**
   * Credits the affiliate whose link the shopper clicked: it must equal the cart ID your site's refersion.js sent with its checkout event (sendCheckoutEvent) for this purchase, and must not be guessable (not a sequential number). When the event has no cart_id, checkout_id and then order_id are used, which only matches if your site sent that value. At most 255 characters.
   */
  cartId: string
  /**
   * Three-letter currency code of the order (ISO 4217, e.g. USD); sent in upper case. USD when empty.
   */
  currency: string
  /**
   * The products bought. Each needs a SKU (the product ID is used when the SKU is missing; SKU conversion triggers match it) and its unit price (the price of one, not the line total); quantity is 1 when empty. Price and quantity may be numbers or numeric strings; they are sent as numbers.
   */
  items: {
    sku?: string
    name?: string
    price?: string
    quantity?: string
  }[]
  /**
   * Shipping cost of the order (0 or more).
   */
  shipping?: number
  /**
   * Tax of the order (0 or more).
   */
  tax?: number
  /**
   * Discount on the order; sent as a positive amount whatever its sign in the event.
   */
  discount?: number
  /**
   * The coupon code used. Refersion credits the affiliate that has this code as a COUPON conversion trigger (see Add Conversion Trigger, or Conversion Trigger Coupon on Create Affiliate).
   */
  discountCode?: string
  /**
   * The shopper. Refersion credits the affiliate that has the shopper's email as an EMAIL conversion trigger; name and IP address help Refersion review the conversion.
   */
  customer?: {
    email?: string
    firstName?: string
    lastName?: string
    ipAddress?: string
  }
  /**
   * Credits this Refersion affiliate with the order, overriding link-click, coupon and email attribution. Leave empty to let Refersion attribute the order.
   */
  affiliateId?: string
  /**
   * For a subscription order: your subscription ID. When set, the order is sent as a subscription (is_subscription) so Refersion can credit its renewals.
   */
  subscriptionId?: string
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum orders per batch (up to 100). Each order is still one request with its own result.
   */
  batch_size?: number
}
