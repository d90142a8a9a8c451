import type { RefersionClient, TriggerType } from '../lib/client'
import { AffiliateNotFoundError } from '../lib/errors'
import { numericId, sameEmail, text } from '../lib/normalise'
import { fail, Problem, shownValue } from '../lib/problems'
import type { Payload } from './generated-types'

export const TRIGGER_TYPES: readonly TriggerType[] = ['COUPON', 'EMAIL', 'SKU']

export interface TriggerRequest {
  affiliateCode?: string
  email?: string
  type: TriggerType
  trigger: string
}

export function buildTriggerRequest(payload: Payload): TriggerRequest {
  const problems: Problem[] = []
  const affiliateCode = text(payload.affiliateCode)
  const email = text(payload.email)
  if (!affiliateCode && !email) {
    problems.push({
      field: ['affiliateCode', 'email'],
      message: 'map "Affiliate Code" (affiliateCode) or "Email" (email): both are empty, so no affiliate can be found'
    })
  }
  const type = (text(payload.type)?.toUpperCase() ?? 'COUPON') as TriggerType
  if (!TRIGGER_TYPES.includes(type)) {
    problems.push({
      field: 'type',
      message: `"Type" (type) must be COUPON, EMAIL or SKU (got ${shownValue(payload.type)})`
    })
  }
  const trigger = text(payload.trigger)
  if (!trigger) problems.push({ field: 'trigger', message: '"Trigger" (trigger) is empty' })
  if (problems.length) fail('Add Conversion Trigger', problems)
  return { ...(affiliateCode ? { affiliateCode } : { email }), type, trigger: trigger as string }
}

export interface TriggerAdded {
  /** `added`: Refersion created it; `exists`: Refersion already had it, which counts as done. */
  outcome: 'added' | 'exists'
  affiliate_code: string
  type: TriggerType
  trigger: string
  trigger_id?: number
}

/** The affiliate code for a trigger: the mapped code, else the code of the affiliate with exactly this email. */
async function affiliateCodeFor(client: RefersionClient, request: TriggerRequest): Promise<string> {
  if (request.affiliateCode) return request.affiliateCode
  const email = request.email as string
  const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
  const code = record ? text(record.affiliate_code) ?? text(record.id) : undefined
  if (!code) {
    throw new AffiliateNotFoundError(
      `Refersion affiliate not found: no affiliate has exactly the email ${email} (no trigger was added)`
    )
  }
  return code
}

export async function addConversionTrigger(client: RefersionClient, request: TriggerRequest): Promise<TriggerAdded> {
  const code = await affiliateCodeFor(client, request)
  const result = await client.addTrigger(code, request.type, request.trigger)
  const triggerId = numericId(result.triggerId)
  return {
    outcome: result.outcome,
    affiliate_code: code,
    type: request.type,
    trigger: request.trigger,
    ...(triggerId !== undefined ? { trigger_id: triggerId } : {})
  }
}
