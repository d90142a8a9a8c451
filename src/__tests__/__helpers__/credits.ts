import { createTestEvent, createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import nock from 'nock'
import destination from '../../index'
import { affiliateCache } from '../../lib/affiliate-cache'

/** Shared by the Credit Commission and Credit Order to Affiliate tests: Refersion's production API, mocked. */
export const ORIGIN = 'https://api.refersion.com'
export const PUBLIC_KEY = 'pub_c7d1e2'
export const SECRET_KEY = 'sec_Yk3Pq9Wz'
export const settings = { apiKey: `${PUBLIC_KEY}.${SECRET_KEY}` }
export const AFFILIATE_ID = 37569297
export const AFFILIATE_CODE = 'a3y7'
export const AFFILIATE_EMAIL = 'joanna@chotchkies.com'

export const testDestination = createTestIntegration(destination)

/** Each test starts offline, on the production base URL, with the cache on and empty. */
export function useCleanEnvironment(): void {
  beforeAll(() => nock.disableNetConnect())
  beforeEach(() => {
    nock.cleanAll()
    affiliateCache.clear()
    for (const name of ['REFERSION_BASE_URL', 'REFERSION_TRACKING_URL', 'REFERSION_CACHE', 'REFERSION_TIMEOUT_MS']) {
      delete process.env[name]
    }
  })
  afterEach(() => {
    nock.cleanAll()
    nock.enableNetConnect()
    nock.disableNetConnect()
  })
}

/** A scope that matches only requests with the key pair and a JSON content type; every body it takes is kept. */
export function refersion(bodies: unknown[] = []): nock.Scope {
  const scope = nock(ORIGIN)
    .matchHeader('Refersion-Public-Key', PUBLIC_KEY)
    .matchHeader('Refersion-Secret-Key', SECRET_KEY)
    .matchHeader('content-type', /application\/json/)
  scope.on('request', (_req: unknown, _interceptor: unknown, body: string) => bodies.push(JSON.parse(body)))
  return scope
}

/** Search answers one exact match (its `id` is the code, as Refersion documents), and get gives the numeric id. */
export function lookupByEmail(scope: nock.Scope, email = AFFILIATE_EMAIL, id = AFFILIATE_ID): nock.Scope {
  return scope
    .post('/v2/affiliate/search', { keyword: email, page: '1' })
    .reply(200, {
      total: 1,
      results: [{ id: AFFILIATE_CODE, offer_id: '1', status: 'ACTIVE', first_name: 'Joanna', last_name: 'L', email }]
    })
    .post('/v2/affiliate/get', { affiliate_code: AFFILIATE_CODE })
    .reply(200, { id, affiliate_code: AFFILIATE_CODE, status: 'ACTIVE', email })
}

export function trackEvent(event: string, properties: JSONObject, messageId = 'msg-1'): SegmentEvent {
  return createTestEvent({ type: 'track', event, messageId, properties })
}

/** Runs one event through perform with the default mappings plus `mapping`; returns the action's result. */
export async function perform(action: string, event: SegmentEvent, mapping: JSONObject = {}): Promise<unknown> {
  await testDestination.testAction(action, { event, settings, mapping, useDefaultMappings: true })
  const results = testDestination.results as { output?: string; data?: unknown }[]
  return results.find((result) => result.output === 'Action Executed')?.data
}

/** The error perform throws (fails the test when it does not throw). */
export async function performError(action: string, event: SegmentEvent, mapping: JSONObject = {}) {
  try {
    await perform(action, event, mapping)
  } catch (error) {
    return error as Error & { status?: number; code?: string; retry?: boolean }
  }
  throw new Error(`${action} did not fail`)
}

export interface BatchStatus {
  status: number
  errortype?: string
  errormessage?: string
  sent?: unknown
  body?: unknown
}

/** Runs performBatch with the default mappings (plus `mapping`); returns the per-event statuses. */
export async function batch(action: string, events: SegmentEvent[], mapping: JSONObject = {}) {
  testDestination.results = []
  await testDestination.testBatchAction(action, { events, settings, mapping, useDefaultMappings: true })
  return testDestination.results[0].multistatus as BatchStatus[]
}
