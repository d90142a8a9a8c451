import type { Agent } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'
import { InvalidAuthenticationError, RequestClient } from '@segment/actions-core'
import type { Settings } from '../generated-types'
import { API_KEY_FORMAT, secretOf } from './auth'
import {
  AffiliateNotFoundError,
  bodyReportsError,
  errorFromNetwork,
  errorFromResponse,
  notChangedError,
  RefersionApiError,
  refersionMessages,
  Scrub
} from './errors'
import { numericId } from './normalise'

export const DEFAULT_BASE_URL = 'https://api.refersion.com/v2'
/** Refersion's order-tracking webhook host (not part of REST v2): `POST /tracker/orders/paid`. */
export const DEFAULT_TRACKING_URL = 'https://inbound-webhooks.refersion.com'
export const DEFAULT_TIMEOUT_MS = 10_000
/** Search pages read at most when looking for an exact match among partial matches. */
export const MAX_SEARCH_PAGES = 5
/** Most ids Refersion takes in one `/affiliate/status_change` (more is a 429 "Max number of elements…"). */
export const MAX_IDS_PER_CALL = 50

/** Refersion's base URL: production unless REFERSION_BASE_URL points elsewhere (local sandbox, tests). */
export function baseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.REFERSION_BASE_URL?.trim()
  return override ? override.replace(/\/+$/, '') : DEFAULT_BASE_URL
}

/** The tracking webhook host: production unless REFERSION_TRACKING_URL points elsewhere (local sandbox, tests). */
export function trackingUrl(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.REFERSION_TRACKING_URL?.trim()
  return override ? override.replace(/\/+$/, '') : DEFAULT_TRACKING_URL
}

function timeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.REFERSION_TIMEOUT_MS)
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_TIMEOUT_MS
}

export type AffiliateStatus = 'ACTIVE' | 'PENDING' | 'DISABLED' | 'DENIED'

/** What a conversion trigger matches: a coupon code on an order, the customer's email, or a product SKU. */
export type TriggerType = 'COUPON' | 'EMAIL' | 'SKU'

export interface TriggerResult {
  /** `added`: Refersion created the trigger; `exists`: it already had it (Refersion's 422), which counts as done. */
  outcome: 'added' | 'exists'
  triggerId?: number
}

/** Refersion's 422 for a trigger the affiliate (or another) already has: "Conversion trigger already exists…". */
const TRIGGER_EXISTS = /trigger already exists/i

/** An affiliate as search, get or list describe it: `id` is a code in search results, numeric in get. */
export interface AffiliateRecord {
  id: string | number
  affiliate_code?: string
  email?: string
  first_name?: string
  last_name?: string
  company_name?: string
  offer_id?: string | number
  status?: string
  unique_merchant_id?: string
  [key: string]: unknown
}

/** What Refersion answered, before it is judged. */
export interface Answer {
  status: number
  data: unknown
  retryAfter: string | null
}

export interface CreatedAffiliate {
  code?: string
  numericId?: number
  link?: string
  message?: string
}

export interface StatusChangeResult {
  changed: number[]
  notChanged: number[]
}

function idsOf(value: unknown): number[] {
  return Array.isArray(value) ? value.map(numericId).filter((n): n is number => n !== undefined) : []
}

/**
 * The one place that talks to Refersion: base URL, timeouts, status and body checks, error mapping,
 * and the lookups that turn emails and codes into the numeric ids `edit` and `status_change` need.
 * Headers (the key pair) are added by the destination's `extendRequest`.
 */
export class RefersionClient {
  /** Removes the secret key from any text shown to people. */
  readonly scrub: Scrub
  // Read once per client (one per perform / performBatch): process.env lookups are slow enough to show up
  // in the per-event CPU cost when made for every request.
  private readonly baseUrl = baseUrl()
  private readonly timeoutMs = timeoutMs()
  private readonly trackingUrl = trackingUrl()

  constructor(private readonly request: RequestClient, secretKey?: string) {
    this.scrub = secretKey ? (text) => text.split(secretKey).join('<redacted>') : (text) => text
  }

  /**
   * One JSON POST to Refersion's REST API (`path` under the base URL), with no judgement of the answer: the status,
   * the parsed body and Retry-After come back as they are, a 401 throws InvalidAuthenticationError, and a transport
   * failure (timeout, reset, refused connection) is thrown exactly as the request client raised it. `agent` (an
   * http(s) agent) lets a caller observe the connection (see creditCommission).
   */
  async exchange(path: string, body: Record<string, unknown>, agent?: Agent): Promise<Answer> {
    return this.answerOf(await this.fetch(`${this.baseUrl}${path}`, body, agent))
  }

