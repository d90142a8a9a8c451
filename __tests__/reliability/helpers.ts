/**
 * Shared machinery of the reliability suite: the destination driven the way Segment drives it (mapping,
 * validation, perform / performBatch), a Segment-like redelivery loop, and the distinctive key pair whose
 * secret half must never appear in anything the suite sees.
 */
import { defaultValues, Destination } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import definition from '../../src'
import { isRetryable, statusOf } from '../../src/lib/errors'
import type { RunningSandbox } from '../../tools/sandbox'

export const PUBLIC_KEY = 'pub_reliab'
export const SECRET_KEY = 'sec_TOPSECRET_4242'
export const API_KEY = `${PUBLIC_KEY}.${SECRET_KEY}`
export const SETTINGS = { apiKey: API_KEY }

export const destination = new Destination(definition)

export type Slug =
  | 'createAffiliate'
  | 'deleteAffiliate'
  | 'trackOrder'
  | 'cancelOrder'
  | 'addConversionTrigger'
  | 'creditCommission'
  | 'creditOrder'

/** The action's default mappings, with `overrides` on top (what a workspace owner would configure). */
export function mappingOf(slug: Slug, overrides: JSONObject = {}): JSONObject {
  return { ...(defaultValues(definition.actions[slug].fields) as JSONObject), ...overrides }
}

/** Statuses Segment's runtime retries (408, 423, 429, 5xx but 501): the per-event rule for multistatus. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 423 || status === 429 || (status >= 500 && status <= 599 && status !== 501)
}

/** Everything an error or a multistatus entry said, kept for the secret-hygiene checks. */
export class TextSink {
  readonly texts: string[] = []

  add(value: unknown): void {
    if (value === undefined) return
    if (typeof value === 'string') this.texts.push(value)
    else if (value instanceof Error) {
      this.texts.push(`${value.name}: ${value.message}`)
      if (value.stack) this.texts.push(value.stack)
      try {
        this.texts.push(JSON.stringify(value))
      } catch {
        // circular error objects are covered by message and stack
      }
    } else {
      try {
        this.texts.push(JSON.stringify(value))
      } catch {
        this.texts.push(String(value))
      }
    }
  }

  /** The texts that contain `needle`. */
  leaks(needle: string): string[] {
    return this.texts.filter((text) => text.includes(needle))
  }
}

export type Final =
  | { kind: 'success'; attempts: number }
  | { kind: 'failed'; attempts: number; status: number; message: string; retryable: false }
  | { kind: 'exhausted'; attempts: number; status: number; message: string }

export const MAX_ATTEMPTS = 15

/** True for an error a user can read: an Error with a non-empty message that is not a JS internal. */
export function isTypedError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (typeof error.message !== 'string' || error.message.trim() === '') return false
  const name = error.name
  return !['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'Error'].includes(name)
}

/**
 * Segment-like delivery of one event through `execute`: redelivered while the thrown error is retryable, up
 * to MAX_ATTEMPTS, without sleeping (the sandbox's Retry-After is 0 in these tests).
 */
export async function deliverOne(
  slug: Slug,
  event: SegmentEvent | JSONObject,
  mapping: JSONObject,
  sink: TextSink,
  settings: JSONObject = SETTINGS
): Promise<Final> {
  const action = destination.actions[slug]
  for (let attempt = 1; ; attempt++) {
    try {
      const results = await action.execute({
        data: event as JSONObject,
        settings: settings as { apiKey: string },
        mapping,
        auth: undefined
      })
      sink.add(results)
      return { kind: 'success', attempts: attempt }
    } catch (error) {
      sink.add(error)
      const status = statusOf(error)
      const message = error instanceof Error ? error.message : String(error)
      if (!isTypedError(error)) throw new Error(`untyped error from ${slug}: ${String(error)}`, { cause: error })
      if (!isRetryable(error)) return { kind: 'failed', attempts: attempt, status, message, retryable: false }
      if (attempt >= MAX_ATTEMPTS) return { kind: 'exhausted', attempts: attempt, status, message }
    }
  }
}

/** `onDelete` (a Segment user-deletion request) delivered the same way. */
export async function deliverDeletion(userId: string, sink: TextSink): Promise<Final> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await destination.onDelete!({ type: 'delete', userId } as SegmentEvent, SETTINGS)
      sink.add(result)
      return { kind: 'success', attempts: attempt }
    } catch (error) {
      sink.add(error)
      const status = statusOf(error)
      const message = error instanceof Error ? error.message : String(error)
      if (!isTypedError(error)) throw new Error(`untyped error from onDelete: ${String(error)}`, { cause: error })
      if (!isRetryable(error)) return { kind: 'failed', attempts: attempt, status, message, retryable: false }
      if (attempt >= MAX_ATTEMPTS) return { kind: 'exhausted', attempts: attempt, status, message }
    }
  }
}

export interface BatchItem {
  /** Events with the same group are kept in one batch, in order (one person's identifies). */
  group: string
  event: SegmentEvent | JSONObject
}

/**
 * Segment-like delivery through `executeBatch`: every round sends the events still pending, in their original
 * order, in batches of at most `batchSize` that never split a group; an event whose multistatus entry is
 * retryable is pending again, up to MAX_ATTEMPTS. `between` runs after every round (e.g. to let the sandbox
 * finish requests whose client timed out, as Segment's retry backoff would).
 */
