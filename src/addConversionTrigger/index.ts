import type { ActionDefinition } from '@segment/actions-core'
import { EMAIL_DEFAULT } from '../lib/mapping'
import { oneRequestBatchFields, sendingEachEvent } from '../lib/batch'
import { addConversionTrigger, buildTriggerRequest } from './trigger'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Add Conversion Trigger',
  description:
    'Gives an affiliate a conversion trigger: orders with this coupon code (COUPON), from this customer email ' +
    '(EMAIL) or with this product SKU (SKU) are credited to the affiliate. A trigger Refersion already has counts as done.',
  fields: {
    affiliateCode: {
      label: 'Affiliate Code',
      description: "The affiliate's Refersion code (e.g. a3y7). When empty, the affiliate is found by Email.",
      type: 'string'
    },
    email: {
      label: 'Email',
      description:
        'Used when Affiliate Code is empty: the affiliate whose email is exactly this (any case); a partial match is never used.',
      type: 'string',
      default: EMAIL_DEFAULT
    },
    type: {
      label: 'Type',
      description: 'What the trigger matches on an order: a coupon code, the customer email, or a product SKU.',
      type: 'string',
      choices: [
        { label: 'Coupon', value: 'COUPON' },
        { label: 'Email', value: 'EMAIL' },
        { label: 'SKU', value: 'SKU' }
      ],
      default: 'COUPON'
    },
    trigger: {
      label: 'Trigger',
      description:
        'The coupon code, customer email or SKU that credits the affiliate (for example a trait such as traits.coupon).',
      type: 'string',
      required: true
    },
    ...oneRequestBatchFields('events', 'Each trigger is still added with its own result.')
  },
  ...sendingEachEvent(buildTriggerRequest, addConversionTrigger)
}

export default action
