import { createTestIntegration } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import destination from '../index'
import { isRetryable } from '../lib/errors'
import {
  caught,
  docsDelete,
  p,
  PETER_EMAIL,
  refersion,
  SEARCH_MISS,
  searchResult,
  settings,
  trap,
  useOfflineNock
} from './__helpers__/refersion'

const testDestination = createTestIntegration(destination)

useOfflineNock()

type Event = Partial<SegmentEvent>

const onDelete = (event: Event) => {
  if (!testDestination.onDelete) throw new Error('the destination defines no onDelete')
  return testDestination.onDelete(event as SegmentEvent, settings)
}

const ID = 37569297
const CODE = 'a3y7'
const CHANGED = { ids_changed: [ID], ids_not_changed: [] }
const partial = { id: 'jp01', email: 'jpeter@initech.com', first_name: 'J', last_name: 'Peter', status: 'ACTIVE' }
const exact = { id: CODE, email: 'Peter@Initech.com', first_name: 'Peter', last_name: 'Gibbons', status: 'ACTIVE' }

describe('onDelete (Segment user-deletion requests)', () => {
  it('searches by the userId and disables the result whose unique_merchant_id equals it', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: '5678', page: '1' })
      .reply(
        200,
        searchResult([
          { id: 'x1', email: 'user5678@example.com' },
          { id: CODE, email: PETER_EMAIL, unique_merchant_id: '5678' }
        ])
      )
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    const result = await onDelete(docsDelete())
    expect(scope.isDone()).toBe(true)
    expect(result).toEqual({ outcome: 'disabled', changed: true, userId: '5678', id: ID, status: 'DISABLED' })
  })

  it('a userId that is the email (the documented search) matches case-insensitively', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: 'PETER@initech.com', page: '1' })
      .reply(200, searchResult([partial, exact]))
      .post(p('/affiliate/get'), { affiliate_code: CODE })
      .reply(200, { id: ID })
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    const result = await onDelete({ type: 'delete', userId: 'PETER@initech.com' })
    expect(scope.isDone()).toBe(true)
    expect(result).toMatchObject({ outcome: 'disabled', changed: true, id: ID })
  })

  it('gets only userId/anonymousId: the event email is not used', async () => {
    const byEmailSearch = refersion().post(p('/affiliate/search'), { keyword: PETER_EMAIL, page: '1' }).reply(200, {})
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: '5678', page: '1' })
      .reply(200, searchResult([{ id: ID, email: 'other@initech.com', unique_merchant_id: '5678' }]))
      .post(p('/affiliate/status_change'), { ids: [ID], status: 'DISABLED' })
      .reply(200, CHANGED)
    await onDelete(docsDelete())
    expect(scope.isDone()).toBe(true)
    expect(byEmailSearch.isDone()).toBe(false)
  })

  it('a result whose email merely contains the userId: success that changed nothing, no status change', async () => {
    const change = refersion().post(p('/affiliate/status_change')).reply(200, CHANGED)
    const scope = refersion()
      .post(p('/affiliate/search'), { keyword: '5678', page: '1' })
      .reply(200, searchResult([{ id: 'x1', email: 'user5678@example.com', unique_merchant_id: 'other' }]))
    const result = await onDelete(docsDelete())
    expect(scope.isDone()).toBe(true)
    expect(change.isDone()).toBe(false)
    expect(result).toEqual({ outcome: 'not_found', changed: false, userId: '5678', reason: expect.any(String) })
  })

  it('a search miss (422): success that changed nothing, and the result says so', async () => {
    const change = refersion().post(p('/affiliate/status_change')).reply(200, CHANGED)
    const scope = refersion().post(p('/affiliate/search'), { keyword: '5678', page: '1' }).reply(422, SEARCH_MISS)
    const result = await onDelete(docsDelete())
    expect(scope.isDone()).toBe(true)
    expect(change.isDone()).toBe(false)
    expect(result).toMatchObject({ outcome: 'not_found', changed: false, userId: '5678' })
    expect((result as { reason: string }).reason).toContain('5678')
  })

  it.each([[{ type: 'delete' }], [{ type: 'delete', userId: '   ' }], [{ type: 'delete', anonymousId: 'anon-1' }]])(
    'no userId (%j): success that changed nothing, no request at all',
    async (event) => {
      const anyRequest = trap()
      const result = await onDelete(event as Event)
      expect(anyRequest.isDone()).toBe(false)
      expect(result).toMatchObject({ outcome: 'not_found', changed: false })
      expect((result as { reason: string }).reason).toMatch(/no userId/)
    }
  )

  it('a Refersion failure is still an error (a 5xx is retryable), never "not found"', async () => {
    refersion().post(p('/affiliate/search')).reply(503, { error: 'Service unavailable' })
    const error = await caught(() => onDelete(docsDelete()))
    expect(isRetryable(error)).toBe(true)
  })
})
