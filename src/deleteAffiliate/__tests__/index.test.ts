import { createTestIntegration, IntegrationError, PayloadValidationError } from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../../index'
import { AffiliateNotFoundError, isRetryable, RefersionApiError } from '../../lib/errors'
import {
  caught,
  docsDelete,
  p,
  PETER_EMAIL,
  recordBodies,
  refersion,
  SEARCH_MISS,
  searchResult,
  settings,
  trap,
  useOfflineNock
} from '../../__tests__/__helpers__/refersion'

const testDestination = createTestIntegration(destination)

useOfflineNock()

type Event = Partial<SegmentEvent>

const remove = (event: Event, mapping: JSONObject = {}) => {
  testDestination.responses = []
  return testDestination.testAction('deleteAffiliate', { event, settings, mapping, useDefaultMappings: true })
}

const ID = 37569297
const CODE = 'a3y7'
const CHANGED = { ids_changed: [ID], ids_not_changed: [] }
const partial = { id: 'jp01', email: 'jpeter@initech.com', first_name: 'J', last_name: 'Peter', status: 'ACTIVE' }
const exact = { id: CODE, email: 'Peter@Initech.com', first_name: 'Peter', last_name: 'Gibbons', status: 'ACTIVE' }

const byEmail = (email = PETER_EMAIL): Event => ({ type: 'identify', userId: 'u-9', traits: { email } })

