import nock from 'nock'
import { createTestIntegration, defaultValues, IntegrationError } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import destination from '../index'
import createAffiliate from '../createAffiliate'
import deleteAffiliate from '../deleteAffiliate'
import trackOrder from '../trackOrder'
import cancelOrder from '../cancelOrder'
import { caught, p, PUBLIC_KEY, refersion, SECRET_KEY, settings, trap, useOfflineNock } from './__helpers__/refersion'

const testDestination = createTestIntegration(destination)

useOfflineNock()

/** `A`, else `B`: the fallback directive form the SPEC's default mappings use. */
const orElse = (a: string, b: object) => ({ '@if': { exists: { '@path': a }, then: { '@path': a }, else: b } })
const at = (p: string) => ({ '@path': p })

describe('destination definition', () => {
  it('is named and typed as the SPEC says', () => {
    expect(destination.name).toBe('Refersion (Actions)')
    expect(destination.slug).toBe('actions-refersion')
    expect(destination.mode).toBe('cloud')
    expect(Object.keys(destination.actions).sort()).toEqual([
      'addConversionTrigger',
      'cancelOrder',
      'createAffiliate',
      'creditCommission',
      'creditOrder',
      'deleteAffiliate',
      'trackOrder'
    ])
    expect(typeof destination.onDelete).toBe('function')
    expect(typeof destination.extendRequest).toBe('function')
  })

  it('asks for one required password-typed apiKey setting that explains the format', () => {
    const auth = destination.authentication
    expect(auth?.scheme).toBe('custom')
    expect(Object.keys(auth?.fields ?? {})).toEqual(['apiKey'])
    const apiKey = auth?.fields.apiKey
    expect(apiKey?.type).toBe('password')
    expect(apiKey?.required).toBe(true)
    expect(apiKey?.description).toContain('publickey.secretkey')
    expect(apiKey?.description).toMatch(/Account > Settings > Refersion API/)
    expect(typeof auth?.testAuthentication).toBe('function')
  })

  it('has an automatic "Create Affiliate" preset on identify with the default mappings', () => {
    const preset = destination.presets?.find((p) => p.name === 'Create Affiliate')
    expect(preset).toMatchObject({
      name: 'Create Affiliate',
      type: 'automatic',
      subscribe: 'type = "identify"',
      partnerAction: 'createAffiliate'
    })
    expect(preset && 'mapping' in preset ? preset.mapping : undefined).toEqual(defaultValues(createAffiliate.fields))
  })

  it('has automatic "Track Order" and "Cancel Order" presets with their subscriptions and default mappings', () => {
    expect(destination.presets?.map((p) => p.name)).toEqual(['Create Affiliate', 'Track Order', 'Cancel Order'])
    for (const [name, action, subscribe] of [
      ['Track Order', trackOrder, 'type = "track" and event = "Order Completed"'],
      ['Cancel Order', cancelOrder, 'type = "track" and (event = "Order Refunded" or event = "Order Cancelled")']
    ] as const) {
      const preset = destination.presets?.find((p) => p.name === name)
      expect(preset).toMatchObject({
        type: 'automatic',
        subscribe,
        partnerAction: name === 'Track Order' ? 'trackOrder' : 'cancelOrder'
      })
      expect(preset && 'mapping' in preset ? preset.mapping : undefined).toEqual(defaultValues(action.fields))
      expect(action.defaultSubscription).toBe(subscribe)
    }
    expect(destination.presets?.some((p) => 'partnerAction' in p && p.partnerAction === 'addConversionTrigger')).toBe(
      false
    )
  })

  it('removes affiliates on deletion requests through onDelete, not a second automatic subscription', () => {
    expect(typeof destination.onDelete).toBe('function')
    expect(destination.presets?.some((p) => 'partnerAction' in p && p.partnerAction === 'deleteAffiliate')).toBe(false)
    expect(deleteAffiliate.fields.status.default).toBe('DISABLED')
  })

  it('createAffiliate subscribes to identify and has every SPEC field with its type, requirement and default', () => {
    expect(createAffiliate.defaultSubscription).toBe('type = "identify"')
    const f = createAffiliate.fields
    const table: [string, string, boolean, unknown][] = [
      ['email', 'string', true, orElse('$.traits.email', orElse('$.email', at('$.context.traits.email')))],
      ['firstName', 'string', false, orElse('$.traits.firstName', at('$.traits.first_name'))],
      ['lastName', 'string', false, orElse('$.traits.lastName', at('$.traits.last_name'))],
      ['name', 'string', false, at('$.traits.name')],
      ['company', 'string', false, orElse('$.traits.company.name', at('$.traits.company'))],
      ['phone', 'string', false, at('$.traits.phone')],
      ['password', 'password', false, undefined],
      ['status', 'string', false, 'PENDING'],
      ['offer', 'string', false, undefined],
      ['sendWelcome', 'boolean', false, false],
      ['paypalEmail', 'string', false, undefined],
      ['conversionTriggerCoupon', 'string', false, undefined],
      ['uniqueMerchantId', 'string', false, at('$.userId')]
    ]
    for (const [key, type, required, def] of table) {
      expect({ key, type: f[key]?.type, required: f[key]?.required === true, default: f[key]?.default }).toEqual({
        key,
        type,
        required,
        default: def
      })
    }
    expect(f.email.format).toBe('email')
    expect(f.status.choices).toEqual([
      { label: 'Pending', value: 'PENDING' },
      { label: 'Active', value: 'ACTIVE' }
    ])
    expect(f.address.type).toBe('object')
    expect(Object.keys(f.address.properties ?? {})).toEqual(['street', 'city', 'state', 'postalCode', 'country'])
    // SPEC: `traits.address`, with `postal_code` accepted as well as `postalCode` (read by the action).
    expect(f.address.default).toEqual(at('$.traits.address'))
    expect(f.address.additionalProperties).toBe(true)
  })

  it('deleteAffiliate has the SPEC fields with DISABLED as default status', () => {
    expect(deleteAffiliate.defaultSubscription).toBe('type = "delete"')
    const f = deleteAffiliate.fields
    expect(f.affiliateId.type).toBe('string')
    expect(f.affiliateId.required).not.toBe(true)
    expect(f.affiliateId.default).toBeUndefined()
    expect(f.email.type).toBe('string')
    expect(f.email.default).toEqual(orElse('$.traits.email', orElse('$.email', at('$.context.traits.email'))))
    expect(f.userId.default).toEqual(at('$.userId'))
    expect(f.status.default).toBe('DISABLED')
    expect(f.status.choices).toEqual([
      { label: 'Disabled', value: 'DISABLED' },
      { label: 'Denied', value: 'DENIED' }
    ])
    for (const key of ['affiliateId', 'email', 'userId', 'status']) expect(f[key].required).not.toBe(true)
  })

  it('every action supports batching (performBatch, enable_batching, hidden batch_size)', () => {
    for (const action of Object.values(destination.actions)) {
      expect(typeof action.performBatch).toBe('function')
      expect(action.fields.enable_batching).toMatchObject({ type: 'boolean', default: true })
      expect(action.fields.batch_size).toMatchObject({ type: 'number', unsafe_hidden: true, default: 50 })
    }
  })
})

