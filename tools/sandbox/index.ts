/**
 * A local, in-memory simulator of Refersion's published API, with fault injection for end-to-end tests and
 * benchmarks. Listens on loopback only unless told otherwise. It serves two hosts' worth of routes:
 * - the REST API v2 under `/v2` (what REFERSION_BASE_URL points at), and
 * - the order-tracking webhook `POST /tracker/orders/paid` at the root (what REFERSION_TRACKING_URL points at).
 *
 * Request pipeline for those routes (each step may end the request; every request is recorded):
 *   1. rate limit (per `Refersion-Public-Key` value) → 429 + Retry-After
 *   2. reset → connection destroyed, nothing applied
 *   3. injected 429 (+ Retry-After) / 500 / 503, nothing applied
 *   4. latency (+ jitter, + spike)
 *   5. apply: auth (401) → body (no body: 404 on REST, 400 on the webhook) → contract (`contract.ts`) →
 *      Refersion's rules and the state change (`api.ts`)
 *   6. applyThenDrop → the change is kept, the connection destroyed without a response
 *   7. applyThenError → the change is kept, the answer is a 500, 502 or 504
 * Unknown `/v2` paths answer 404 `{"error":"Not found"}` without auth or faults. `/_sandbox/*` routes
 * inspect and steer the simulator (no auth, no faults, not counted).
 */
import { timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  API_ROUTES,
  ApiBody,
  ApiContext,
  ApiResult,
  NOT_FOUND,
  NO_BODY,
  UNAUTHORIZED,
  answerApi,
  answerTracking,
  parseBody,
  parseJson
} from './api'
import { TRACKING_PATH } from './contract'
import { ConversionLedger } from './conversions'
import {
  DEFAULT_FAULTS,
  FixedWindowLimiter,
  INJECTED_STATUSES,
  SandboxFaults,
  cloneFaults,
  mergeFaults,
  pickFaults
} from './faults'
import { mulberry32, randomSeed } from './prng'
import { RequestLog, redactPasswords } from './request-log'
import { SandboxStore } from './store'
import type { RunningSandbox, SandboxOptions, SandboxStats } from './types'

export { SandboxStore, EmailTakenError, FIRST_AFFILIATE_ID, AFFILIATE_STATUSES, TRIGGER_TYPES } from './store'
export type {
  SandboxAffiliate,
  AffiliateStatus,
  AffiliatePatch,
  NewAffiliate,
  TriggerType,
  ConversionTrigger,
  SandboxStoreOptions
} from './store'
export type { SandboxFaults } from './faults'
export { DEFAULT_FAULTS } from './faults'
export type { SandboxOptions, RunningSandbox, SandboxStats } from './types'
export { sandboxOptionsFromEnv } from './env'
export { SEARCH_PAGE_SIZE, LIST_DEFAULT_LIMIT, MAX_ELEMENTS } from './api'
export { checkRequest, operationOf, REQUEST_SCHEMAS, TRACKING_PATH } from './contract'
export type { ContractCheck } from './contract'
export { ConversionLedger } from './conversions'
export { MANUAL_CREDIT_TYPE, CREDIT_STATUSES } from './conversions'
export type {
  SandboxOrder,
  CreditedBy,
  OrderItem,
  CancelledItem,
  CreditStatus,
  ManualOrderCredit,
  SandboxManualCredit
} from './conversions'
export type { RecordedRequest } from './request-log'

const BODY_LIMIT = 1024 * 1024
const CODE_SEED_SALT = 0x5bd1e995
const ERROR_BODIES: Record<number, { error: string }> = {
  429: { error: 'Too many requests' },
  500: { error: 'Internal server error' },
  503: { error: 'Service unavailable' }
}
const TRACKING_NO_BODY: ApiResult = { status: 400, body: { error: 'Bad request, no body' } }

/** Everything the routes share and `reset` restores. */
interface Runtime {
  readonly seed: number
  readonly keys?: { publicKey: string; secretKey: string }
  readonly startFaults: SandboxFaults
  faults: SandboxFaults
  faultRandom: () => number
  limiter?: FixedWindowLimiter
  stats: SandboxStats
  readonly ctx: ApiContext
  readonly log: RequestLog
  /** Pending latency timers, woken on close so that close() never waits for a long spike. */
  readonly sleepers: Set<() => void>
  closing: boolean
  /** Told after every reset: whoever remembers the sandbox's affiliates (a client's cache) must forget them. */
  readonly onReset?: () => void
}