  /** The base URL REST paths are sent to (production unless REFERSION_BASE_URL points elsewhere). */
  get restUrl(): string {
    return this.baseUrl
  }

  private fetch(url: string, body: Record<string, unknown>, agent?: Agent) {
    return this.request(url, {
      method: 'POST',
      json: body,
      throwHttpErrors: false,
      timeout: this.timeoutMs,
      ...(agent ? { agent: agent as HttpsAgent } : {})
    })
  }

  /** The answer as it came; a 401 throws InvalidAuthenticationError. */
  private answerOf(response: Awaited<ReturnType<RequestClient>>): Answer {
    const data = (response as unknown as { data?: unknown }).data
    if (response.status === 401) {
      const why = refersionMessages(data).map(this.scrub).join(' ') || 'Unauthorized'
      throw new InvalidAuthenticationError(
        `Refersion rejected the API key pair (401: ${why}). Check the API Key setting. ${API_KEY_FORMAT}`
      )
    }
    return { status: response.status, data, retryAfter: response.headers.get('retry-after') }
  }

  /** One POST whose transport failures (timeouts, resets, refused connections) become typed retryable errors. */
  private async sendMapped(url: string, path: string, body: Record<string, unknown>): Promise<Answer> {
    let response
    try {
      response = await this.fetch(url, body)
    } catch (error) {
      throw errorFromNetwork(path, error, this.scrub) ?? error
    }
    return this.answerOf(response)
  }

  /** A REST answer judged: the JSON object of a real success, else the typed error Segment should see. */
  judge<T = Record<string, unknown>>(path: string, { status, data, retryAfter }: Answer): T {
    if (status >= 200 && status < 300 && status !== 204 && !bodyReportsError(data)) {
      if (data && typeof data === 'object') return data as T
      // Anything but a JSON object is not an answer Refersion documents for these endpoints.
      throw new RefersionApiError(this.scrub(`Refersion answered ${status} to ${path} without a JSON body`), {
        status: 502,
        refersionStatus: status
      })
    }
    throw errorFromResponse(path, status, data, retryAfter, this.scrub)
  }

  /** POSTs a JSON body and returns the parsed answer; throws a typed error for anything but a real success. */
  async post<T = Record<string, unknown>>(path: string, body: Record<string, unknown>): Promise<T> {
    return this.judge<T>(path, await this.sendMapped(`${this.baseUrl}${path}`, path, body))
  }

  /**
   * POSTs a JSON body to Refersion's tracking webhook host. Refersion documents no answer for it, so any 2xx
   * (204, an empty or a non-JSON body included) is success; 401, 429, 5xx, other 4xx and network failures map to
   * errors exactly as for `post`.
   */
  async postTracking(path: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const { status, data, retryAfter } = await this.sendMapped(`${this.trackingUrl}${path}`, path, body)
    if (status >= 200 && status < 300) return { status, body: data }
    throw errorFromResponse(path, status, data, retryAfter, this.scrub)
  }

  /** `POST /affiliate/new`: the code comes back as `id`; the numeric id only inside `message`. */
  async createAffiliate(body: Record<string, unknown>): Promise<CreatedAffiliate> {
    const data = await this.post<{ id?: unknown; link?: unknown; message?: unknown }>('/affiliate/new', body)
    const message = typeof data.message === 'string' ? data.message : undefined
    const match = message?.match(/affiliate\s+(\d+)/i)
    return {
      code: data.id === undefined || data.id === null ? undefined : String(data.id),
      numericId: match ? Number(match[1]) : numericId(data.id),
      link: typeof data.link === 'string' ? data.link : undefined,
      message
    }
  }

  /**
   * `POST /affiliate/search`, reading pages until `accept` picks a result (the keyword matches emails
   * only partially, so the caller decides what counts). A 422 "could not find" is a miss, not an error.
   */
  async findAffiliate(
    keyword: string,
    accept: (record: AffiliateRecord) => boolean
  ): Promise<AffiliateRecord | undefined> {
    let seen = 0
    for (let page = 1; page <= MAX_SEARCH_PAGES; page++) {
      let data: { total?: unknown; results?: unknown }
      try {
        data = await this.post('/affiliate/search', { keyword, page: String(page) })
      } catch (error) {
        if (error instanceof RefersionApiError && error.refersionStatus === 422) return undefined
        throw error
      }
      const results = Array.isArray(data.results) ? (data.results as AffiliateRecord[]) : []
      const found = results.find((record) => record && typeof record === 'object' && accept(record))
      if (found) return found
      seen += results.length
      const total = Number(data.total)
      if (!results.length || !Number.isFinite(total) || seen >= total) return undefined
    }
    return undefined
  }

