import { InvalidAuthenticationError, MultiStatusResponse } from '@segment/actions-core'
import type { JSONLikeObject } from '@segment/actions-core'
import { Outcome, runBounded, setError } from '../lib/batch'
import type { RefersionClient } from '../lib/client'
import { isRetryable } from '../lib/errors'
import { AffiliateInput, AffiliatePlan, planAffiliate } from './plan'
import { upsertAffiliate, UpsertOptions } from './upsert'

/** What an event asks Refersion for, reported with its result: the new-affiliate body without the password, or
 * for a partial identify (which can only update) the email and the edit fields. */
function shown(plan: AffiliatePlan): JSONLikeObject {
  if (!plan.create) return Object.assign({ email: plan.email }, plan.edit)
  return plan.create.password ? Object.assign({}, plan.create, { password: '<redacted>' }) : plan.create
}

type Chain = { index: number; plan: AffiliatePlan }[]

/** Validates every event on its own (a bad one fails alone, sending nothing); groups the rest by email, in order. */
function chainsByEmail(payloads: readonly AffiliateInput[], response: MultiStatusResponse): Chain[] {
  const groups = new Map<string, Chain>()
  payloads.forEach((payload, index) => {
    try {
      const plan = planAffiliate(payload)
      const key = plan.email.toLowerCase()
      const group = groups.get(key)
      if (group) group.push({ index, plan })
      else groups.set(key, [{ index, plan }])
    } catch (error) {
      setError(response, index, error)
    }
  })
  return [...groups.values()]
}

/** One email's events, one after another, in order; `report` lets a 401 or 429 steer the whole batch. */
async function upsertChain(
  client: RefersionClient,
  chain: Chain,
  options: UpsertOptions,
  report: (error: unknown) => void
): Promise<Outcome<unknown>[]> {
  const results: Outcome<unknown>[] = []
  for (const { plan } of chain) {
    try {
      results.push({ ok: true, value: await upsertAffiliate(client, plan, options) })
    } catch (error) {
      report(error)
      results.push({ ok: false, error })
      // A final failure is this event's alone: the later events for this email still go, in order.
      // Not after a 401, though: the key pair is wrong for every event, so nothing more is sent.
      if (!isRetryable(error) && !(error instanceof InvalidAuthenticationError)) continue
      // A retryable one: later events for this email wait for a retry of this one, keeping their order.
      for (let rest = results.length; rest < chain.length; rest++) results.push({ ok: false, error })
      break
    }
  }
  return results
}

/**
 * performBatch for createAffiliate: each event is validated on its own (a bad one sends nothing and fails
 * alone), then upserted concurrently, by the same rules as perform (partial identifies update only, coupons on
 * existing affiliates become triggers). Events for the same email run one after another, in order, so the
 * last identify wins and a batch never races itself into a duplicate.
 */
export async function createAffiliatesInBatch(
  client: RefersionClient,
  payloads: readonly AffiliateInput[],
  options: UpsertOptions = {}
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const chains = chainsByEmail(payloads, response)
  const outcomes = await runBounded(chains, (chain, _index, report) => upsertChain(client, chain, options, report))
  chains.forEach((chain, c) => {
    const outcome = outcomes[c]
    chain.forEach(({ index, plan }, k) => {
      const result = outcome.ok ? outcome.value[k] : outcome
      if (result.ok) {
        response.setSuccessResponseAtIndex(index, {
          status: 200,
          sent: shown(plan),
          body: result.value as JSONLikeObject
        })
      } else setError(response, index, result.error, shown(plan))
    })
  })
  return response
}
