import { defaultValues, InvalidAuthenticationError } from '@segment/actions-core'
import type { DestinationDefinition } from '@segment/actions-core'
import addConversionTrigger from './addConversionTrigger'
import cancelOrder from './cancelOrder'
import createAffiliate from './createAffiliate'
import creditCommission from './creditCommission'
import creditOrder from './creditOrder'
import deleteAffiliate from './deleteAffiliate'
import { removeDeletedUser } from './deleteAffiliate/remove'
import { cacheAccountOf } from './lib/affiliate-cache'
import { parseApiKey } from './lib/auth'
import { clientFor } from './lib/client'
import trackOrder from './trackOrder'
import type { Settings } from './generated-types'

const destination: DestinationDefinition<Settings> = {
  name: 'Refersion (Actions)',
  slug: 'actions-refersion',
  mode: 'cloud',
  description:
    'Create Refersion affiliates from Segment identify calls, keep them up to date on repeated identifies, and ' +
    'disable them on deletion requests; credit affiliates for orders from Order Completed events, reverse ' +
    'commissions on Order Refunded / Order Cancelled, add coupon, email or SKU conversion triggers, and credit ' +
    'commissions for leads, bonuses and clawbacks, or orders attributed later.',
  authentication: {
    scheme: 'custom',
    fields: {
      apiKey: {
        label: 'API Key',
        description:
          'Your Refersion public key and secret key joined by a dot: publickey.secretkey. Find both in the ' +
          'Refersion dashboard under Account > Settings > Refersion API.',
        type: 'password',
        required: true
      }
    },
    testAuthentication: async (request, { settings }) => {
      try {
        await clientFor(request, settings).listAffiliates(1, 1)
      } catch (error) {
        if (error instanceof InvalidAuthenticationError) {
          throw new InvalidAuthenticationError(
            'Refersion rejected this key pair. Copy the public and secret keys again from Account > Settings > ' +
              'Refersion API and enter them as publickey.secretkey.'
          )
        }
        throw error
      }
      return true
    }
  },
  extendRequest: ({ settings }) => {
    const { publicKey, secretKey } = parseApiKey(settings?.apiKey)
    return {
      headers: {
        'Refersion-Public-Key': publicKey,
        'Refersion-Secret-Key': secretKey,
        'Content-Type': 'application/json'
      }
    }
  },
  presets: [
    {
      name: 'Create Affiliate',
      subscribe: 'type = "identify"',
      partnerAction: 'createAffiliate',
      mapping: defaultValues(createAffiliate.fields),
      type: 'automatic'
    },
    {
      name: 'Track Order',
      subscribe: trackOrder.defaultSubscription as string,
      partnerAction: 'trackOrder',
      mapping: defaultValues(trackOrder.fields),
      type: 'automatic'
    },
    {
      name: 'Cancel Order',
      subscribe: cancelOrder.defaultSubscription as string,
      partnerAction: 'cancelOrder',
      mapping: defaultValues(cancelOrder.fields),
      type: 'automatic'
    }
    // Segment deletion requests reach `onDelete` below; a second automatic subscription would disable twice.
  ],
  // Segment user-deletion requests: the runtime passes only { userId, anonymousId }. No affiliate found (or no
  // userId) is a success that changed nothing: `{ outcome: 'not_found', changed: false, … }`.
  onDelete: async (request, { settings, payload }) => {
    return removeDeletedUser(clientFor(request, settings), payload?.userId, cacheAccountOf(settings))
  },
  actions: {
    createAffiliate,
    deleteAffiliate,
    trackOrder,
    cancelOrder,
    addConversionTrigger,
    creditCommission,
    creditOrder
  }
}

export default destination
