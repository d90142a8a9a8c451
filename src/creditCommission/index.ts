import type { ActionDefinition } from '@segment/actions-core'
import { cacheAccountOf } from '../lib/affiliate-cache'
import { oneRequestBatchFields, sendEachInBatch } from '../lib/batch'
import { clientFor } from '../lib/client'
import { creditTargetFields, NOTES_DEFAULT } from '../lib/credit'
import type { Settings } from '../generated-types'
import { buildCredit, sendCredit } from './credit'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Credit Commission',
  description:
    'Credits an affiliate with a commission from any event: a lead or CPA bounty (a signup, a trial, a closed ' +
    'deal), a bonus, or a clawback (a negative amount). Refersion credits every request it receives, so a credit ' +
    'whose answer was lost is never retried (that could pay twice): the event fails with a message naming the ' +
    'note to look for in Refersion.',
  fields: {
    ...creditTargetFields,
    commission: {
      label: 'Commission',
      description:
        'The amount to credit, in Currency. Negative for a clawback; 0 is rejected. Map it from the event, e.g. a ' +
        'fixed bounty such as 25, or a property.',
      type: 'number',
      required: true,
      default: { '@path': '$.properties.commission' }
    },
    currency: {
      label: 'Currency',
      description: "Three-letter currency code (e.g. USD). Empty: your Refersion account's default currency.",
      type: 'string',
      default: { '@path': '$.properties.currency' }
    },
    status: {
      label: 'Status',
      description:
        'PENDING (default): the credit waits for your review in Refersion before it is paid. APPROVED: it is ' +
        'approved at once.',
      type: 'string',
      choices: [
        { label: 'Pending', value: 'PENDING' },
        { label: 'Approved', value: 'APPROVED' }
      ],
      default: 'PENDING'
    },
    notes: {
      label: 'Notes',
      description:
        "The credit's note in Refersion. The default names the event and its messageId, so every credit can be " +
        'traced to the event that made it (and found, should an answer be lost).',
      type: 'string',
      default: NOTES_DEFAULT
    },
    ...oneRequestBatchFields('credits', 'Each credit is still one request with its own result.')
  },
  perform: async (request, { payload, settings }) => {
    return sendCredit(clientFor(request, settings), buildCredit(payload), cacheAccountOf(settings))
  },
  performBatch: async (request, { payload, settings }) => {
    const client = clientFor(request, settings)
    const account = cacheAccountOf(settings)
    return sendEachInBatch(payload, buildCredit, (credit) => sendCredit(client, credit, account))
  }
}

export default action