function emptyStats(): SandboxStats {
  return { total: 0, byRoute: {}, faultsInjected: {}, byStatus: {}, contractRejections: 0 }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

function limiterFor(faults: SandboxFaults): FixedWindowLimiter | undefined {
  return faults.rateLimit ? new FixedWindowLimiter(faults.rateLimit.requests, faults.rateLimit.perMs) : undefined
}

function processingAttempts(value: number | undefined): number {
  if (value === undefined) return 0
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`orderProcessingAttempts must be an integer >= 0 (got ${JSON.stringify(value)})`)
  }
  return value
}

function createRuntime(options: SandboxOptions): Runtime {
  const seed = options.seed ?? randomSeed()
  const keys = options.keys
  if (keys && (!keys.publicKey.trim() || !keys.secretKey.trim())) {
    throw new Error('sandbox keys: publicKey and secretKey must both be non-empty')
  }
  const startFaults = mergeFaults(DEFAULT_FAULTS, pickFaults(options))
  const store = new SandboxStore({ random: mulberry32(seed ^ CODE_SEED_SALT) })
  const ctx: ApiContext = {
    store,
    ledger: new ConversionLedger(store),
    searchMerchantId: options.searchMerchantId === true,
    orderProcessingAttempts: processingAttempts(options.orderProcessingAttempts)
  }
  return {
    seed,
    keys,
    startFaults,
    faults: cloneFaults(startFaults),
    faultRandom: mulberry32(seed),
    limiter: limiterFor(startFaults),
    stats: emptyStats(),
    ctx,
    log: new RequestLog(options.requestLogLimit),
    sleepers: new Set(),
    closing: false,
    onReset: options.onReset
  }
}

function setFaults(rt: Runtime, patch: Partial<SandboxFaults>): void {
  const next = mergeFaults(rt.faults, patch)
  const limitChanged = JSON.stringify(next.rateLimit) !== JSON.stringify(rt.faults.rateLimit)
  rt.faults = next
  if (limitChanged) rt.limiter = limiterFor(next)
}

function resetRuntime(rt: Runtime): void {
  rt.ctx.store.clear(mulberry32(rt.seed ^ CODE_SEED_SALT))
  rt.ctx.ledger.clear()
  rt.log.clear()
  rt.faults = cloneFaults(rt.startFaults)
  rt.faultRandom = mulberry32(rt.seed)
  rt.limiter = limiterFor(rt.faults)
  rt.stats = emptyStats()
  rt.onReset?.()
}

function snapshotStats(stats: SandboxStats): SandboxStats {
  return {
    total: stats.total,
    byRoute: { ...stats.byRoute },
    faultsInjected: { ...stats.faultsInjected },
    byStatus: { ...stats.byStatus },
    contractRejections: stats.contractRejections
  }
}

function sleep(rt: Runtime, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer)
      rt.sleepers.delete(wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    rt.sleepers.add(wake)
  })
}

function chance(rt: Runtime, rate: number | undefined): boolean {
  if (!rate || rate <= 0) return false
  if (rate >= 1) return true
  return rt.faultRandom() < rate
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The two key headers, checked against the configured pair if any. */
function authorized(rt: Runtime, request: FastifyRequest): boolean {
  const publicKey = header(request, 'refersion-public-key')
  const secretKey = header(request, 'refersion-secret-key')
  if (!publicKey || !secretKey) return false
  return !rt.keys || (safeEqual(publicKey, rt.keys.publicKey) && safeEqual(secretKey, rt.keys.secretKey))
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]
}

/** A Refersion route (REST or webhook), as opposed to the `/_sandbox` admin routes. */
function isRefersionPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/') || path === TRACKING_PATH
}

function createApp(options: SandboxOptions): FastifyInstance {
  const app = fastify({
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    logger: options.logger
      ? {
          level: 'info',
          redact: {
            paths: ['req.headers["refersion-secret-key"]', 'req.headers.authorization'],
            censor: '<redacted>'
          }
        }
      : false
  })
  // Every body is read as text and parsed by the routes, so that empty, non-JSON or oddly typed
  // bodies get Refersion's own answer (404 "Bad request, no body") instead of Fastify's 400/415.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
  return app
}

