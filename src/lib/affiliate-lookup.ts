import type { RefersionClient } from './client'
import { AffiliateNotFoundError, FieldValidationError } from './errors'
import { numericId, sameEmail, text } from './normalise'

/** How an event names the affiliate to remove. */
export interface AffiliateTarget {
  affiliateId?: string
  email?: string
  userId?: string
}

/**
 * Finds the numeric id of the affiliate an event names: `affiliateId` (numeric as is, a code through
 * `get`), else the search result whose email equals `email` exactly; with only a `userId`, the result whose
 * `unique_merchant_id` equals it (set on create) or whose email equals it. Anything else is "not found".
 */
export async function resolveAffiliateId(client: RefersionClient, target: AffiliateTarget): Promise<number> {
  const affiliateId = text(target.affiliateId)
  const email = text(target.email)
  const userId = text(target.userId)
  if (affiliateId) {
    const id = numericId(affiliateId)
    if (id !== undefined) return id
    return client.numericIdOf({ id: affiliateId, affiliate_code: affiliateId })
  }
  if (email) {
    const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
    if (!record) {
      throw new AffiliateNotFoundError(
        `Refersion affiliate not found: no affiliate has exactly the email ${email} (nothing was changed)`
      )
    }
    return client.numericIdOf(record)
  }
  if (userId) {
    const record = await client.findAffiliate(
      userId,
      (r) => text(r.unique_merchant_id) === userId || sameEmail(r.email, userId)
    )
    if (!record) {
      throw new AffiliateNotFoundError(
        `Refersion affiliate not found: no affiliate has the unique merchant ID or email "${userId}" (nothing was changed)`
      )
    }
    return client.numericIdOf(record)
  }
  throw new FieldValidationError(
    'To remove an affiliate, map "Affiliate ID" (a Refersion ID or code), "Email" (traits.email) or "User ID" (userId).',
    ['affiliateId', 'email', 'userId']
  )
}
