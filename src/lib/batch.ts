import {
  ErrorCodes,
  getErrorCodeFromHttpStatus,
  InvalidAuthenticationError,
  MultiStatusResponse,
  PayloadValidationError
} from '@segment/actions-core'
import type { InputField, JSONLikeObject } from '@segment/actions-core'
import {
  AffiliateInput,
  AffiliatePlan,
  AffiliateTarget,
  planAffiliate,
  removalStatus,
  RemovalStatus,
  resolveAffiliateId,
  upsertAffiliate
} from './affiliates'
import { MAX_IDS_PER_CALL, RefersionClient } from './client'
import { isRetryable, notChangedError, RefersionApiError, RefersionRetryableError, statusOf } from './errors'

/** A batch of this many deletes costs one status change (Refersion takes at most that many ids per call). */
export const DEFAULT_BATCH_SIZE = MAX_IDS_PER_CALL
/** Refersion has no bulk create, so a batch larger than this only delays the first events' results. */
export const MAX_BATCH_SIZE = 100
/** Requests in flight at once per batch: enough to hide latency, few enough not to hammer Refersion. */
export const BATCH_CONCURRENCY = 20
/** After a 429, new work waits for Retry-After (default and cap below)… */
export const DEFAULT_RETRY_AFTER_MS = 1_000
export const MAX_RETRY_AFTER_MS = 5_000
/** …but the batch stays paused at most this long in all (wall-clock time, however many workers wait); what is
 * left is then handed back to Segment to retry. */
export const MAX_BATCH_BACKOFF_MS = 10_000

