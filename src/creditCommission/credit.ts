import { IntegrationError, InvalidAuthenticationError } from '@segment/actions-core'
import type { Answer, RefersionClient } from '../lib/client'
import {
  AffiliateSource,
  creditAffiliate,
  CreditStatus,
  creditStatusOf,
  CreditTarget,
  creditTargetOf
} from '../lib/credit'
import { errorFromNetwork } from '../lib/errors'
import { numericId, text } from '../lib/normalise'
import { fail, numberOf, Problem, shownValue } from '../lib/problems'
import { connectionProbe, provesNotSent } from './once'
import type { Payload } from './generated-types'

export const MANUAL_CREDIT_PATH = '/conversion/manual_credit'

/** The `/conversion/manual_credit` body without the affiliate id, which is found when the credit is sent. */
export interface CommissionCredit {
  commission: number
  status: CreditStatus
  currency?: string
  notes?: string
}

/** A validated Credit Commission event: who is credited and what. */
export interface CreditRequest {
  target: CreditTarget
  credit: CommissionCredit
}

function commissionOf(value: unknown, problems: Problem[]): number {
  const amount = numberOf(value)
  if (!Number.isFinite(amount) || amount === 0) {
    problems.push({
      field: 'commission',
      message:
        `"Commission" (commission) must be a non-zero amount such as 25 or -25 for a clawback ` +
        `(got ${shownValue(value)})`
    })
  }
  return amount
}

function currencyOf(value: unknown, problems: Problem[]): string | undefined {
  const currency = text(value)?.toUpperCase()
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    problems.push({
      field: 'currency',
      message: `"Currency" (currency) must be a three-letter code such as USD, or empty (got ${shownValue(value)})`
    })
  }
  return currency
}

/** Validates a Credit Commission event; every problem is named, and nothing is sent for a bad event. */
export function buildCredit(payload: Payload): CreditRequest {
  const problems: Problem[] = []
  const target = creditTargetOf(payload, problems)
  const commission = commissionOf(payload.commission, problems)
  const status = creditStatusOf(payload.status, problems, 'PENDING') as CreditStatus
  const currency = currencyOf(payload.currency, problems)
  if (problems.length) fail('Credit Commission', problems)
  const credit: CommissionCredit = { commission, status }
  if (currency) credit.currency = currency
  const notes = text(payload.notes)
  if (notes) credit.notes = notes
  return { target, credit }
}

export interface CommissionCredited {
  outcome: 'credited'
  affiliate_id: number
  /** How the affiliate id was found: mapped, from its code, from this process's cache, or by email search. */
  affiliate_from: AffiliateSource
  conversion_id?: number
  commission: number
  status: CreditStatus
  currency?: string
  notes?: string
}

/**
 * A failure after which Refersion may have applied the credit (no answer, or a server error that does not say
 * whether it was applied). Final, never retried: `/conversion/manual_credit` has no idempotency key, so a retry
 * could pay the affiliate twice. The message says what to look for in Refersion.
 */
export class CreditMayHaveBeenAppliedError extends IntegrationError {
  constructor(why: string, id: number, credit: CommissionCredit) {
    const amount = `${credit.commission}${credit.currency ? ` ${credit.currency}` : ''}`
    const look = credit.notes
      ? `a manual credit to affiliate ${id} with the note "${credit.notes}"`
      : `a manual credit of ${amount} to affiliate ${id} (no note was mapped)`
    super(
      `The commission may have been credited: ${why}. It was not retried, so it cannot be paid twice. ` +
        `Look in Refersion's conversions for ${look}; credit ${amount} again only if it is not there.`,
      'COMMISSION_MAY_HAVE_BEEN_CREDITED',
      409
    )
    this.retry = false
  }
}

/** Refersion's answers that prove the credit was not applied and may be retried: rate limited, unavailable. */
const RETRYABLE_NOT_APPLIED = new Set([429, 503])

function judgeCredit(client: RefersionClient, answer: Answer, id: number, credit: CommissionCredit) {
  const { status } = answer
  const serverSide = status >= 500 || status === 408 || status === 423
  if (serverSide && !RETRYABLE_NOT_APPLIED.has(status)) {
    throw new CreditMayHaveBeenAppliedError(`Refersion answered ${status} to ${MANUAL_CREDIT_PATH}`, id, credit)
  }
  const { data } = answer
  if (status >= 200 && status < 300 && status !== 204 && (!data || typeof data !== 'object')) {
    // A success without the documented JSON body: Refersion took the request, so it must not be sent again.
    throw new CreditMayHaveBeenAppliedError(`Refersion answered ${status} without a JSON body`, id, credit)
  }
  return client.judge<{ conversion_id?: unknown }>(MANUAL_CREDIT_PATH, answer)
}

/** What became of a request that got no answer, from the transport's own error (its message and code). */
function noAnswer(error: unknown): string {
  const err = (error ?? {}) as { name?: string; message?: string; code?: string; cause?: { code?: string } }
  const code = err.cause?.code ?? err.code
  const detail = `${err.message ?? String(error)}${code ? `, ${code}` : ''}`
  return /timeout/i.test(err.name ?? '') || code === 'ETIMEDOUT'
    ? `Refersion did not answer ${MANUAL_CREDIT_PATH} in time (${detail})`
    : `the connection was cut before Refersion answered ${MANUAL_CREDIT_PATH} (${detail})`
}

/** One `/conversion/manual_credit` request, at most once: see CreditMayHaveBeenAppliedError. */
async function postCredit(client: RefersionClient, id: number, credit: CommissionCredit) {
  const probe = connectionProbe(client.restUrl)
  let answer: Answer
  try {
    answer = await client.exchange(MANUAL_CREDIT_PATH, { id, ...credit }, probe.agent)
  } catch (error) {
    if (error instanceof InvalidAuthenticationError) throw error // a 401: nothing was credited
    const mapped = errorFromNetwork(MANUAL_CREDIT_PATH, error, client.scrub)
    if (mapped && provesNotSent(error, probe.state())) throw mapped // retryable: nothing reached Refersion
    throw new CreditMayHaveBeenAppliedError(client.scrub(noAnswer(error)), id, credit)
  } finally {
    probe.agent.destroy()
  }
  return judgeCredit(client, answer, id, credit)
}

/** Credits the affiliate the event names with the commission (negative: a clawback). */
export async function sendCredit(
  client: RefersionClient,
  request: CreditRequest,
  account: string | undefined
): Promise<CommissionCredited> {
  return creditAffiliate(client, request.target, account, async (id, source) => {
    const data = await postCredit(client, id, request.credit)
    const conversionId = numericId(data.conversion_id)
    return {
      outcome: 'credited',
      affiliate_id: id,
      affiliate_from: source,
      ...(conversionId !== undefined ? { conversion_id: conversionId } : {}),
      ...request.credit
    }
  })
}
