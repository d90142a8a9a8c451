import { IntegrationError, PayloadValidationError, RetryableError } from '@segment/actions-core'

type RetryableStatus = ConstructorParameters<typeof RetryableError>[1]
const RETRYABLE_STATUSES = new Set<number>([
  408, 423, 429, 500, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 598, 599
])

/** Refersion's documented answer when more than 50 ids are sent at once: a 429 that retrying cannot fix. */
const SIZE_LIMIT_MESSAGE = /max number of elements/i

/** Refersion's own words from an error body: `{"error": "…"}`, `{"error": ["…"]}`, `{"errors": ["…"]}`. */
export function refersionMessages(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() ? [body.trim().slice(0, 500)] : []
  if (!body || typeof body !== 'object') return []
  const record = body as Record<string, unknown>
  const out: string[] = []
  for (const key of ['error', 'errors', 'message']) {
    const value = record[key]
    if (key === 'message' && out.length) break
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' && item.trim()) out.push(item.trim())
      else if (item && typeof item === 'object') out.push(...refersionMessages(item))
    }
  }
  return out
}

/** True when a 2xx body is really an error report (Refersion sometimes answers 200/204 with `error`/`errors`). */
export function bodyReportsError(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false
  const record = body as Record<string, unknown>
  const hasError =
    (typeof record.error === 'string' && record.error.trim() !== '') ||
    (Array.isArray(record.error) && record.error.length > 0) ||
    (Array.isArray(record.errors) && record.errors.length > 0)
  const hasResult = ['id', 'ids_changed', 'results', 'total'].some((key) => key in record)
  return hasError && !hasResult
}

export interface RefersionApiErrorOptions {
  /** The status Segment sees (a 4xx: the event is not retried). */
  status: number
  /** The HTTP status Refersion answered with (200 for a failure reported inside a 200 body). */
  refersionStatus: number
  /** Refersion's own error texts, already scrubbed of secrets. */
  messages?: string[]
  code?: string
  /** Refersion answered 200 but listed the affiliate in `ids_not_changed`. */
  idsNotChanged?: boolean
}

/** A final (non-retryable) answer from Refersion, carrying Refersion's own error text. */
export class RefersionApiError extends IntegrationError {
  readonly refersionStatus: number
  readonly messages: string[]
  readonly idsNotChanged: boolean

  constructor(
    message: string,
    {
      status,
      refersionStatus,
      messages = [],
      code = 'REFERSION_REJECTED',
      idsNotChanged = false
    }: RefersionApiErrorOptions
  ) {
    super(message, code, status)
    this.refersionStatus = refersionStatus
    this.messages = messages
    this.idsNotChanged = idsNotChanged
    this.retry = false
  }
}

/** Refersion answered 200 but listed the affiliate in `ids_not_changed`: a failure, final. */
export function notChangedError(what: string, messages: string[] = []): RefersionApiError {
  return new RefersionApiError(`Refersion did not ${what}: it was reported in ids_not_changed`, {
    status: 422,
    refersionStatus: 200,
    messages,
    idsNotChanged: true
  })
}

/**
 * Bad input in one or more mapped fields: a 400 that Segment shows to the user and never retries. `fields`
 * names the action's field keys, so tools (the local server's error answer) need not parse the message.
 */
export class FieldValidationError extends PayloadValidationError {
  constructor(message: string, readonly fields: readonly string[]) {
    super(message)
    // Seen by users and logs exactly as before: a payload validation error (the base class defines `name` as a
    // read-only property from the constructor's name, so it is redefined rather than assigned).
    Object.defineProperty(this, 'name', { value: 'PayloadValidationError', enumerable: false, configurable: true })
  }
}

/** The affiliate an event names does not exist in Refersion (or only partial matches do). Final. */
export class AffiliateNotFoundError extends IntegrationError {
  constructor(message: string) {
    super(message, 'AFFILIATE_NOT_FOUND', 404)
    this.retry = false
  }
}

