import type { ActionDefinition } from '@segment/actions-core'
import { oneRequestBatchFields, sendingEachEvent } from '../lib/batch'
import { productsDefault } from '../lib/items'
import { TRACKED_ORDER_ID } from '../lib/mapping'
import { buildCancellation, sendCancellation } from './cancellation'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Cancel Order',
  description:
    "Reverses an affiliate's commission for refunded or cancelled items. Refersion cancels by item, so the event " +
    'must list the products. An order Refersion never credited to an affiliate (most orders) is a success that ' +
    'changes nothing.',
  defaultSubscription: 'type = "track" and (event = "Order Refunded" or event = "Order Cancelled")',
  fields: {
    orderId: TRACKED_ORDER_ID,
    items: {
      label: 'Items',
      description:
        'The refunded or cancelled products: SKU (the product ID when the SKU is missing) as sent with Track Order, ' +
        'the original unit price, and how many to cancel (1 when empty).',
      type: 'object',
      multiple: true,
      required: true,
      properties: {
        sku: { label: 'SKU', type: 'string' },
        price: { label: 'Unit Price', type: 'string' },
        quantity: { label: 'Quantity', type: 'string' }
      },
      default: productsDefault(['price', 'quantity'])
    },
    ...oneRequestBatchFields('refunds', 'Each refund is still one request with its own result.')
  },
  ...sendingEachEvent(buildCancellation, sendCancellation)
}

export default action
