import type { InputField } from '@segment/actions-core'
import { affiliateCache } from './affiliate-cache'
import { resolveAffiliateId } from './affiliate-lookup'
import type { RefersionClient } from './client'
import { RefersionApiError } from './errors'
import { numericId, text } from './normalise'
import { Problem, shownValue } from './problems'

/** The statuses Refersion documents for a manual credit: PENDING waits for the merchant's review, APPROVED does not. */
export type CreditStatus = 'PENDING' | 'APPROVED'
export const CREDIT_STATUSES: readonly CreditStatus[] = ['PENDING', 'APPROVED']

/** The affiliate a credit goes to: a Refersion affiliate ID or code, else an exact email. */
export interface CreditTarget {
  affiliateId?: string
  email?: string
}

/** Where the numeric affiliate id came from: mapped as is, a code through `get`, the process's cache, or search. */
export type AffiliateSource = 'mapped' | 'code' | 'cache' | 'search'

/** The fields both credit actions take to name the affiliate (neither is required alone: one of the two is). */
export const creditTargetFields: Record<'affiliateId' | 'email', InputField> = {
  affiliateId: {
    label: 'Affiliate ID',
    description:
      'The Refersion affiliate to credit: its numeric ID (one request per credit) or its affiliate code (looked up ' +
      'first). When set, Email is not used. Map it from the event, e.g. a trait or property holding the code.',
    type: 'string'
  },
  email: {
    label: 'Affiliate Email',
    description:
      'Used when Affiliate ID is empty: the affiliate whose email is exactly this (any case); a partial match is ' +
      'never credited. No default: the event must say which affiliate earns the credit.',
    type: 'string'
  }
}

/** The default note: the event's name and messageId, so a credit in Refersion can be traced back to its event. */
export const NOTES_DEFAULT = { '@template': 'Segment: {{event}} (messageId {{messageId}})' }

/** The mapped affiliate, checked: an ID/code or an email must be there. */
export function creditTargetOf(payload: CreditTarget, problems: Problem[]): CreditTarget {
  const affiliateId = text(payload.affiliateId)
  if (affiliateId) return { affiliateId }
  const email = text(payload.email)
  if (email) return { email }
  problems.push({
    field: ['affiliateId', 'email'],
    message:
      'map "Affiliate ID" (affiliateId: a Refersion affiliate ID or code) or "Affiliate Email" (email): both are ' +
      'empty, so no affiliate can be credited'
  })
  return {}
}

/** A mapped credit status (any case), or `fallback` when none is mapped; anything else is a problem. */
export function creditStatusOf(value: unknown, problems: Problem[], fallback?: CreditStatus): CreditStatus | undefined {
  const status = text(value)?.toUpperCase()
  if (status === undefined) return fallback
  if ((CREDIT_STATUSES as readonly string[]).includes(status)) return status as CreditStatus
  problems.push({
    field: 'status',
    message: `"Status" (status) must be PENDING or APPROVED (got ${shownValue(value)})`
  })
  return fallback
}

/** Refersion's 422 for an affiliate id it does not know: "Invalid affiliate ID (error 2)." */
const INVALID_AFFILIATE = /invalid affiliate id/i

function isUnknownAffiliate(error: unknown): boolean {
  return (
    error instanceof RefersionApiError &&
    error.refersionStatus === 422 &&
    error.messages.some((m) => INVALID_AFFILIATE.test(m))
  )
}

/** The numeric id of the affiliate a credit names, and where it came from. */
export async function creditAffiliateId(
  client: RefersionClient,
  target: CreditTarget,
  account: string | undefined
): Promise<{ id: number; source: AffiliateSource }> {
  const affiliateId = text(target.affiliateId)
  if (affiliateId) {
    const id = await resolveAffiliateId(client, { affiliateId })
    return { id, source: numericId(affiliateId) !== undefined ? 'mapped' : 'code' }
  }
  const email = text(target.email) as string
  const cached = account !== undefined ? affiliateCache.get(account, email) : undefined
  if (cached) return { id: cached.id, source: 'cache' }
  const id = await resolveAffiliateId(client, { email })
  if (account !== undefined) affiliateCache.rememberId(account, email, id)
  return { id, source: 'search' }
}

/**
 * Sends a credit to the affiliate the event names. When the id came from the cache and Refersion answers that it
 * does not know it (a 422, so nothing was credited), the entry is dropped and the affiliate looked up afresh, once.
 */
export async function creditAffiliate<R>(
  client: RefersionClient,
  target: CreditTarget,
  account: string | undefined,
  send: (id: number, source: AffiliateSource) => Promise<R>
): Promise<R> {
  const first = await creditAffiliateId(client, target, account)
  try {
    return await send(first.id, first.source)
  } catch (error) {
    if (first.source !== 'cache' || !isUnknownAffiliate(error) || account === undefined) throw error
    affiliateCache.forget(account, target.email)
    const fresh = await creditAffiliateId(client, target, account)
    return send(fresh.id, fresh.source)
  }
}
