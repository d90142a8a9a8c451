import type { ActionDefinition } from '@segment/actions-core'
import { fallback } from '../lib/mapping'
import { oneRequestBatchFields, sendingEachEvent } from '../lib/batch'
import { productsDefault } from '../lib/items'
import { buildOrder, CURRENCY_DEFAULT, sendOrder } from './order'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Track Order',
  description:
    "Sends a completed order to Refersion's order tracking webhook so the affiliate who referred it is credited: " +
    'by the link the shopper clicked (Cart ID), by Auto-Credit Affiliate ID, or by a coupon or email conversion trigger.',
  defaultSubscription: 'type = "track" and event = "Order Completed"',
  fields: {
    orderId: {
      label: 'Order ID',
      description:
        'Your order ID. Refersion keys orders by it and credits an order once, so a redelivered event changes nothing.',
      type: 'string',
      required: true,
      default: { '@path': '$.properties.order_id' }
    },
    cartId: {
      label: 'Cart ID',
      description:
        "Credits the affiliate whose link the shopper clicked: it must equal the cart ID your site's refersion.js sent " +
        'with its checkout event (sendCheckoutEvent) for this purchase, and must not be guessable (not a sequential ' +
        'number). When the event has no cart_id, checkout_id and then order_id are used, which only matches if your ' +
        'site sent that value. At most 255 characters.',
      type: 'string',
      required: true,
      default: fallback('$.properties.cart_id', fallback('$.properties.checkout_id', '$.properties.order_id'))
    },
    currency: {
      label: 'Currency',
      description: 'Three-letter currency code of the order (ISO 4217, e.g. USD); sent in upper case. USD when empty.',
      type: 'string',
      required: true,
      default: CURRENCY_DEFAULT
    },
    items: {
      label: 'Items',
      description:
        'The products bought. Each needs a SKU (the product ID is used when the SKU is missing; SKU conversion ' +
        'triggers match it) and its unit price (the price of one, not the line total); quantity is 1 when empty. ' +
        'Price and quantity may be numbers or numeric strings; they are sent as numbers.',
      type: 'object',
      multiple: true,
      required: true,
      properties: {
        sku: { label: 'SKU', type: 'string' },
        name: { label: 'Name', type: 'string' },
        price: { label: 'Unit Price', type: 'string' },
        quantity: { label: 'Quantity', type: 'string' }
      },
      default: productsDefault(['name', 'price', 'quantity'])
    },
    shipping: {
      label: 'Shipping',
      description: 'Shipping cost of the order (0 or more).',
      type: 'number',
      default: { '@path': '$.properties.shipping' }
    },
    tax: {
      label: 'Tax',
      description: 'Tax of the order (0 or more).',
      type: 'number',
      default: { '@path': '$.properties.tax' }
    },
    discount: {
      label: 'Discount',
      description: 'Discount on the order; sent as a positive amount whatever its sign in the event.',
      type: 'number',
      default: { '@path': '$.properties.discount' }
    },
    discountCode: {
      label: 'Discount Code',
      description:
        'The coupon code used. Refersion credits the affiliate that has this code as a COUPON conversion trigger ' +
        '(see Add Conversion Trigger, or Conversion Trigger Coupon on Create Affiliate).',
      type: 'string',
      default: { '@path': '$.properties.coupon' }
    },
    customer: {
      label: 'Customer',
      description:
        "The shopper. Refersion credits the affiliate that has the shopper's email as an EMAIL conversion trigger; " +
        'name and IP address help Refersion review the conversion.',
      type: 'object',
      properties: {
        email: { label: 'Email', type: 'string' },
        firstName: { label: 'First Name', type: 'string' },
        lastName: { label: 'Last Name', type: 'string' },
        ipAddress: { label: 'IP Address', type: 'string' }
      },
      default: {
        email: fallback('$.context.traits.email', '$.properties.email'),
        firstName: fallback('$.context.traits.firstName', '$.context.traits.first_name'),
        lastName: fallback('$.context.traits.lastName', '$.context.traits.last_name'),
        ipAddress: { '@path': '$.context.ip' }
      }
    },
    affiliateId: {
      label: 'Auto-Credit Affiliate ID',
      description:
        'Credits this Refersion affiliate with the order, overriding link-click, coupon and email attribution. ' +
        'Leave empty to let Refersion attribute the order.',
      type: 'string'
    },
    subscriptionId: {
      label: 'Subscription ID',
      description:
        'For a subscription order: your subscription ID. When set, the order is sent as a subscription ' +
        '(is_subscription) so Refersion can credit its renewals.',
      type: 'string'
    },
    ...oneRequestBatchFields('orders', 'Each order is still one request with its own result.')
  },
  ...sendingEachEvent(buildOrder, sendOrder)
}

export default action
