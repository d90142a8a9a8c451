import { createTestEvent, createTestIntegration } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import nock from 'nock'
import destination from '../../index'
import { affiliateCache } from '../../lib/affiliate-cache'
import { batchStatuses, ORIGIN, PUBLIC_KEY, refersion as keyedScope, settings, useOfflineNock } from './refersion'

/** Shared by the Credit Commission and Credit Order to Affiliate tests: Refersion's production API, mocked. */
export { ORIGIN, PUBLIC_KEY, settings }
export const AFFILIATE_ID = 37569297
export const AFFILIATE_CODE = 'a3y7'
export const AFFILIATE_EMAIL = 'joanna@chotchkies.com'

export const testDestination = createTestIntegration(destination)

/** Each test starts offline (no request may go unmatched), on the production hosts, with the cache on and empty. */
export function useCleanEnvironment(): void {
  useOfflineNock()
  beforeEach(() => affiliateCache.clear())
}

/** The key-pair scope of every unit test; every body it takes is kept in `bodies`. */
export function refersion(bodies: unknown[] = []): nock.Scope {
  const scope = keyedScope()
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

/** Runs performBatch with the default mappings (plus `mapping`); returns the per-event statuses. */
export const batch = (action: string, events: SegmentEvent[], mapping: JSONObject = {}) =>
  batchStatuses(testDestination, action, events, mapping)
