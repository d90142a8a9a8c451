import type { ActionDefinition } from '@segment/actions-core'
import { cacheAccountOf } from '../lib/affiliate-cache'
import { oneRequestBatchFields, sendEachInBatch } from '../lib/batch'
import { clientFor } from '../lib/client'
import { creditTargetFields, NOTES_DEFAULT } from '../lib/credit'
import { TRACKED_ORDER_ID } from '../lib/mapping'
import type { Settings } from '../generated-types'
import { buildOrderCredit, sendOrderCredit } from './credit-order'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Credit Order to Affiliate',
  description:
    'Credits an order Refersion has already tracked (see Track Order) to an affiliate, for attribution that is ' +
    'known only later. Refersion credits an order to an affiliate once: a repeat changes nothing and succeeds. ' +
    "When the order was credited to another affiliate, the result carries Refersion's warning.",
  fields: {
    ...creditTargetFields,
    orderId: TRACKED_ORDER_ID,
    status: {
      label: 'Status',
      description: "Status of the credited conversion: APPROVED or PENDING. Empty: Refersion's default.",
      type: 'string',
      choices: [
        { label: 'Approved', value: 'APPROVED' },
        { label: 'Pending', value: 'PENDING' }
      ]
    },
    notes: {
      label: 'Notes',
      description: "The credit's note in Refersion. The default names the event and its messageId.",
      type: 'string',
      default: NOTES_DEFAULT
    },
    ...oneRequestBatchFields('credits', 'Each order credit is still one request with its own result.')
  },
  perform: async (request, { payload, settings }) => {
    return sendOrderCredit(clientFor(request, settings), buildOrderCredit(payload), cacheAccountOf(settings))
  },
  performBatch: async (request, { payload, settings }) => {
    const client = clientFor(request, settings)
    const account = cacheAccountOf(settings)
    return sendEachInBatch(payload, buildOrderCredit, (credit) => sendOrderCredit(client, credit, account))
  }
}

export default action