describe('deleteAffiliate: resolving the affiliate', () => {
  it('by numeric affiliateId: one status_change, nothing else', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    const responses = await remove(byEmail(), { affiliateId: String(ID) })
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(1)
  })

  it('by affiliate code: get (affiliate_code) → status_change with the numeric id', async () => {
    const scope = refersion()
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: String(ID), email: PETER_EMAIL, status: 'ACTIVE' })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    const responses = await remove(byEmail(), { affiliateId: CODE })
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(2)
  })

  it('by an unknown code: not found (get answers 422), no status_change', async () => {
    const change = refersion().post(p('/affiliate/status_change')).reply(200, CHANGED)
    const scope = refersion()
      .post(p('/affiliate/get'), { affiliate_code: 'zz99' })
      .reply(422, { errors: ['Affiliate not found.'] })
    const error = await caught(() => remove(byEmail(), { affiliateId: 'zz99' }))
    expect(scope.isDone()).toBe(true)
    expect(change.isDone()).toBe(false)
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
    expect(error.status).toBe(404)
  })

  it('by email: search → exact case-insensitive match among partial matches → get → status_change', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, exact]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID, email: 'Peter@Initech.com' })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    const responses = await remove(byEmail())
    expect(scope.isDone()).toBe(true)
    expect(responses).toHaveLength(3)
  })

  it('the docs delete example (top-level email) disables the affiliate with that exact email', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, { ...exact, id: ID }]))
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    await remove(docsDelete())
    expect(scope.isDone()).toBe(true)
  })

  it('uses status DENIED when mapped', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DENIED' })
      .reply(200, { ids_changed: [ID], ids_not_changed: [] })
    await remove(byEmail(), { affiliateId: String(ID), status: 'DENIED' })
    expect(scope.isDone()).toBe(true)
  })

  it('with only partial email matches: AffiliateNotFoundError (404, not retryable), no status_change', async () => {
    const untouched = refersion()
      .post(p('/affiliate/get'))
      .reply(200, { id: 1 })
      .post(p('/affiliate/status_change'))
      .reply(200, { ids_changed: [1] })
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, { ...partial, id: 'pp02', email: 'peter@initech.com.au' }]))
    const error = await caught(() => remove(byEmail()))
    expect(scope.isDone()).toBe(true)
    expect(untouched.pendingMocks()).toHaveLength(2)
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.status).toBe(404)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toMatch(/not found/)
    expect(error.message).toContain(PETER_EMAIL)
  })

  it('with a search miss (422): not found, no status_change', async () => {
    const change = refersion().post(p('/affiliate/status_change')).reply(200, CHANGED)
    const scope = refersion().post(p('/affiliate/search')).reply(422, SEARCH_MISS)
    const error = await caught(() => remove(byEmail()))
    expect(scope.isDone()).toBe(true)
    expect(change.isDone()).toBe(false)
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
    expect(isRetryable(error)).toBe(false)
  })

  it('without email: searches by userId and matches unique_merchant_id exactly', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: '5678', page: '1' })
      .reply(
        200,
        searchResult([
          { id: 'x1', email: 'user5678@example.com' },
          { id: 'x2', email: 'a@example.com', unique_merchant_id: '56789' },
          { id: CODE, email: PETER_EMAIL, unique_merchant_id: '5678' }
        ])
      )
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    await remove({ type: 'delete', userId: '5678' })
    expect(scope.isDone()).toBe(true)
  })

  it('without email: a userId that is an email matches the affiliate email case-insensitively', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' })
      .reply(200, searchResult([partial, { ...exact, id: ID }]))
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    await remove({ type: 'delete', userId: PETER_EMAIL })
    expect(scope.isDone()).toBe(true)
  })

  it('without email: a userId found only inside other emails is not found', async () => {
    const change = refersion().post(p('/affiliate/status_change')).reply(200, CHANGED)
    refersion()
      .post(p('/affiliate/search'), { keyword: '5678', page: '1' })
      .reply(200, searchResult([{ id: 'x1', email: 'user5678@example.com' }]))
    const error = await caught(() => remove({ type: 'delete', userId: '5678' }))
    expect(change.isDone()).toBe(false)
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
  })

  it('fails when the id comes back in ids_not_changed and the affiliate does not have the status', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [], ids_not_changed: [ID] })
      .post(p('/affiliate/get'), { id: ID })
      .reply(200, { id: ID, status: 'ACTIVE', email: 'peter@initech.com' })
    const error = await caught(() => remove(byEmail(), { affiliateId: String(ID) }))
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error.message).toContain('ids_not_changed')
    expect(isRetryable(error)).toBe(false)
  })

  it('stays a failure when the check of an ids_not_changed id fails', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'))
      .reply(200, { ids_changed: [], ids_not_changed: [ID] })
      .post(p('/affiliate/get'), { id: ID })
      .reply(500, { error: 'Internal server error' })
    const error = await caught(() => remove(byEmail(), { affiliateId: String(ID) }))
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
  })

  it('succeeds when an ids_not_changed affiliate already has the status (a redelivered removal)', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, { ids_changed: [], ids_not_changed: [ID] })
      .post(p('/affiliate/get'), { id: ID })
      .reply(200, { id: ID, status: 'DISABLED', email: 'peter@initech.com' })
    await remove(byEmail(), { affiliateId: String(ID) })
    expect(scope.isDone()).toBe(true)
  })

  it('fails when Refersion does not report the id as changed at all', async () => {
    refersion()
      .post(p('/affiliate/status_change'))
      .reply(200, { ids_changed: [], ids_not_changed: [] })
      .post(p('/affiliate/get'), { id: ID })
      .reply(200, { id: ID, status: 'ACTIVE' })
    const error = await caught(() => remove(byEmail(), { affiliateId: String(ID) }))
    expect(error).toBeInstanceOf(RefersionApiError)
  })

  it('rejects an event that names no affiliate, sending nothing', async () => {
    const anyRequest = trap()
    const error = await caught(() => remove({ type: 'delete', userId: null, traits: {} }))
    expect(anyRequest.isDone()).toBe(false)
    expect(error).toBeInstanceOf(PayloadValidationError)
    expect(error.message).toMatch(/Affiliate ID/)
  })
})

describe('deleteAffiliate keeps "not found" as a final error', () => {
  it('userId only, search miss: AffiliateNotFoundError, 404, not retryable', async () => {
    refersion().post(p('/affiliate/search'), { keyword: '5678', page: '1' }).reply(422, SEARCH_MISS)
    const error = await caught(() => remove({ type: 'delete', userId: '5678' }))
    expect(error).toBeInstanceOf(AffiliateNotFoundError)
    expect(error.status).toBe(404)
    expect(isRetryable(error)).toBe(false)
  })
})

describe('request body snapshots (generated passwords normalised to "<generated>")', () => {
  it('delete → /affiliate/status_change', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, { total: 1, results: [{ id: 37569297, email: PETER_EMAIL }] })
      .post(p('/affiliate/status_change'))
      .reply(200, { ids_changed: [37569297], ids_not_changed: [] })
    const bodies = recordBodies(scope)
    await testDestination.testAction('deleteAffiliate', {
      event: { type: 'delete', userId: '5678', traits: { email: PETER_EMAIL } },
      settings,
      useDefaultMappings: true
    })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