export const batchFields: Record<'enable_batching' | 'batch_size', InputField> = {
  enable_batching: {
    label: 'Use Batching',
    description:
      'Send events in batches: each event still gets its own result, and requests run concurrently. Recommended.',
    type: 'boolean',
    default: true
  },
  batch_size: {
    label: 'Batch Size',
    description: `Maximum events per batch (up to ${MAX_BATCH_SIZE}). The default, ${DEFAULT_BATCH_SIZE}, matches the ${MAX_IDS_PER_CALL} ids Refersion accepts per status change.`,
    type: 'number',
    unsafe_hidden: true,
    required: false,
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    default: DEFAULT_BATCH_SIZE
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

/**
 * Runs `work` for every item with at most `concurrency` in flight. A 429 from Refersion pauses the start of
 * new work for its Retry-After. The pause is the batch's, measured once in wall-clock time: workers waiting
 * through the same pause do not add it up. Once the batch has been paused MAX_BATCH_BACKOFF_MS in all, or after
 * a 401, the items not yet started fail without being sent (retryable for 429, final for 401).
 */
export async function runBounded<T, R>(
  items: readonly T[],
  work: (item: T, index: number, report: (error: unknown) => void) => Promise<R>,
  concurrency = BATCH_CONCURRENCY
): Promise<Outcome<R>[]> {
  const results: Outcome<R>[] = new Array(items.length)
  let next = 0
  let pausedUntil = 0
  let pausedTotal = 0
  let stop: (() => unknown) | undefined

  // Work that handles its own errors (a chain of events) passes them here so a 401 or 429 still steers the batch.
  const report = (error: unknown) => {
    if (error instanceof InvalidAuthenticationError) {
      stop = () => new InvalidAuthenticationError(`Not sent: ${error.message}`)
    } else if (error instanceof RefersionRetryableError && error.status === 429) {
      const now = Date.now()
      const until = now + Math.min(error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS)
      // Only the part of this pause that does not overlap the current one lengthens the batch's pause.
      if (until > pausedUntil) {
        pausedTotal += until - Math.max(pausedUntil, now)
        pausedUntil = until
      }
      if (pausedTotal > MAX_BATCH_BACKOFF_MS && !stop) {
        stop = () =>
          new RefersionRetryableError(
            'Not sent: Refersion is rate limiting this account; Segment will retry this event later',
            429
          )
      }
    }
  }

  const worker = async () => {
    for (;;) {
      const index = next++
      if (index >= items.length) return
      const delay = pausedUntil - Date.now()
      if (delay > 0 && !stop) await sleep(delay)
      if (stop) {
        results[index] = { ok: false, error: stop() }
        continue
      }
      try {
        results[index] = { ok: true, value: await work(items[index], index, report) }
      } catch (error) {
        results[index] = { ok: false, error }
        report(error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}

function errorType(error: unknown, status: number): keyof typeof ErrorCodes {
  if (error instanceof PayloadValidationError) return 'PAYLOAD_VALIDATION_FAILED'
  if (error instanceof InvalidAuthenticationError) return 'INVALID_AUTHENTICATION'
  return getErrorCodeFromHttpStatus(status)
}

/** Records `error` as the result of event `index`: its status, Segment error type, message and Refersion's words. */
export function setError(response: MultiStatusResponse, index: number, error: unknown, sent?: JSONLikeObject) {
  const status = statusOf(error)
  response.setErrorResponseAtIndex(index, {
    status,
    errortype: errorType(error, status),
    errormessage: error instanceof Error ? error.message : String(error),
    ...(sent ? { sent } : {}),
    ...(error instanceof RefersionApiError ? { body: { messages: error.messages } } : {})
  })
}

/** What an event asks Refersion for, reported with its result: the new-affiliate body without the password, or
 * for a partial identify (which can only update) the email and the edit fields. */
function shown(plan: AffiliatePlan): JSONLikeObject {
  if (!plan.create) return Object.assign({ email: plan.email }, plan.edit)
  return plan.create.password ? Object.assign({}, plan.create, { password: '<redacted>' }) : plan.create
}

/**
 * performBatch for createAffiliate: each event is validated on its own (a bad one sends nothing and fails
 * alone), then upserted concurrently, by the same rules as perform (partial identifies update only, coupons on
 * existing affiliates become triggers). Events for the same email run one after another, in order, so the
 * last identify wins and a batch never races itself into a duplicate.
 */
export async function createAffiliatesInBatch(
  client: RefersionClient,
  payloads: readonly AffiliateInput[]
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const groups = new Map<string, { index: number; plan: AffiliatePlan }[]>()
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
  const chains = [...groups.values()]
  const outcomes = await runBounded(chains, async (chain, _index, report) => {
    const results: Outcome<unknown>[] = []
    for (const { plan } of chain) {
      try {
        results.push({ ok: true, value: await upsertAffiliate(client, plan) })
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
  })
  chains.forEach((chain, c) => {
    const outcome = outcomes[c]
    chain.forEach(({ index, plan }, k) => {
      const result = outcome.ok ? outcome.value[k] : outcome
      if (result.ok)
        response.setSuccessResponseAtIndex(index, {
          status: 200,
          sent: shown(plan),
          body: result.value as JSONLikeObject
        })
      else setError(response, index, result.error, shown(plan))
    })
  })
  return response
}

interface DeleteInput extends AffiliateTarget {
  status?: string
}

/**
 * performBatch for deleteAffiliate: resolves every event's affiliate concurrently, then changes statuses in
 * shared `status_change` calls of at most 50 ids. Not-found, invalid and `ids_not_changed` events fail alone.
 */
export async function removeAffiliatesInBatch(
  client: RefersionClient,
  payloads: readonly DeleteInput[]
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const resolved: { index: number; id: number; status: RemovalStatus }[] = []
  const pending: { index: number; status: RemovalStatus; target: AffiliateTarget }[] = []
  payloads.forEach((payload, index) => {
    try {
      pending.push({ index, status: removalStatus(payload.status), target: payload })
    } catch (error) {
      setError(response, index, error)
    }
  })
  const lookups = await runBounded(pending, (item) => resolveAffiliateId(client, item.target))
  pending.forEach((item, k) => {
    const lookup = lookups[k]
    if (lookup.ok) resolved.push({ index: item.index, id: lookup.value, status: item.status })
    else setError(response, item.index, lookup.error)
  })

  const chunks: { status: RemovalStatus; ids: number[] }[] = []
  for (const status of ['DISABLED', 'DENIED'] as const) {
    const ids = [...new Set(resolved.filter((r) => r.status === status).map((r) => r.id))]
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
      chunks.push({ status, ids: ids.slice(i, i + MAX_IDS_PER_CALL) })
    }
  }
  const changes = await runBounded(chunks, (chunk) => client.changeStatus(chunk.ids, chunk.status))
  chunks.forEach((chunk, c) => {
    const change = changes[c]
    const ids = new Set(chunk.ids)
    for (const item of resolved) {
      if (item.status !== chunk.status || !ids.has(item.id)) continue
      const sent = { ids: chunk.ids, status: chunk.status }
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
