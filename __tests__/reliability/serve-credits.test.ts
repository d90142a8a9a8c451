/**
 * Hostile input to the manual credit routes of `./bin/run serve --sandbox`: malformed JSON, wrongly typed and huge
 * payloads to `/creditCommission` and `/creditOrder`. Every request gets a clear 4xx or an error array (never a
 * 500, never a crash), nothing refused is credited, nothing that breaks Refersion's contract reaches the sandbox,
 * the secret never shows, and a valid credit afterwards is still recorded exactly once.
 */
import { API_KEY, SECRET_KEY } from './helpers'
import { expectSane, useHostileServe } from './serve-process'

const settings = { apiKey: API_KEY }
const ROUTES = ['/creditCommission', '/creditOrder'] as const
const byId = (id: unknown) => ({ affiliateId: id })

const signedUp = (properties: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Signed Up',
  messageId: 'hostile-1',
  properties: { commission: 25, ...properties }
})
const attributed = (properties: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Order Attributed',
  properties: { order_id: 'never-tracked', ...properties }
})

const hostile = useHostileServe()
const { send, sandbox, answers } = hostile

describe('serve: hostile input on the manual credit routes', () => {
  it('malformed JSON is a 400 that says so, on each route', async () => {
    for (const route of ROUTES) {
      for (const body of ['{"payload": ', '{payload: {}}', '\u0000\u0001', `{"payload": {"properties": [}}`]) {
        const answer = await send(route, body)
        expect(answer.status).toBe(400)
        expect(answer.json.message).toMatch(/JSON/)
      }
    }
  })

  it('wrongly typed payloads get error arrays or 4xx, never a 500, and credit nothing', async () => {
    const cases: [string, unknown][] = [
      ['/creditCommission', 42],
      ['/creditCommission', { payload: 'Signed Up', settings }],
      ['/creditCommission', { payload: signedUp(), settings: 'pub.sec', mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp(), settings }],
      ['/creditCommission', { payload: signedUp({ commission: 'lots' }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ commission: { amount: 5 } }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ commission: [5] }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ commission: '1e999' }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ commission: 0 }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ commission: '-0' }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ currency: 840 }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp({ currency: 'dollars' }), settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: { ...byId('1'), status: 'PAID' } }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: byId({ nested: 1 }) }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: byId('999999999999999999999') }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: { email: 'nobody@hostile.test' } }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: { email: ['a@b.test'] } }],
      ['/creditCommission', { payload: signedUp(), settings, mapping: { ...byId('1'), notes: { '@path': 42 } } }],
      ['/creditCommission', { payload: [signedUp({ commission: 'x' }), 7, null], settings, mapping: byId('1') }],
      ['/creditCommission', { payload: signedUp(), settings: { apiKey: 'no-dot' }, mapping: byId('1') }],
      ['/creditOrder', { payload: attributed(), settings }],
      ['/creditOrder', { payload: attributed({ order_id: { id: 1 } }), settings, mapping: byId('1') }],
      ['/creditOrder', { payload: attributed({ order_id: '' }), settings, mapping: byId('1') }],
      ['/creditOrder', { payload: attributed(), settings, mapping: { ...byId('1'), status: 'DONE' } }],
      ['/creditOrder', { payload: attributed(), settings, mapping: byId('1') }],
      ['/creditOrder', { payload: attributed(), settings, mapping: { email: 'nobody@hostile.test' } }],
      ['/creditOrder', { payload: [attributed(), 'x', []], settings, mapping: byId('1') }]
    ]
    for (const [route, body] of cases) expectSane(await send(route, body as object), `${route} ${JSON.stringify(body)}`)
    const ledger = await sandbox('/_sandbox/conversions')
    expect(ledger.manual_credits).toEqual([])
    expect((await sandbox('/_sandbox/stats')).contractRejections).toBe(0)
    expect(hostile.serve.alive()).toBe(true)
  })

  it('huge payloads: 10 MB is a 413; megabyte notes, codes and order ids are answered, deep nesting too', async () => {
    const tenMb = JSON.stringify({ payload: signedUp({ note: 'N'.repeat(10 * 1024 * 1024) }), settings })
    expect((await send('/creditCommission', tenMb)).status).toBe(413)
    const big = 'B'.repeat(2 << 20)
    expectSane(await send('/creditCommission', { payload: signedUp(), settings, mapping: byId(big) }), 'big code')
    expectSane(
      await send('/creditOrder', { payload: attributed({ order_id: big }), settings, mapping: byId('1') }),
      'big order id'
    )
    const deep = `{"payload": {"type": "track", "properties": {"commission": ${'['.repeat(5000)}${']'.repeat(
      5000
    )}}}, "settings": ${JSON.stringify(settings)}, "mapping": {"affiliateId": "1"}}`
    expect((await send('/creditCommission', deep)).status).toBeLessThan(500)
    expect(hostile.serve.alive()).toBe(true)
  }, 60_000)

  it('afterwards a valid credit and a valid order credit are recorded exactly once; the secret never showed', async () => {
    await send('/createAffiliate', {
      payload: { type: 'identify', userId: 'after-2', traits: { name: 'After Credit', email: 'credit@hostile.test' } },
      settings
    })
    const affiliate = (await sandbox('/_sandbox/affiliates')).affiliates.find(
      (a: { email: string }) => a.email === 'credit@hostile.test'
    )
    const credited = await send('/creditCommission', {
      payload: { ...signedUp(), messageId: 'after-credit' },
      settings,
      mapping: { email: 'credit@hostile.test' }
    })
    expect(expectSane(credited, 'credit')).toBe('sent')
    await send('/trackOrder', {
      payload: {
        type: 'track',
        event: 'Order Completed',
        properties: { order_id: 'after-late', currency: 'usd', products: [{ sku: 'A', price: 3 }] }
      },
      settings
    })
    const late = await send('/creditOrder', {
      payload: attributed({ order_id: 'after-late' }),
      settings,
      mapping: byId(String(affiliate.id))
    })
    expect(expectSane(late, 'order credit')).toBe('sent')
    const ledger = await sandbox('/_sandbox/conversions')
    expect(ledger.manual_credits).toEqual([
      expect.objectContaining({
        affiliate_id: affiliate.id,
        commission: 25,
        notes: 'Segment: Signed Up (messageId after-credit)'
      })
    ])
    expect(ledger.conversions.find((o: { order_id: string }) => o.order_id === 'after-late')).toMatchObject({
      affiliate: { id: affiliate.id },
      credited_by: 'manual'
    })
    for (const answer of answers) expect(answer.text).not.toContain(SECRET_KEY)
    expect(hostile.serve.lines.join('\n')).not.toContain(SECRET_KEY)
  })
})
