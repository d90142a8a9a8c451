import type { SandboxFaults } from './faults'
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
}

export interface SandboxStats {
  /** API requests (`/v2/*`) received, known routes or not. */
  total: number
  /** API requests per path, e.g. `{"/v2/affiliate/new": 3}`; unknown paths count under `(unknown)`. */
  byRoute: Record<string, number>
  /** Injected faults by kind: `rateLimit`, `reset`, `429`, `500`, `503`, `spike`, `applyThenDrop`. */
  faultsInjected: Record<string, number>
  /** API responses actually sent, per HTTP status (dropped connections are not counted). */
  byStatus: Record<string, number>
}

export interface RunningSandbox {
  /** Root URL, e.g. http://127.0.0.1:PORT */
  url: string
  /** url + '/v2': what REFERSION_BASE_URL is set to. */
  apiBaseUrl: string
  port: number
  /** Direct access to the affiliates, for tests and benchmarks. */
  store: SandboxStore
  stats(): SandboxStats
  /** Merges fault knobs over the current ones (validated; throws on bad values). */
  setFaults(f: Partial<SandboxFaults>): void
  /** The current fault knobs. */
  faults(): SandboxFaults
  /** Clears affiliates, stats, rate-limit windows, and resets faults and PRNGs to the start options. */
  reset(): void
  close(): Promise<void>
}
