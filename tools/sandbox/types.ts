import type { ConversionLedger, SandboxManualCredit, SandboxOrder } from './conversions'
import type { SandboxFaults } from './faults'
import type { RecordedRequest } from './request-log'
import type { SandboxStore } from './store'

export interface SandboxOptions extends Partial<SandboxFaults> {
  /** Interface to bind (default '127.0.0.1'; the sandbox never binds anything else unless told to). */
  host?: string
  /** Port (default 0: a free port). */
  port?: number
  /** Seeds the PRNGs used for faults and affiliate codes (default: random). */
  seed?: number
  /** When set, only this key pair is accepted; otherwise any non-empty pair is. */
  keys?: { publicKey: string; secretKey: string }
  /** Fastify request logging (default false). The secret key header is redacted. */
  logger?: boolean
  /**
   * Search also matches `unique_merchant_id` exactly and returns it in its results: an undocumented reading
   * of Refersion's search, off by default (`--search-merchant-id`, SANDBOX_SEARCH_MERCHANT_ID=1).
   */
  searchMerchantId?: boolean
  /**
   * The first N manual credit attempts per order id (`/conversion/manual_credit_order_id`) answer 422 "This
   * order ID is being process (error 5)." and change nothing; the next one is processed. Off (0) by default
   * (`--order-processing-attempts N`, SANDBOX_ORDER_PROCESSING_ATTEMPTS=N).
   */
  orderProcessingAttempts?: number
  /** How many received requests `requests()` keeps, newest last (default 1000). */
  requestLogLimit?: number
  /**
   * Called after every reset (in process or `POST /_sandbox/reset`). A reset forgets affiliates and restarts
   * their ids, which Refersion never does, so a client that remembers ids (the destination's affiliate cache)
   * must forget them too.
   */
  onReset?: () => void
}

export interface SandboxStats {
  /** API requests (`/v2/*` and the tracking webhook) received, known routes or not. */
  total: number
  /** API requests per path, e.g. `{"/v2/affiliate/new": 3}`; unknown paths count under `(unknown)`. */
  byRoute: Record<string, number>
  /** Injected faults by kind: `rateLimit`, `reset`, `429`, `500`, `503`, `spike`, `applyThenDrop`, `applyThenError`. */
  faultsInjected: Record<string, number>
  /** API responses actually sent, per HTTP status (dropped connections are not counted). */
  byStatus: Record<string, number>
  /**
   * Requests whose body broke the published contract: REST answers 204 (undocumented field or wrong type) or
   * 400 (missing required field), webhook answers 400. A client that follows the contract causes none.
   */
  contractRejections: number
}

export interface RunningSandbox {
  /** Root URL, e.g. http://127.0.0.1:PORT */
  url: string
  /** url + '/v2': what REFERSION_BASE_URL is set to. */
  apiBaseUrl: string
  /** Same as apiBaseUrl. */
  baseUrl: string
  /** The root URL, where `POST /tracker/orders/paid` is served: what REFERSION_TRACKING_URL is set to. */
  trackingUrl: string
  port: number
  /** Direct access to the affiliates, for tests and benchmarks. */
  store: SandboxStore
  /** Direct access to the orders the tracking webhook received and the manual credits. */
  ledger: ConversionLedger
  /** The orders, as `GET /_sandbox/conversions` lists them under `conversions`. */
  conversions(): SandboxOrder[]
  /** The manual commission credits, as `GET /_sandbox/conversions` lists them under `manual_credits`. */
  manualCredits(): SandboxManualCredit[]
  /** The requests received on the Refersion routes (bounded, oldest first), with the status answered. */
  requests(): RecordedRequest[]
  clearRequests(): void
  stats(): SandboxStats
  /** Merges fault knobs over the current ones (validated; throws on bad values). */
  setFaults(f: Partial<SandboxFaults>): void
  /** The current fault knobs. */
  faults(): SandboxFaults
  /**
   * Clears affiliates, triggers, orders, manual credits, recorded requests, stats, rate-limit windows, and
   * resets faults and PRNGs to the start options.
   */
  reset(): void
  close(): Promise<void>
}