describe('API key format, through extendRequest (the path every request takes)', () => {
  const identify: Partial<SegmentEvent> = {
    type: 'identify',
    userId: 'u-1',
    traits: { email: 'peter@initech.com', name: 'Peter Gibbons' }
  }

  it.each([
    ['no dot', 'pub_ab12sec_cd34', 'pub_ab12sec_cd34'],
    ['empty public half', '.s3cr3tXYZ', 's3cr3tXYZ'],
    ['empty secret half', 'pub_ab12.', ''],
    ['blank halves', ' . ', ''],
    ['a space in the secret', 'pub_ab12.s3cr3t XYZ', 's3cr3t XYZ'],
    ['non-ASCII in the secret', 'pub_ab12.s3crét9', 's3crét9'],
    ['non-ASCII in the public key', 'püb_ab12.s3cr3tXYZ', 's3cr3tXYZ']
  ])('rejects %s with a 400 naming publickey.secretkey; nothing is sent', async (_, apiKey, secret) => {
    const anyRequest = trap()
    const error = await caught(() =>
      testDestination.testAction('createAffiliate', { event: identify, settings: { apiKey }, useDefaultMappings: true })
    )
    expect(anyRequest.isDone()).toBe(false)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error.status).toBe(400)
    expect(error.message).toContain('publickey.secretkey')
    if (secret) expect(error.message).not.toContain(secret)
  })

  it('rejects a bad key in deleteAffiliate, onDelete and testAuthentication too, sending nothing', async () => {
    const anyRequest = trap()
    const apiKey = 'pub_ab12.s3cr3t XYZ'
    const errors = [
      await caught(() =>
        testDestination.testAction('deleteAffiliate', {
          event: { type: 'delete', userId: 'u-1' },
          settings: { apiKey },
          mapping: { affiliateId: '1' },
          useDefaultMappings: true
        })
      ),
      await caught(async () =>
        testDestination.onDelete?.({ type: 'delete', userId: 'u-1' } as SegmentEvent, { apiKey })
      ),
      await caught(() => testDestination.testAuthentication({ apiKey }))
    ]
    expect(anyRequest.isDone()).toBe(false)
    for (const error of errors) {
      expect(error.message).toContain('publickey.secretkey')
      expect(error.message).not.toContain('s3cr3t XYZ')
    }
  })

  it('splits at the FIRST dot: pub.sec.more sends secret "sec.more", with Content-Type', async () => {
    const scope = refersion({ publicKey: 'pub_1', secretKey: 'sec.more' })
      .post(p('/affiliate/list'), { limit: '1', page: '1' })
      .reply(200, { total: 0, results: [] })
    await testDestination.testAuthentication({ apiKey: 'pub_1.sec.more' })
    expect(scope.isDone()).toBe(true)
  })

  it('sends both halves and Content-Type: application/json on action requests', async () => {
    const headers: Record<string, string | string[] | undefined>[] = []
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [7], status: 'DISABLED' })
      .reply(200, function () {
        headers.push(this.req.headers)
        return { ids_changed: [7], ids_not_changed: [] }
      })
    await testDestination.testAction('deleteAffiliate', {
      event: { type: 'delete', userId: 'u-1' },
      settings,
      mapping: { affiliateId: '7' },
      useDefaultMappings: true
    })
    expect(scope.isDone()).toBe(true)
    // nock 13 (Segment's monorepo) gives each header value as an array, nock 14 as a string.
    const flat = Object.fromEntries(
      Object.entries(headers[0]).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value])
    )
    expect(flat).toMatchObject({
      'refersion-public-key': PUBLIC_KEY,
      'refersion-secret-key': SECRET_KEY,
      'content-type': 'application/json'
    })
  })
})

