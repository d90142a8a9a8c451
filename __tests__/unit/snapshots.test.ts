import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import destination from '../../src'
import { passwordPolicyViolation } from '../../src/createAffiliate/password'
import {
  CREATED,
  docsIdentify,
  EMAIL_TAKEN,
  normalisePassword,
  p,
  PETER_EMAIL,
  refersion,
  settings,
  useOfflineNock
} from './helpers'

const testDestination = createTestIntegration(destination)

// These tests assert the uncached request sequences (new → 422 → search → get → edit) for one email over and over:
// the affiliate cache is off here; __tests__/unit/request-economy.test.ts covers it.
useOfflineNock({ REFERSION_CACHE: 'off' })

/** Records every JSON body a scope receives, keyed by path. */
function record(scope: nock.Scope) {
  const bodies: { path: string; body: Record<string, unknown> }[] = []
  scope.on('request', (req: { path: string }, _interceptor: unknown, body: string) => {
    bodies.push({ path: req.path, body: JSON.parse(body) })
  })
  return bodies
}

describe('request body snapshots (generated passwords normalised to "<generated>")', () => {
  it('docs identify → /affiliate/new', async () => {
    const scope = refersion().post(p('/affiliate/new')).reply(200, CREATED('a3y7', 37569297))
    const bodies = record(scope)
    await testDestination.testAction('createAffiliate', { event: docsIdentify(), settings, useDefaultMappings: true })
    expect(bodies).toHaveLength(1)
    expect(passwordPolicyViolation(String(bodies[0].body.password), PETER_EMAIL)).toBeUndefined()
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })

  it('snake_case identify → /affiliate/new', async () => {
    const scope = refersion().post(p('/affiliate/new')).reply(200, CREATED('b4z8', 37569298))
    const bodies = record(scope)
    const event: Partial<SegmentEvent> = {
      type: 'identify',
      userId: 'user-snake-1',
      traits: {
        email: 'samir@initech.com',
        first_name: 'Samir',
        last_name: 'Nagheenanajar',
        phone: '+1 512 555 0199',
        company: { name: 'Initech' },
        address: { street: '4120 Freidrich Ln', city: 'Austin', state: 'TX', postal_code: '78744', country: 'us' }
      }
    }
    await testDestination.testAction('createAffiliate', {
      event,
      settings,
      mapping: { offer: '4407', conversionTriggerCoupon: 'SAMIR10', sendWelcome: true },
      useDefaultMappings: true
    })
    expect(bodies).toHaveLength(1)
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })

  it('repeated identify → /affiliate/edit (upsert)', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .reply(422, EMAIL_TAKEN)
      .post(p('/affiliate/search'))
      .reply(200, { total: 1, results: [{ id: 'a3y7', email: 'Peter@Initech.com' }] })
      .post(p('/affiliate/get'))
      .reply(200, { id: 37569297 })
      .post(p('/affiliate/edit'))
      .reply(200, { ids_changed: [37569297], ids_not_changed: [] })
    const bodies = record(scope)
    await testDestination.testAction('createAffiliate', { event: docsIdentify(), settings, useDefaultMappings: true })
    expect(scope.isDone()).toBe(true)
    expect(bodies.map((b) => ({ ...b, body: normalisePassword(b.body) }))).toMatchSnapshot()
  })

  it('delete → /affiliate/status_change', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, { total: 1, results: [{ id: 37569297, email: PETER_EMAIL }] })
      .post(p('/affiliate/status_change'))
      .reply(200, { ids_changed: [37569297], ids_not_changed: [] })
    const bodies = record(scope)
    await testDestination.testAction('deleteAffiliate', {
      event: { type: 'delete', userId: '5678', traits: { email: PETER_EMAIL } },
      settings,
      useDefaultMappings: true
    })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
