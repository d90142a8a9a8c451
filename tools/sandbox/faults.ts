/**
 * Fault injection for the sandbox: the knobs, their validation, and the per-public-key rate limiter.
 */

export type InjectedStatus = 429 | 500 | 503
export const INJECTED_STATUSES: readonly InjectedStatus[] = [429, 500, 503]

export interface SandboxFaults {
  /** Added delay per API request, in ms (default 0). */
  latencyMs: number
  /** Extra random delay of 0..latencyJitterMs ms (default 0). */
  latencyJitterMs: number
  /** Probability 0..1 that a request gets a latency spike of `spikeMs` on top (default 0). */
  spikeRate: number
  /** Length of a latency spike in ms (default 12000: longer than a typical client timeout). */
  spikeMs: number
  /** Probability per status that a request is answered with it BEFORE being applied (default none). */
  errorRates: { 429?: number; 500?: number; 503?: number }
  /** Probability that the connection is destroyed before the request is applied (default 0). */
  resetRate: number
  /** Probability that the request is applied, then the connection destroyed without a response (default 0). */
  applyThenDropRate: number
  /** Probability that the request is applied, then answered 500, 502 or 504 (a server or gateway failing after the
   * change was made, which a 5xx never rules out) (default 0). */
  applyThenErrorRate: number
  /** `Retry-After` (seconds) on injected 429s (default 1). Rate-limit 429s say when the window reopens. */
  retryAfterSeconds: number
  /** Fixed window per public key: at most `requests` per `perMs` ms; excess → 429 + Retry-After. */
  rateLimit?: { requests: number; perMs: number }
}

export const DEFAULT_FAULTS: Readonly<SandboxFaults> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  spikeRate: 0,
  spikeMs: 12000,
  errorRates: {},
  resetRate: 0,
  applyThenDropRate: 0,
  applyThenErrorRate: 0,
  retryAfterSeconds: 1,
  rateLimit: undefined
})

const FAULT_KEYS = new Set<string>(Object.keys(DEFAULT_FAULTS))

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a finite number >= 0 (got ${JSON.stringify(value)})`)
  }
  return value
}

function probability(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`${name} must be a probability between 0 and 1 (got ${JSON.stringify(value)})`)
  }
  return value
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be an integer >= 1 (got ${JSON.stringify(value)})`)
  }
  return value
}

/**
 * Validates a partial set of fault knobs and merges it over `base`. Top-level keys replace the base
 * value as a whole (`errorRates` included); `rateLimit: undefined` or `null` removes the rate limit.
 * Unknown keys and bad values throw an Error naming the knob.
 */
export function mergeFaults(base: Readonly<SandboxFaults>, patch: unknown): SandboxFaults {
  if (!isRecord(patch)) throw new Error('faults must be a JSON object')
  const out: SandboxFaults = cloneFaults(base)
  for (const [key, value] of Object.entries(patch)) {
    if (!FAULT_KEYS.has(key)) throw new Error(`unknown fault knob "${key}"`)
    switch (key) {
      case 'latencyMs':
      case 'latencyJitterMs':
      case 'spikeMs':
        if (value !== undefined) out[key] = nonNegative(key, value)
        break
      case 'retryAfterSeconds':
        if (value !== undefined) {
          if (!Number.isSafeInteger(value) || (value as number) < 0) {
            throw new Error(`retryAfterSeconds must be an integer >= 0 (got ${JSON.stringify(value)})`)
          }
          out.retryAfterSeconds = value as number
        }
        break
      case 'spikeRate':
      case 'resetRate':
      case 'applyThenDropRate':
      case 'applyThenErrorRate':
        if (value !== undefined) out[key] = probability(key, value)
        break
      case 'errorRates': {
        if (value === undefined) break
        if (!isRecord(value)) throw new Error('errorRates must be an object such as {"429":0.1,"503":0.05}')
        const rates: SandboxFaults['errorRates'] = {}
        for (const [status, rate] of Object.entries(value)) {
          if (status !== '429' && status !== '500' && status !== '503') {
            throw new Error(`errorRates only supports 429, 500 and 503 (got "${status}")`)
          }
          if (rate !== undefined) rates[Number(status) as InjectedStatus] = probability(`errorRates.${status}`, rate)
        }
        out.errorRates = rates
        break
      }
      case 'rateLimit':
        if (value === undefined || value === null) {
          out.rateLimit = undefined
        } else {
          if (!isRecord(value)) throw new Error('rateLimit must be an object {"requests":N,"perMs":MS} or null')
          out.rateLimit = {
            requests: positiveInteger('rateLimit.requests', value.requests),
            perMs: positiveInteger('rateLimit.perMs', value.perMs)
          }
        }
        break
    }
  }
  return out
}

export function cloneFaults(f: Readonly<SandboxFaults>): SandboxFaults {
  return { ...f, errorRates: { ...f.errorRates }, rateLimit: f.rateLimit ? { ...f.rateLimit } : undefined }
}

/** Picks the fault knobs out of a larger options object (e.g. SandboxOptions). */
export function pickFaults(options: object): Partial<SandboxFaults> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) if (FAULT_KEYS.has(key)) out[key] = value
  return out as Partial<SandboxFaults>
}

/** Fixed-window limiter keyed by public key. */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(readonly requests: number, readonly perMs: number) {}

  /** Counts a request; returns 0 when allowed, else the ms until the key's window reopens. */
  take(key: string, now: number): number {
    let w = this.windows.get(key)
    if (!w || now - w.start >= this.perMs) {
      if (!w && this.windows.size >= 10000) this.prune(now)
      w = { start: now, count: 0 }
      this.windows.set(key, w)
    }
    if (w.count < this.requests) {
      w.count++
      return 0
    }
    return Math.max(1, w.start + this.perMs - now)
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.perMs) this.windows.delete(key)
  }
}