/** A retryable Refersion failure, with how long Refersion asked us to wait when it said so. */
export class RefersionRetryableError extends RetryableError {
  constructor(message: string, status: number, readonly retryAfterMs?: number) {
    super(message, (RETRYABLE_STATUSES.has(status) ? status : 503) as RetryableStatus)
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds; undefined when absent or garbage. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

export type Scrub = (text: string) => string

/** What Refersion documents a 204 from its REST API as; an HTTP 204 carries no body to quote. */
export const INVALID_FIELD_204 =
  'there is an invalid field in the request (Refersion answers 204 for an undocumented field or a value of the wrong type)'

function describe(path: string, status: number, messages: string[]): string {
  const detail = messages.length
    ? messages.join(' ')
    : status === 204
    ? INVALID_FIELD_204
    : 'no error details in the response'
  return `Refersion answered ${status} to ${path}: ${detail}`
}

/**
 * Turns a non-success Refersion answer into the error Segment should see:
 * 401 → InvalidAuthenticationError (raised by the caller, which knows the settings);
 * 429 / 5xx (but 501) → retryable; everything else → final, with Refersion's words.
 */
export function errorFromResponse(
  path: string,
  status: number,
  body: unknown,
  retryAfterHeader: string | null,
  scrub: Scrub
): Error {
  const messages = refersionMessages(body).map(scrub)
  const message = scrub(describe(path, status, messages))
  if (status === 429 && messages.some((m) => SIZE_LIMIT_MESSAGE.test(m))) {
    return new RefersionApiError(message, {
      status: 400,
      refersionStatus: status,
      messages,
      code: 'REFERSION_LIMIT_EXCEEDED'
    })
  }
  if (status === 429) {
    return new RefersionRetryableError(
      `${message} (rate limited; Segment will retry)`,
      429,
      parseRetryAfter(retryAfterHeader)
    )
  }
  if (status >= 500 && status !== 501) {
    return new RefersionRetryableError(message, status, parseRetryAfter(retryAfterHeader))
  }
  if (status === 204 || (status >= 200 && status < 300)) {
    // A "success" status whose body reports an error: Refersion documents 204 as "invalid field".
    return new RefersionApiError(message, { status: 400, refersionStatus: status, messages })
  }
  return new RefersionApiError(message, {
    status: status >= 400 && status < 600 ? status : 400,
    refersionStatus: status,
    messages
  })
}

/** Timeouts, resets and refused connections: Refersion may or may not have applied the request, so retry. */
export function errorFromNetwork(path: string, error: unknown, scrub: Scrub): Error | undefined {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } }
  if (!err || typeof err !== 'object') return undefined
  if (err.name === 'TimeoutError' || err.name === 'RequestTimeoutError' || err.code === 'ETIMEDOUT') {
    return new RefersionRetryableError(
      scrub(`Refersion did not answer ${path} in time (${err.message ?? 'timeout'})`),
      408
    )
  }
  if (err.name === 'RequestClientError') {
    return new RefersionRetryableError(scrub(`The request to Refersion ${path} was aborted`), 408)
  }
  const code = err.cause?.code ?? err.code
  if (
    err.name === 'FetchError' ||
    (err.name === 'TypeError' && /fetch failed|network/i.test(err.message ?? '')) ||
    code
  ) {
    const why = err.cause?.message ?? err.message ?? 'connection failed'
    return new RefersionRetryableError(
      scrub(`Could not reach Refersion for ${path}: ${why}${code ? ` (${code})` : ''}`),
      503
    )
  }
  return undefined
}

/** Whether Segment will retry this error (drives per-event multistatus in batches). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableError) return true
  if (error instanceof IntegrationError && error.retry !== undefined) return error.retry
  const status = statusOf(error)
  return RETRYABLE_STATUSES.has(status)
}

export function statusOf(error: unknown): number {
  // actions-core's schema validation error (AggregateAjvError, from @segment/ajv-human-errors) has no status:
  // the runtime answers it with a 400 PAYLOAD_VALIDATION_FAILED and never retries it.
  if (error instanceof Error && error.name === 'AggregateAjvError') return 400
  const status = (error as { status?: unknown })?.status
  return typeof status === 'number' && status >= 100 && status < 600 ? status : 500
}