describe('testAuthentication', () => {
  it('sends exactly one POST /affiliate/list {"limit":"1","page":"1"} and accepts a 200', async () => {
    const scope = refersion()
      .post(p('/affiliate/list'), { limit: '1', page: '1' })
      .reply(200, { total: 3, results: [{ id: 'a3y7' }] })
    await expect(testDestination.testAuthentication(settings)).resolves.toBeUndefined()
    expect(scope.isDone()).toBe(true)
    expect(nock.pendingMocks()).toEqual([])
  })

  it('turns a 401 into a message saying the key pair was rejected, without the secret', async () => {
    const scope = refersion()
      .post(p('/affiliate/list'), { limit: '1', page: '1' })
      .reply(401, { error: `Invalid API credentials (error 2). ${SECRET_KEY}` })
    const error = await caught(() => testDestination.testAuthentication(settings))
    expect(scope.isDone()).toBe(true)
    expect(error.message).toMatch(/rejected this key pair/)
    expect(error.message).toContain('publickey.secretkey')
    expect(error.message).not.toContain(SECRET_KEY)
  })

  it('does not accept a failing answer (422 plan without API access)', async () => {
    refersion()
      .post(p('/affiliate/list'))
      .reply(422, { errors: ['Your account plan does not support this feature (error 1)'] })
    const error = await caught(() => testDestination.testAuthentication(settings))
    expect(error.message).toContain('does not support this feature')
  })

  it('is rejected by the settings schema when apiKey is missing', async () => {
    const anyRequest = trap()
    await expect(testDestination.testAuthentication({} as typeof settings)).rejects.toThrow(/apiKey/)
    expect(anyRequest.isDone()).toBe(false)
  })
})

describe('base URL', () => {
  const saved = process.env.REFERSION_BASE_URL
  afterEach(() => {
    if (saved === undefined) delete process.env.REFERSION_BASE_URL
    else process.env.REFERSION_BASE_URL = saved
  })

  it('uses production when REFERSION_BASE_URL is unset and the override when it is set', async () => {
    expect(process.env.REFERSION_BASE_URL).toBeUndefined()
    const production = refersion()
      .post(p('/affiliate/list'), { limit: '1', page: '1' })
      .reply(200, { total: 0, results: [] })
    await testDestination.testAuthentication(settings)
    expect(production.isDone()).toBe(true)

    process.env.REFERSION_BASE_URL = 'http://sandbox.test:4010/v2/'
    const sandbox = nock('http://sandbox.test:4010')
      .matchHeader('Refersion-Secret-Key', SECRET_KEY)
      .post('/v2/affiliate/list', { limit: '1', page: '1' })
      .reply(200, { total: 0, results: [] })
    const untouched = refersion().post(/.*/).reply(500)
    await testDestination.testAuthentication(settings)
    expect(sandbox.isDone()).toBe(true)
    expect(untouched.isDone()).toBe(false)
    nock.cleanAll()

    delete process.env.REFERSION_BASE_URL
    const again = refersion().post(p('/affiliate/list')).reply(200, { total: 0, results: [] })
    await testDestination.testAuthentication(settings)
    expect(again.isDone()).toBe(true)
  })
})
