import type { InputField } from '@segment/actions-core'

/** `a` when it exists in the event, else `b` — the mapping-kit fallback form Segment's validator accepts. */
export function fallback(a: string, b: string | object) {
  return {
    '@if': { exists: { '@path': a }, then: { '@path': a }, else: typeof b === 'string' ? { '@path': b } : b }
  }
}

/** The email of an identify (`traits.email`), else the event's top-level `email`, else `context.traits.email`. */
export const EMAIL_DEFAULT = fallback('$.traits.email', fallback('$.email', '$.context.traits.email'))

/** The Order ID field of the actions that name an order Track Order sent (Cancel Order, Credit Order). */
export const TRACKED_ORDER_ID: InputField = {
  label: 'Order ID',
  description: 'The ID of the order, as sent with Track Order.',
  type: 'string',
  required: true,
  default: { '@path': '$.properties.order_id' }
}
