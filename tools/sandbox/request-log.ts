/**
 * A bounded, in-memory record of the requests the sandbox received on its Refersion routes (`/v2/*` and the
 * tracking webhook): path, parsed body and the status answered. Lets tests check every request a client
 * sent against the published contract (`checkRequest`), faults included.
 */

export interface RecordedRequest {
  /** 1, 2, … in arrival order; keeps counting when old entries are dropped. */
  seq: number
  /** Request path without the query, e.g. `/v2/affiliate/new` or `/tracker/orders/paid`. */
  path: string
  /** The parsed JSON body; the raw text when it was not JSON; undefined when there was none. */
  body: unknown
  /** Status answered; null when the connection was dropped without an answer (reset, apply-then-drop). */
  status: number | null
  /** Set when the contract check refused the body: why. */
  rejection?: string
}

export const DEFAULT_REQUEST_LOG_LIMIT = 1000

export class RequestLog {
  private entries: RecordedRequest[] = []
  private seq = 0

  constructor(private readonly limit: number = DEFAULT_REQUEST_LOG_LIMIT) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new Error(`requestLogLimit must be an integer >= 1 (got ${limit})`)
  }

  add(entry: Omit<RecordedRequest, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry })
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit)
  }

  /** The kept entries, oldest first (deep copies). */
  list(): RecordedRequest[] {
    return this.entries.map((e) => structuredClone(e))
  }

  clear(): void {
    this.entries = []
  }
}

/** A copy of a recorded body with every `password` value replaced, for showing over HTTP. */
export function redactPasswords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactPasswords)
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === 'password' && typeof inner === 'string' ? '<redacted>' : redactPasswords(inner)
  }
  return out
}
