import {
  ErrorCodes,
  getErrorCodeFromHttpStatus,
  InvalidAuthenticationError,
  MultiStatusResponse,
  PayloadValidationError
} from '@segment/actions-core'
import type { ActionDefinition, InputField, JSONLikeObject } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { clientFor, MAX_IDS_PER_CALL } from './client'
import type { RefersionClient } from './client'
import { RefersionApiError, RefersionRetryableError, statusOf } from './errors'

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

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

/**
 * A batch's brake: a 429 pauses the start of new work for its Retry-After, measured once in wall-clock time
 * (workers waiting through the same pause do not add it up); past MAX_BATCH_BACKOFF_MS of pause in all, or after a
 * 401, it stops the batch, and `stopped()` is the error every item not yet started fails with.
 */
class BatchBrake {
  pausedUntil = 0
  private pausedTotal = 0
  private stop: (() => unknown) | undefined

  /** Work that handles its own errors (a chain of events) passes them here so a 401 or 429 still steers the batch. */
  readonly report = (error: unknown): void => {
    if (error instanceof InvalidAuthenticationError) {
      this.stop = () => new InvalidAuthenticationError(`Not sent: ${error.message}`)
    } else if (error instanceof RefersionRetryableError && error.status === 429) {
      const now = Date.now()
      const until = now + Math.min(error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS)
      // Only the part of this pause that does not overlap the current one lengthens the batch's pause.
      if (until > this.pausedUntil) {
        this.pausedTotal += until - Math.max(this.pausedUntil, now)
        this.pausedUntil = until
      }
      if (this.pausedTotal > MAX_BATCH_BACKOFF_MS && !this.stop) {
        this.stop = () =>
          new RefersionRetryableError(
            'Not sent: Refersion is rate limiting this account; Segment will retry this event later',
            429
          )
      }
    }
  }

  /** The error an item not yet started fails with, once the batch is stopped. */
  stopped(): unknown {
    return this.stop?.()
  }

  get isStopped(): boolean {
    return this.stop !== undefined
  }
}

/**
 * Runs `work` for every item with at most `concurrency` in flight, braked by 429s and stopped by a 401 (see
 * BatchBrake): the items not yet started then fail without being sent (retryable for 429, final for 401).
 */
export async function runBounded<T, R>(
  items: readonly T[],
  work: (item: T, index: number, report: (error: unknown) => void) => Promise<R>,
  concurrency = BATCH_CONCURRENCY
): Promise<Outcome<R>[]> {
  const results: Outcome<R>[] = new Array(items.length)
  const brake = new BatchBrake()
  let next = 0
  const worker = async () => {
    for (;;) {
      const index = next++
      if (index >= items.length) return
      const delay = brake.pausedUntil - Date.now()
      if (delay > 0 && !brake.isStopped) await sleep(delay)
      if (brake.isStopped) {
        results[index] = { ok: false, error: brake.stopped() }
        continue
      }
      try {
        results[index] = { ok: true, value: await work(items[index], index, brake.report) }
      } catch (error) {
        results[index] = { ok: false, error }
        brake.report(error)
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

/**
 * performBatch for the conversion actions: every event is validated on its own (a bad one sends nothing and
 * fails alone), the rest are sent concurrently through `runBounded` (a 429 pauses new work, a 401 stops it), and
 * each event gets its own success or error; a result's `sent` is the body (or request) built from the event.
 */
export async function sendEachInBatch<P, B, R>(
  payloads: readonly P[],
  build: (payload: P) => B,
  send: (body: B) => Promise<R>
): Promise<MultiStatusResponse> {
  const response = new MultiStatusResponse()
  const valid: { index: number; body: B }[] = []
  payloads.forEach((payload, index) => {
    try {
      valid.push({ index, body: build(payload) })
    } catch (error) {
      setError(response, index, error)
    }
  })
  const outcomes = await runBounded(valid, (item) => send(item.body))
  valid.forEach(({ index, body }, k) => {
    const outcome = outcomes[k]
    const sent = body as unknown as JSONLikeObject
    if (outcome.ok) {
      response.setSuccessResponseAtIndex(index, {
        status: 200,
        sent,
        body: outcome.value as unknown as JSONLikeObject
      })
    } else setError(response, index, outcome.error, sent)
  })
  return response
}

/** Use Batching and Batch Size for an action that sends one request per event (`what`: "orders", "refunds"…). */
export function oneRequestBatchFields(
  what: string,
  each: string
): Record<'enable_batching' | 'batch_size', InputField> {
  return {
    enable_batching: batchFields.enable_batching,
    batch_size: {
      ...batchFields.batch_size,
      description: `Maximum ${what} per batch (up to ${MAX_BATCH_SIZE}). ${each}`
    }
  }
}

/**
 * `perform` and `performBatch` of an action that builds one request body from each event (validating it, so a
 * bad event sends nothing) and sends it: one event alone, or a batch with one result per event.
 */
export function sendingEachEvent<P, B, R>(
  build: (payload: P) => B,
  send: (client: RefersionClient, body: B) => Promise<R>
): Pick<ActionDefinition<Settings, P>, 'perform' | 'performBatch'> {
  return {
    perform: async (request, { payload, settings }) => send(clientFor(request, settings), build(payload)),
    performBatch: async (request, { payload, settings }) => {
      const client = clientFor(request, settings)
      return sendEachInBatch(payload, build, (body) => send(client, body))
    }
  }
}
