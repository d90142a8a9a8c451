import { MultiStatusResponse } from '@segment/actions-core'
import { affiliateCache, supersedeTurns } from '../lib/affiliate-cache'
import { AffiliateTarget, resolveAffiliateId } from '../lib/affiliate-lookup'
import { runBounded, setError } from '../lib/batch'
import { AffiliateStatus, MAX_IDS_PER_CALL, RefersionClient } from '../lib/client'
import { AffiliateNotFoundError, FieldValidationError, notChangedError } from '../lib/errors'
import { text } from '../lib/normalise'

export type RemovalStatus = Extract<AffiliateStatus, 'DISABLED' | 'DENIED'>

export function removalStatus(value: unknown): RemovalStatus {
  const status = text(value)?.toUpperCase() ?? 'DISABLED'
  if (status !== 'DISABLED' && status !== 'DENIED') {
    throw new FieldValidationError(`"Status" must be DISABLED or DENIED to remove an affiliate (got "${status}").`, [
      'status'
    ])
  }
  return status
}

/** Drops what the cache holds about a removed affiliate (by email when the event names one, by id once resolved),
 * whether or not the removal then succeeds: a later identify takes the full path. */
export function forgetRemoved(account: string | undefined, target: AffiliateTarget, id?: number): void {
  if (account === undefined) return
  const email = text(target.email)
  if (email !== undefined) {
    affiliateCache.forget(account, email)
    supersedeTurns(account, email)
  }
  if (id !== undefined) affiliateCache.forgetId(account, id)
}

/** Disables (or denies) one affiliate; an id Refersion reports in `ids_not_changed` is a failure. */
export async function removeAffiliate(
  client: RefersionClient,
  target: AffiliateTarget,
  status: RemovalStatus,
  account?: string
) {
  forgetRemoved(account, target)
  const id = await resolveAffiliateId(client, target)
  forgetRemoved(account, target, id)
  const result = await client.changeStatus([id], status)
  if (result.notChanged.includes(id)) throw notChangedError(`change affiliate ${id} to ${status}`)
  return { id, status }
}

/** What a Segment deletion request (`onDelete`) did. */
export type DeletionRequestResult =
  | { outcome: 'disabled'; changed: true; userId: string; id: number; status: 'DISABLED' }
  | { outcome: 'not_found'; changed: false; userId?: string; reason: string }

/**
 * A Segment user-deletion request: disables the affiliate whose `unique_merchant_id` (when Refersion's search
 * returns it) or email equals the userId. A deletion asks that nothing of the user remain, and most users were never
 * affiliates, so "no such affiliate" (or no userId at all) is a success that changed nothing, said so in the result.
 */
export async function removeDeletedUser(
  client: RefersionClient,
  userIdValue: unknown,
  account?: string
): Promise<DeletionRequestResult> {
  const userId = text(userIdValue)
  if (!userId) {
    return { outcome: 'not_found', changed: false, reason: 'The deletion request has no userId: nothing to remove.' }
  }
  try {
    const { id } = await removeAffiliate(client, { userId }, 'DISABLED', account)
    return { outcome: 'disabled', changed: true, userId, id, status: 'DISABLED' }
  } catch (error) {
    if (!(error instanceof AffiliateNotFoundError)) throw error
    return {
      outcome: 'not_found',
      changed: false,
      userId,
      reason:
        `No Refersion affiliate has the email or unique merchant ID "${userId}" (as far as Refersion's search ` +
        'shows): nothing to remove.'
    }
  }
}

interface DeleteInput extends AffiliateTarget {
  status?: string
}

type Resolved = { index: number; id: number; status: RemovalStatus }
type Chunk = { status: RemovalStatus; ids: number[] }

/** Every event's affiliate, resolved concurrently; an invalid or unfound one fails alone. */
async function resolveAll(
  client: RefersionClient,
  payloads: readonly DeleteInput[],
  response: MultiStatusResponse,
  account?: string
): Promise<Resolved[]> {
  const pending: { index: number; status: RemovalStatus; target: AffiliateTarget }[] = []
  payloads.forEach((payload, index) => {
    try {
      pending.push({ index, status: removalStatus(payload.status), target: payload })
      forgetRemoved(account, payload)
    } catch (error) {
      setError(response, index, error)
    }
  })
  const lookups = await runBounded(pending, (item) => resolveAffiliateId(client, item.target))
  const resolved: Resolved[] = []
  pending.forEach((item, k) => {
    const lookup = lookups[k]
    if (lookup.ok) {
      resolved.push({ index: item.index, id: lookup.value, status: item.status })
      forgetRemoved(account, item.target, lookup.value)
    } else setError(response, item.index, lookup.error)
  })
  return resolved
}

/** The distinct ids per status, in `status_change` calls of at most 50. */
function chunksOf(resolved: readonly Resolved[]): Chunk[] {
  const chunks: Chunk[] = []
  for (const status of ['DISABLED', 'DENIED'] as const) {
    const ids = [...new Set(resolved.filter((r) => r.status === status).map((r) => r.id))]
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
      chunks.push({ status, ids: ids.slice(i, i + MAX_IDS_PER_CALL) })
    }
  }
  return chunks
}

/**
 * performBatch for deleteAffiliate: resolves every event's affiliate concurrently, then changes statuses in
 * shared `status_change` calls of at most 50 ids. Not-found, invalid and `ids_not_changed` events fail alone.
 */
export async function removeAffiliatesInBatch(
  client: RefersionClient,
  payloads: readonly DeleteInput[],
  account?: string
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const resolved = await resolveAll(client, payloads, response, account)
  const chunks = chunksOf(resolved)
  const changes = await runBounded(chunks, (chunk) => client.changeStatus(chunk.ids, chunk.status))
  chunks.forEach((chunk, c) => {
    const change = changes[c]
    const ids = new Set(chunk.ids)
    const sent = { ids: chunk.ids, status: chunk.status }
    for (const item of resolved) {
      if (item.status !== chunk.status || !ids.has(item.id)) continue
      if (!change.ok) setError(response, item.index, change.error, sent)
      else if (change.value.notChanged.includes(item.id)) {
        setError(response, item.index, notChangedError(`change affiliate ${item.id} to ${chunk.status}`), sent)
      } else
        response.setSuccessResponseAtIndex(item.index, {
          status: 200,
          sent,
          body: { id: item.id, status: chunk.status }
        })
    }
  })
  return response
}
