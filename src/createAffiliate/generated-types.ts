// Generated file. DO NOT MODIFY IT BY HAND.

export interface Payload {
  /**
   * The affiliate's email address. Refersion allows one affiliate per email.
   */
  email: string
  /**
   * The affiliate's first name. When empty, the first word of Name is used. A first and last name are required only to create an affiliate; without them an identify updates the affiliate that has the email, if any.
   */
  firstName?: string
  /**
   * The affiliate's last name. When empty, everything after the first word of Name is used. Required only to create an affiliate, like First Name.
   */
  lastName?: string
  /**
   * Full name, used for whichever of First Name and Last Name is empty (first word → first name, the rest → last name). Names are required only to create an affiliate.
   */
  name?: string
  /**
   * The affiliate's postal address. Country may be a two- or three-letter code or an English name; it is sent as one of the two-letter codes Refersion accepts, or left out when it cannot be converted.
   */
  address?: {
    street?: string
    city?: string
    state?: string
    postalCode?: string
    country?: string
    [k: string]: unknown
  }
  /**
   * The affiliate's company name.
   */
  company?: string
  /**
   * The affiliate's phone number.
   */
  phone?: string
  /**
   * Password for the affiliate's Refersion login: 9–72 characters with an upper-case letter, a lower-case letter, a digit and a symbol, no character more than 3 times in a row, not the email. Leave empty to generate a strong random password for each new affiliate (they can reset it from the Refersion login page). Used only when the affiliate is created.
   */
  password?: string
  /**
   * Status of a new affiliate: PENDING (awaiting your approval) or ACTIVE. Not changed on updates.
   */
  status?: string
  /**
   * The numeric Refersion offer ID to assign (digits only; anything else is rejected before any request). Sent when the affiliate is created and on updates. Empty: the account's default offer for a new affiliate, and the current offer is kept on updates.
   */
  offer?: string
  /**
   * Whether Refersion e-mails a welcome message to a newly created affiliate. Used only on creation.
   */
  sendWelcome?: boolean
  /**
   * The PayPal address Refersion pays commissions to.
   */
  paypalEmail?: string
  /**
   * A coupon code that credits orders to this affiliate. Sent with a new affiliate; on a repeated identify it is added to the existing affiliate as a COUPON conversion trigger (one the affiliate already has counts as done).
   */
  conversionTriggerCoupon?: string
  /**
   * Your own ID for the affiliate, stored in Refersion. Defaults to the Segment userId. Set only when the affiliate is created (Refersion does not take it on updates). Deletion requests find an affiliate by it only where Refersion's search matches it; otherwise only when the userId is the affiliate's email.
   */
  uniqueMerchantId?: string
  /**
   * On (default): a repeated identify for an email that already has an affiliate updates its profile and adds a mapped coupon. Off: only new affiliates are created; a repeated identify stops at Refersion's "email taken" answer (one request) and succeeds without changing the existing affiliate, and an identify without a name changes nothing either. Turn it off if you only want Segment to create affiliates, so that Segment traits never overwrite what affiliates edit in their Refersion portal, and to spend fewer of the requests your Refersion account may make.
   */
  updateExisting?: boolean
  /**
   * Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.
   */
  enable_batching?: boolean
  /**
   * Maximum events per batch (up to 100). The default, 50, matches the 50 ids Refersion accepts per status change.
   */
  batch_size?: number
}