export async function deliverBatches(
  slug: Slug,
  items: readonly BatchItem[],
  mapping: JSONObject,
  sink: TextSink,
  options: { batchSize?: number; concurrency?: number; between?: () => Promise<void> } = {}
): Promise<Final[]> {
  const batchSize = options.batchSize ?? 50
  const action = destination.actions[slug]
  const finals: (Final | undefined)[] = new Array(items.length).fill(undefined)
  const attempts: number[] = new Array(items.length).fill(0)
  for (let round = 1; round <= MAX_ATTEMPTS; round++) {
    const pending = items.map((_, i) => i).filter((i) => finals[i] === undefined)
    if (!pending.length) break
    const batches: number[][] = []
    let current: number[] = []
    for (let k = 0; k < pending.length; ) {
      let end = k
      while (end < pending.length && items[pending[end]].group === items[pending[k]].group) end++
      const group = pending.slice(k, end)
      if (current.length + group.length > batchSize && current.length) {
        batches.push(current)
        current = []
      }
      current.push(...group)
      k = end
    }
    if (current.length) batches.push(current)
    // Batches of one round hold different people (a group is never split), so they may travel in parallel.
    await pool(batches, options.concurrency ?? 1, async (batch) => {
      for (const i of batch) attempts[i]++
      let statuses: { status: number; errormessage?: string }[]
      try {
        const data = batch.map((i) => items[i].event as JSONObject)
        const results = await action.executeBatch({ data, settings: SETTINGS, mapping, auth: undefined })
        sink.add(results)
        statuses = results.map((r) => r as { status: number; errormessage?: string })
      } catch (error) {
        // The whole batch failed: Segment retries all of it when the error is retryable.
        sink.add(error)
        if (!isTypedError(error))
          throw new Error(`untyped error from ${slug} batch: ${String(error)}`, {
            cause: error
          })
        const status = statusOf(error)
        const message = (error as Error).message
        if (!isRetryable(error)) {
          for (const i of batch)
            finals[i] = { kind: 'failed', attempts: attempts[i], status, message, retryable: false }
          return
        }
        statuses = batch.map(() => ({ status: retryableStatus(status) ? status : 503, errormessage: message }))
      }
      if (statuses.length !== batch.length) {
        throw new Error(`executeBatch answered ${statuses.length} statuses for ${batch.length} events`)
      }
      batch.forEach((i, k) => {
        const entry = statuses[k]
        if (!entry || typeof entry.status !== 'number') throw new Error(`no multistatus entry for event ${i}`)
        if (entry.status >= 200 && entry.status < 300) finals[i] = { kind: 'success', attempts: attempts[i] }
        else if (!retryableStatus(entry.status)) {
          finals[i] = {
            kind: 'failed',
            attempts: attempts[i],
            status: entry.status,
            message: entry.errormessage ?? '',
            retryable: false
          }
        } else if (attempts[i] >= MAX_ATTEMPTS) {
          finals[i] = {
            kind: 'exhausted',
            attempts: attempts[i],
            status: entry.status,
            message: entry.errormessage ?? ''
          }
        }
      })
    })
    if (options.between) await options.between()
  }
  return finals.map((f, i) => f ?? { kind: 'exhausted', attempts: attempts[i], status: 0, message: 'never final' })
}

/** Runs `work` over `items` with at most `concurrency` in flight, keeping result order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>) {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= items.length) return
      out[i] = await work(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return out
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Waits until the sandbox has answered (or dropped) every request it received: requests whose client gave up
 * on a latency spike are still applied later, and a phase must not start before they are.
 */
export async function drained(sandbox: RunningSandbox, limitMs = 10_000): Promise<void> {
  const started = Date.now()
  for (;;) {
    const s = sandbox.stats()
    const answered = Object.values(s.byStatus).reduce((a, b) => a + b, 0)
    const dropped = (s.faultsInjected.reset ?? 0) + (s.faultsInjected.applyThenDrop ?? 0)
    if (answered + dropped >= s.total) return
    if (Date.now() - started > limitMs) throw new Error(`sandbox still busy after ${limitMs} ms`)
    await sleep(10)
  }
}

/** Adds `b`'s counts into `a`. */
export function addCounts(a: Record<string, number>, b: Record<string, number>): void {
  for (const [key, value] of Object.entries(b)) a[key] = (a[key] ?? 0) + value
}

/**
 * Points the destination at `sandbox` (REST API and order-tracking host) with a request timeout for this file,
 * restoring the environment after.
 */
export function useSandboxEnv(sandbox: () => RunningSandbox | undefined, timeoutMs: number): void {
  const names = ['REFERSION_BASE_URL', 'REFERSION_TRACKING_URL', 'REFERSION_TIMEOUT_MS'] as const
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]))
  beforeAll(() => {
    process.env.REFERSION_BASE_URL = sandbox()!.apiBaseUrl
    process.env.REFERSION_TRACKING_URL = sandbox()!.trackingUrl
    process.env.REFERSION_TIMEOUT_MS = String(timeoutMs)
  })
  afterAll(async () => {
    await sandbox()?.close()
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name]
      else process.env[name] = saved[name]
    }
  })
}
