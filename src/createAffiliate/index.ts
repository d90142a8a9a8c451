import type { ActionDefinition } from '@segment/actions-core'
import { cacheAccountOf } from '../lib/affiliate-cache'
import { batchFields } from '../lib/batch'
import { clientFor } from '../lib/client'
import { EMAIL_DEFAULT, fallback } from '../lib/mapping'
import { createAffiliatesInBatch } from './batch'
import { planAffiliate } from './plan'
import { upsertAffiliate } from './upsert'
import type { Settings } from '../generated-types'
import type { Payload } from './generated-types'

const action: ActionDefinition<Settings, Payload> = {
  title: 'Create Affiliate',
  description:
    'Creates a Refersion affiliate from an identify call. A repeated identify for an email that already has an ' +
    'affiliate updates that affiliate instead of failing or creating a duplicate; an identify without a name (Segment ' +
    'sends only the traits that changed) only updates an existing affiliate. Affiliates this process has just ' +
    'created or updated are remembered for up to 15 minutes, so an unchanged repeat sends nothing and a changed one ' +
    'a single edit.',
  defaultSubscription: 'type = "identify"',
  fields: {
    email: {
      label: 'Email',
      description: "The affiliate's email address. Refersion allows one affiliate per email.",
      type: 'string',
      format: 'email',
      required: true,
      default: EMAIL_DEFAULT
    },
    firstName: {
      label: 'First Name',
      description:
        "The affiliate's first name. When empty, the first word of Name is used. A first and last name are required " +
        'only to create an affiliate; without them an identify updates the affiliate that has the email, if any.',
      type: 'string',
      default: fallback('$.traits.firstName', '$.traits.first_name')
    },
    lastName: {
      label: 'Last Name',
      description:
        "The affiliate's last name. When empty, everything after the first word of Name is used. Required only to " +
        'create an affiliate, like First Name.',
      type: 'string',
      default: fallback('$.traits.lastName', '$.traits.last_name')
    },
    name: {
      label: 'Name',
      description:
        'Full name, used for whichever of First Name and Last Name is empty (first word → first name, the rest → last ' +
        'name). Names are required only to create an affiliate.',
      type: 'string',
      default: { '@path': '$.traits.name' }
    },
    address: {
      label: 'Address',
      description:
        "The affiliate's postal address. Country may be a two- or three-letter code or an English name; it is sent " +
        'as one of the two-letter codes Refersion accepts, or left out when it cannot be converted.',
      type: 'object',
      additionalProperties: true,
      properties: {
        street: { label: 'Street', type: 'string' },
        city: { label: 'City', type: 'string' },
        state: { label: 'State', type: 'string' },
        postalCode: { label: 'Postal Code', type: 'string' },
        country: { label: 'Country', type: 'string' }
      },
      // The whole traits.address object: `postal_code` (snake_case) is read as well as `postalCode`.
      default: { '@path': '$.traits.address' }
    },
    company: {
      label: 'Company',
      description: "The affiliate's company name.",
      type: 'string',
      default: fallback('$.traits.company.name', '$.traits.company')
    },
    phone: {
      label: 'Phone',
      description: "The affiliate's phone number.",
      type: 'string',
      default: { '@path': '$.traits.phone' }
    },
    password: {
      label: 'Password',
      description:
        "Password for the affiliate's Refersion login: 9–72 characters with an upper-case letter, a lower-case letter, " +
        'a digit and a symbol, no character more than 3 times in a row, not the email. Leave empty to generate a ' +
        'strong random password for each new affiliate (they can reset it from the Refersion login page). Used only ' +
        'when the affiliate is created.',
      type: 'password'
    },
    status: {
      label: 'Status',
      description: 'Status of a new affiliate: PENDING (awaiting your approval) or ACTIVE. Not changed on updates.',
      type: 'string',
      choices: [
        { label: 'Pending', value: 'PENDING' },
        { label: 'Active', value: 'ACTIVE' }
      ],
      default: 'PENDING'
    },
    offer: {
      label: 'Offer ID',
      description:
        'The numeric Refersion offer ID to assign (digits only; anything else is rejected before any request). Sent ' +
        "when the affiliate is created and on updates. Empty: the account's default offer for a new affiliate, and " +
        'the current offer is kept on updates.',
      type: 'string'
    },
    sendWelcome: {
      label: 'Send Welcome Email',
      description: 'Whether Refersion e-mails a welcome message to a newly created affiliate. Used only on creation.',
      type: 'boolean',
      default: false
    },
    paypalEmail: {
      label: 'PayPal Email',
      description: 'The PayPal address Refersion pays commissions to.',
      type: 'string'
    },
    conversionTriggerCoupon: {
      label: 'Conversion Trigger Coupon',
      description:
        'A coupon code that credits orders to this affiliate. Sent with a new affiliate; on a repeated identify it is ' +
        'added to the existing affiliate as a COUPON conversion trigger (one the affiliate already has counts as done).',
      type: 'string'
    },
    uniqueMerchantId: {
      label: 'Unique Merchant ID',
      description:
        'Your own ID for the affiliate, stored in Refersion. Defaults to the Segment userId. Set only when the ' +
        'affiliate is created (Refersion does not take it on updates). Deletion requests find an affiliate by it only ' +
        "where Refersion's search matches it; otherwise only when the userId is the affiliate's email.",
      type: 'string',
      default: { '@path': '$.userId' }
    },
    updateExisting: {
      label: 'Update Existing Affiliates',
      description:
        'On (default): a repeated identify for an email that already has an affiliate updates its profile and adds ' +
        'a mapped coupon. Off: only new affiliates are created; a repeated identify stops at Refersion\'s "email ' +
        'taken" answer (one request) and succeeds without changing the existing affiliate, and an identify without a ' +
        'name changes nothing either. Turn it off if you only want Segment to create affiliates, so that Segment ' +
        'traits never overwrite what affiliates edit in their Refersion portal, and to spend fewer of the requests ' +
        'your Refersion account may make.',
      type: 'boolean',
      default: true
    },
    ...batchFields
  },
  perform: async (request, { payload, settings }) => {
    const plan = planAffiliate(payload)
    return upsertAffiliate(clientFor(request, settings), plan, { account: cacheAccountOf(settings) })
  },
  performBatch: async (request, { payload, settings }) => {
    return createAffiliatesInBatch(clientFor(request, settings), payload, { account: cacheAccountOf(settings) })
  }
}

export default action