/** Sends a result; for Refersion routes, counts its status and contract rejection and records the request. */
function respond(rt: Runtime, request: FastifyRequest, reply: FastifyReply, result: ApiResult): FastifyReply {
  const path = pathOf(request)
  if (isRefersionPath(path)) {
    bump(rt.stats.byStatus, String(result.status))
    if (result.rejection) rt.stats.contractRejections++
    rt.log.add({ path, body: parseJson(request.body), status: result.status, rejection: result.rejection })
  }
  if (result.headers) void reply.headers(result.headers)
  void reply.code(result.status)
  return result.body === undefined ? reply.send() : reply.send(result.body)
}

/** Destroys the connection without writing a response (the request is recorded with status null). */
function drop(rt: Runtime, request: FastifyRequest, reply: FastifyReply, result?: ApiResult): void {
  if (result?.rejection) rt.stats.contractRejections++
  rt.log.add({ path: pathOf(request), body: parseJson(request.body), status: null, rejection: result?.rejection })
  reply.hijack()
  request.raw.socket.destroy()
}

/**
 * Wraps what a Refersion route does (`apply`: auth, body, contract, state) in the fault pipeline described at
 * the top of this file.
 */
function faultyRoute(rt: Runtime, route: string, apply: (request: FastifyRequest) => ApiResult) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    rt.stats.total++
    bump(rt.stats.byRoute, route)
    const f = rt.faults
    const inject = (kind: string): void => bump(rt.stats.faultsInjected, kind)

    if (rt.limiter) {
      const waitMs = rt.limiter.take(header(request, 'refersion-public-key') ?? '', Date.now())
      if (waitMs > 0) {
        inject('rateLimit')
        const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)))
        return respond(rt, request, reply, {
          status: 429,
          body: ERROR_BODIES[429],
          headers: { 'retry-after': retryAfter }
        })
      }
    }
    if (chance(rt, f.resetRate)) {
      inject('reset')
      return drop(rt, request, reply)
    }
    for (const status of INJECTED_STATUSES) {
      if (!chance(rt, f.errorRates[status])) continue
      inject(String(status))
      const headers = status === 429 ? { 'retry-after': String(f.retryAfterSeconds) } : undefined
      return respond(rt, request, reply, { status, body: ERROR_BODIES[status], headers })
    }
    let delay = f.latencyMs
    if (f.latencyJitterMs > 0) delay += rt.faultRandom() * f.latencyJitterMs
    if (chance(rt, f.spikeRate)) {
      inject('spike')
      delay += f.spikeMs
    }
    if (delay > 0) {
      await sleep(rt, delay)
      if (rt.closing) return drop(rt, request, reply)
    }

    const result = apply(request)
    if (chance(rt, f.applyThenDropRate)) {
      inject('applyThenDrop')
      return drop(rt, request, reply, result)
    }
    if (chance(rt, f.applyThenErrorRate)) {
      inject('applyThenError')
      const status = APPLIED_ERROR_STATUSES[Math.floor(rt.faultRandom() * APPLIED_ERROR_STATUSES.length)]
      return respond(rt, request, reply, { status, body: { error: `Applied, then failed (${status})` } })
    }
    return respond(rt, request, reply, result)
  }
}

/** What a server or gateway that failed after applying a request answers (the applyThenError fault). */
const APPLIED_ERROR_STATUSES = [500, 502, 504] as const

/** The REST operations under `/v2`. */
function registerApiRoutes(app: FastifyInstance, rt: Runtime): void {
  for (const [operation, handler] of Object.entries(API_ROUTES)) {
    const route = `/v2${operation}`
    app.post(
      route,
      faultyRoute(rt, route, (request) => {
        if (!authorized(rt, request)) return UNAUTHORIZED
        const body = parseBody(request.body)
        return body ? answerApi(operation, handler, rt.ctx, body) : NO_BODY
      })
    )
  }
}

/** The order-tracking webhook at the root, as on Refersion's tracking host. */
function registerTrackingRoute(app: FastifyInstance, rt: Runtime): void {
  app.post(
    TRACKING_PATH,
    faultyRoute(rt, TRACKING_PATH, (request) => {
      if (!authorized(rt, request)) return UNAUTHORIZED
      const body: ApiBody | undefined = parseBody(request.body)
      return body ? answerTracking(rt.ctx, body) : TRACKING_NO_BODY
    })
  )
}

