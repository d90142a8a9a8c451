import type { ActionDefinition } from '@segment/actions-core'
import { cacheAccountOf } from '../lib/affiliate-cache'
import { batchFields } from '../lib/batch'
import { clientFor } from '../lib/client'
import { EMAIL_DEFAULT } from '../lib/mapping'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'
import { removalStatus, removeAffiliate, removeAffiliatesInBatch } from './remove'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Delete Affiliate',
  description:
    'Removes a Refersion affiliate. Refersion has no hard delete: the affiliate is set to DISABLED (or DENIED), ' +
    'which stops its links and commissions. The affiliate is found by ID or code, else by exact email, else by userId.',
  defaultSubscription: 'type = "delete"',
  fields: {
    affiliateId: {
      label: 'Affiliate ID',
      description: 'A Refersion affiliate ID (numeric) or affiliate code. When set, Email and User ID are not used.',
      type: 'string'
    },
    email: {
      label: 'Email',
      description: "The affiliate's email; only an affiliate with exactly this email (any case) is changed.",
      type: 'string',
      default: EMAIL_DEFAULT
    },
    userId: {
      label: 'User ID',
      description:
        'Used when no email is mapped: the affiliate whose email equals it, or whose Unique Merchant ID (set from ' +
        "userId on create) equals it where Refersion's search matches and returns that ID. Map Email when you can.",
      type: 'string',
      default: { '@path': '$.userId' }
    },
    status: {
      label: 'Status',
      description: 'The status that removes the affiliate: DISABLED (default) or DENIED.',
      type: 'string',
      choices: [
        { label: 'Disabled', value: 'DISABLED' },
        { label: 'Denied', value: 'DENIED' }
      ],
      default: 'DISABLED'
    },
    ...batchFields
  },
  perform: async (request, { payload, settings }) => {
    const status = removalStatus(payload.status)
    return removeAffiliate(clientFor(request, settings), payload, status, cacheAccountOf(settings))
  },
  performBatch: async (request, { payload, settings }) => {
    return removeAffiliatesInBatch(clientFor(request, settings), payload, cacheAccountOf(settings))
  }
}

export default action
