/**
 * A local, in-memory simulator of Refersion's REST API v2 (see REFERSION-API.md), with fault
 * injection for end-to-end tests and benchmarks. Listens on loopback only unless told otherwise.
 *
 * Request pipeline for `/v2/*` routes (each step may end the request):
 *   1. rate limit (per `Refersion-Public-Key` value) → 429 + Retry-After
 *   2. reset → connection destroyed, nothing applied
 *   3. injected 429 (+ Retry-After) / 500 / 503, nothing applied
 *   4. latency (+ jitter, + spike)
 *   5. apply: auth (401) → body (404 "Bad request, no body") → validation / state change
 *   6. applyThenDrop → the change is kept, the connection destroyed without a response
 * Unknown paths answer 404 `{"error":"Not found"}` without auth or faults.
 */
import { timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import fastify, { FastifyReply, FastifyRequest } from 'fastify'
import { API_ROUTES, ApiHandler, ApiResult, NOT_FOUND, NO_BODY, UNAUTHORIZED, parseBody } from './api'
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

const BODY_LIMIT = 1024 * 1024
const CODE_SEED_SALT = 0x5bd1e995
const ERROR_BODIES: Record<number, { error: string }> = {
  429: { error: 'Too many requests' },
  500: { error: 'Internal server error' },
  503: { error: 'Service unavailable' }
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

function emptyStats(): SandboxStats {
  return { total: 0, byRoute: {}, faultsInjected: {}, byStatus: {} }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1'
  const seed = options.seed ?? randomSeed()
  const keys = options.keys
  if (keys && (!keys.publicKey.trim() || !keys.secretKey.trim())) {
    throw new Error('sandbox keys: publicKey and secretKey must both be non-empty')
  }
  const startFaults = mergeFaults(DEFAULT_FAULTS, pickFaults(options))

  let faults = cloneFaults(startFaults)
  let faultRandom = mulberry32(seed)
  let limiter = faults.rateLimit ? new FixedWindowLimiter(faults.rateLimit.requests, faults.rateLimit.perMs) : undefined
  let stats = emptyStats()
  let url = ''
  const store = new SandboxStore({ random: mulberry32(seed ^ CODE_SEED_SALT) })

  // Pending latency timers, woken on close so that close() never waits for a long spike.
  const sleepers = new Set<() => void>()
  let closing = false
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })

  const chance = (rate: number | undefined): boolean => {
    if (!rate || rate <= 0) return false
    if (rate >= 1) return true
    return faultRandom() < rate
  }

  const setFaults = (patch: Partial<SandboxFaults>): void => {
    const next = mergeFaults(faults, patch)
    const limitChanged = JSON.stringify(next.rateLimit) !== JSON.stringify(faults.rateLimit)
    faults = next
    if (limitChanged) {
      limiter = faults.rateLimit ? new FixedWindowLimiter(faults.rateLimit.requests, faults.rateLimit.perMs) : undefined
    }
  }

  const reset = (): void => {
    store.clear(mulberry32(seed ^ CODE_SEED_SALT))
    faults = cloneFaults(startFaults)
    faultRandom = mulberry32(seed)
    limiter = faults.rateLimit ? new FixedWindowLimiter(faults.rateLimit.requests, faults.rateLimit.perMs) : undefined
    stats = emptyStats()
  }

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

  const respond = (reply: FastifyReply, result: ApiResult, api: boolean): FastifyReply => {
    if (api) bump(stats.byStatus, String(result.status))
    if (result.headers) void reply.headers(result.headers)
    return reply.code(result.status).send(result.body)
  }

  /** Destroys the connection without writing a response. */
  const drop = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack()
    request.raw.socket.destroy()
  }

  const inject = (kind: string): void => bump(stats.faultsInjected, kind)

  const apply = (request: FastifyRequest, handler: ApiHandler): ApiResult => {
    const publicKey = header(request, 'refersion-public-key')
    const secretKey = header(request, 'refersion-secret-key')
    if (!publicKey || !secretKey) return UNAUTHORIZED
    if (keys && !(safeEqual(publicKey, keys.publicKey) && safeEqual(secretKey, keys.secretKey))) return UNAUTHORIZED
    const body = parseBody(request.body)
    if (!body) return NO_BODY
    return handler(store, body)
  }

  const apiRoute =
    (path: string, handler: ApiHandler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
      stats.total++
      bump(stats.byRoute, path)
      const f = faults

      if (limiter) {
        const waitMs = limiter.take(header(request, 'refersion-public-key') ?? '', Date.now())
        if (waitMs > 0) {
          inject('rateLimit')
          const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)))
          return respond(reply, { status: 429, body: ERROR_BODIES[429], headers: { 'retry-after': retryAfter } }, true)
        }
      }
      if (chance(f.resetRate)) {
        inject('reset')
        return drop(request, reply)
      }
      for (const status of INJECTED_STATUSES) {
        if (!chance(f.errorRates[status])) continue
        inject(String(status))
        const headers = status === 429 ? { 'retry-after': String(f.retryAfterSeconds) } : undefined
        return respond(reply, { status, body: ERROR_BODIES[status], headers }, true)
      }
      let delay = f.latencyMs
      if (f.latencyJitterMs > 0) delay += faultRandom() * f.latencyJitterMs
      if (chance(f.spikeRate)) {
        inject('spike')
        delay += f.spikeMs
      }
      if (delay > 0) {
        await sleep(delay)
        if (closing) return drop(request, reply)
      }

      const result = apply(request, handler)
      if (chance(f.applyThenDropRate)) {
        inject('applyThenDrop')
        return drop(request, reply)
      }
      return respond(reply, result, true)
    }

  for (const [path, handler] of Object.entries(API_ROUTES)) app.post(`/v2${path}`, apiRoute(`/v2${path}`, handler))

  app.setNotFoundHandler((request, reply) => {
    const api = request.url === '/v2' || request.url.startsWith('/v2/')
    if (api) {
      stats.total++
      bump(stats.byRoute, '(unknown)')
    }
    return respond(reply, NOT_FOUND, api)
  })

  app.setErrorHandler((error: { statusCode?: number; message?: string }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    const body = status >= 500 ? ERROR_BODIES[500] : { error: error.message ?? 'Bad request' }
    return respond(reply, { status, body }, request.url.startsWith('/v2/'))
  })

  // Inspection routes: no auth, no faults, not counted in stats.
  app.get('/', async () => ({
    name: 'Refersion API sandbox',
    description: 'In-memory simulator of the Refersion REST API v2. Point REFERSION_BASE_URL at apiBaseUrl.',
    apiBaseUrl: `${url}/v2`,
    api: Object.keys(API_ROUTES).map((path) => `POST /v2${path}`),
    inspection: [
      'GET /_sandbox/affiliates',
      'GET /_sandbox/stats',
      'GET /_sandbox/faults',
      'POST /_sandbox/faults',
      'POST /_sandbox/reset'
    ]
  }))
  app.get('/_sandbox/affiliates', async () => ({ total: store.size, affiliates: store.all() }))
  app.get('/_sandbox/stats', async () => snapshotStats())
  app.get('/_sandbox/faults', async () => cloneFaults(faults))
  app.post('/_sandbox/faults', async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body.trim() : ''
    try {
      if (raw !== '') setFaults(JSON.parse(raw) as Partial<SandboxFaults>)
    } catch (err) {
      return reply.code(400).send({ error: err instanceof Error ? err.message : String(err) })
    }
    return cloneFaults(faults)
  })
  app.post('/_sandbox/reset', async () => {
    reset()
    return { ok: true }
  })

  const snapshotStats = (): SandboxStats => ({
    total: stats.total,
    byRoute: { ...stats.byRoute },
    faultsInjected: { ...stats.faultsInjected },
    byStatus: { ...stats.byStatus }
  })

  await app.listen({ host, port: options.port ?? 0 })
  const address = app.server.address() as AddressInfo
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host
  url = `http://${urlHost}:${address.port}`

  return {
    url,
    apiBaseUrl: `${url}/v2`,
    port: address.port,
    store,
    stats: snapshotStats,
    setFaults,
    faults: () => cloneFaults(faults),
    reset,
    close: async () => {
      if (closing) return
      closing = true
      for (const wake of [...sleepers]) wake()
      await app.close()
    }
  }
}