/** Unknown paths and framework errors (e.g. a body over the size limit). */
function registerFallbacks(app: FastifyInstance, rt: Runtime): void {
  app.setNotFoundHandler((request, reply) => {
    if (isRefersionPath(pathOf(request))) {
      rt.stats.total++
      bump(rt.stats.byRoute, '(unknown)')
    }
    return respond(rt, request, reply, NOT_FOUND)
  })
  app.setErrorHandler((error: { statusCode?: number; message?: string }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    const body = status >= 500 ? ERROR_BODIES[500] : { error: error.message ?? 'Bad request' }
    return respond(rt, request, reply, { status, body })
  })
}

const ADMIN_ROUTES = [
  'GET /_sandbox/affiliates',
  'GET /_sandbox/conversions',
  'POST /_sandbox/conversions/reset',
  'GET /_sandbox/requests',
  'POST /_sandbox/requests/reset',
  'GET /_sandbox/stats',
  'GET /_sandbox/faults',
  'POST /_sandbox/faults',
  'POST /_sandbox/reset'
]

/** Inspection and steering: no auth, no faults, not counted in stats, not recorded. */
function registerAdminRoutes(app: FastifyInstance, rt: Runtime, rootUrl: () => string): void {
  app.get('/', async () => ({
    name: 'Refersion API sandbox',
    description:
      'In-memory simulator of the Refersion REST API v2 and order-tracking webhook. ' +
      'Point REFERSION_BASE_URL at apiBaseUrl and REFERSION_TRACKING_URL at trackingUrl.',
    apiBaseUrl: `${rootUrl()}/v2`,
    trackingUrl: rootUrl(),
    api: [...Object.keys(API_ROUTES).map((path) => `POST /v2${path}`), `POST ${TRACKING_PATH}`],
    inspection: ADMIN_ROUTES
  }))
  app.get('/_sandbox/affiliates', async () => ({ total: rt.ctx.store.size, affiliates: rt.ctx.store.all() }))
  app.get('/_sandbox/conversions', async () => ({
    total: rt.ctx.ledger.size,
    conversions: rt.ctx.ledger.all(),
    manual_credits: rt.ctx.ledger.manualCredits()
  }))
  app.post('/_sandbox/conversions/reset', async () => {
    rt.ctx.ledger.clear()
    return { ok: true }
  })
  app.get('/_sandbox/requests', async () => {
    const requests = rt.log.list().map((entry) => ({ ...entry, body: redactPasswords(entry.body) }))
    return { total: requests.length, contractRejections: rt.stats.contractRejections, requests }
  })
  app.post('/_sandbox/requests/reset', async () => {
    rt.log.clear()
    return { ok: true }
  })
  app.get('/_sandbox/stats', async () => snapshotStats(rt.stats))
  app.get('/_sandbox/faults', async () => cloneFaults(rt.faults))
  app.post('/_sandbox/faults', async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body.trim() : ''
    try {
      if (raw !== '') setFaults(rt, JSON.parse(raw) as Partial<SandboxFaults>)
    } catch (err) {
      return reply.code(400).send({ error: err instanceof Error ? err.message : String(err) })
    }
    return cloneFaults(rt.faults)
  })
  app.post('/_sandbox/reset', async () => {
    resetRuntime(rt)
    return { ok: true }
  })
}

function urlHostOf(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1'
  const rt = createRuntime(options)
  let url = ''
  const app = createApp(options)
  registerApiRoutes(app, rt)
  registerTrackingRoute(app, rt)
  registerFallbacks(app, rt)
  registerAdminRoutes(app, rt, () => url)

  await app.listen({ host, port: options.port ?? 0 })
  const address = app.server.address() as AddressInfo
  url = `http://${urlHostOf(host)}:${address.port}`

  return {
    url,
    apiBaseUrl: `${url}/v2`,
    baseUrl: `${url}/v2`,
    trackingUrl: url,
    port: address.port,
    store: rt.ctx.store,
    ledger: rt.ctx.ledger,
    conversions: () => rt.ctx.ledger.all(),
    manualCredits: () => rt.ctx.ledger.manualCredits(),
    requests: () => rt.log.list(),
    clearRequests: () => rt.log.clear(),
    stats: () => snapshotStats(rt.stats),
    setFaults: (patch) => setFaults(rt, patch),
    faults: () => cloneFaults(rt.faults),
    reset: () => resetRuntime(rt),
    close: async () => {
      if (rt.closing) return
      rt.closing = true
      for (const wake of [...rt.sleepers]) wake()
      await app.close()
    }
  }
}