  /** `POST /affiliate/get` by numeric id or code; undefined on Refersion's 422 "Affiliate not found." */
  async getAffiliate(by: { id: number } | { affiliate_code: string }): Promise<AffiliateRecord | undefined> {
    try {
      return await this.post<AffiliateRecord>('/affiliate/get', by)
    } catch (error) {
      if (error instanceof RefersionApiError && error.refersionStatus === 422) return undefined
      throw error
    }
  }

  /**
   * The numeric id of a search/get record. A JSON number is a numeric id. A string is what search documents,
   * an affiliate code, even when it is all digits (codes can be), so it is looked up with `get`; only when no
   * affiliate has that code is a digit string tried as a numeric id — both readings tolerated, code first.
   */
  async numericIdOf(record: AffiliateRecord): Promise<number> {
    if (typeof record.id === 'number') {
      const direct = numericId(record.id)
      if (direct !== undefined) return direct
    }
    const code = String(record.affiliate_code ?? record.id ?? '').trim()
    let full = code ? await this.getAffiliate({ affiliate_code: code }) : undefined
    const asNumber = numericId(code)
    if (!full && asNumber !== undefined) full = await this.getAffiliate({ id: asNumber })
    const id = numericId(full?.id)
    if (id === undefined) {
      throw new AffiliateNotFoundError(`Refersion has no affiliate with the code or ID "${this.scrub(code)}"`)
    }
    return id
  }

  /** `POST /affiliate/edit` for one affiliate; an id in `ids_not_changed` is a failure. */
  async editAffiliate(id: number, fields: Record<string, unknown>): Promise<void> {
    const data = await this.post<{ ids_changed?: unknown; ids_not_changed?: unknown }>('/affiliate/edit', {
      affiliates: [{ id, ...fields }]
    })
    if (!idsOf(data.ids_changed).includes(id))
      throw notChangedError(`update affiliate ${id}`, refersionMessages(data).map(this.scrub))
  }

  /**
   * `POST /affiliate/status_change` for at most 50 ids; returns which changed and which did not. Refersion does
   * not document whether an affiliate that already has the status is reported in `ids_not_changed`, so those ids
   * are checked with `get`: one that already has the status (a repeated or redelivered removal) counts as
   * changed; any other stays a failure, as does one whose check fails.
   */
  async changeStatus(ids: number[], status: AffiliateStatus): Promise<StatusChangeResult> {
    const data = await this.post<{ ids_changed?: unknown; ids_not_changed?: unknown }>('/affiliate/status_change', {
      ids,
      status
    })
    const changed = idsOf(data.ids_changed)
    const reported = new Set([...changed, ...idsOf(data.ids_not_changed)])
    // An id Refersion did not mention at all is not a success either.
    const suspect = ids.filter((id) => !changed.includes(id) || !reported.has(id))
    const already = await Promise.all(suspect.map((id) => this.hasStatus(id, status)))
    return {
      changed: [...changed, ...suspect.filter((_, i) => already[i])],
      notChanged: suspect.filter((_, i) => !already[i])
    }
  }

  private async hasStatus(id: number, status: AffiliateStatus): Promise<boolean> {
    try {
      const record = await this.getAffiliate({ id })
      return typeof record?.status === 'string' && record.status.toUpperCase() === status
    } catch {
      return false
    }
  }

  /** `POST /affiliate/trigger`; Refersion's 422 "Conversion trigger already exists…" counts as done. */
  async addTrigger(affiliateCode: string, type: TriggerType, trigger: string): Promise<TriggerResult> {
    try {
      const data = await this.post<{ trigger_id?: unknown }>('/affiliate/trigger', {
        affiliate_code: affiliateCode,
        type,
        trigger
      })
      return { outcome: 'added', triggerId: numericId(data.trigger_id) }
    } catch (error) {
      if (
        error instanceof RefersionApiError &&
        error.refersionStatus === 422 &&
        error.messages.some((m) => TRIGGER_EXISTS.test(m))
      ) {
        return { outcome: 'exists' }
      }
      throw error
    }
  }

  /** `POST /affiliate/list`: the cheapest authenticated call, used to test the key pair. */
  async listAffiliates(limit = 1, page = 1): Promise<{ total?: unknown; results?: unknown }> {
    return this.post('/affiliate/list', { limit: String(limit), page: String(page) })
  }
}

/** The one way actions build a client: the request function and the settings' key pair (for scrubbing). */
export function clientFor(request: RequestClient, settings: Settings): RefersionClient {
  return new RefersionClient(request, secretOf(settings.apiKey))
}
