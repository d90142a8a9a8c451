import nock from 'nock'
import { p, PETER_EMAIL, refersion, searchResult, useOfflineNock } from './helpers'
import { orderCompleted, PAID, run, tracking } from './orders-fixtures'

useOfflineNock()

/** Records every JSON body a scope receives, with its path. */
function record(scope: nock.Scope) {
  const bodies: { path: string; body: unknown }[] = []
  scope.on('request', (req: { path: string }, _interceptor: unknown, body: string) => {
    bodies.push({ path: req.path, body: JSON.parse(body) })
  })
  return bodies
}

describe('conversion request body snapshots', () => {
  it('Spec v2 Order Completed → tracking webhook', async () => {
    const scope = tracking().post(PAID).reply(204)
    const bodies = record(scope)
    await run('trackOrder', orderCompleted(), { affiliateId: '37569297', subscriptionId: 'sub_7' })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })

  it('Order Refunded → /conversion/cancel', async () => {
    const scope = refersion().post(p('/conversion/cancel')).reply(200, { conversion_id: '11900254' })
    const bodies = record(scope)
    await run('cancelOrder', { ...orderCompleted(), event: 'Order Refunded' })
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })

  it('identify with a coupon → search → /affiliate/trigger', async () => {
    const scope = refersion()
      .post(p('/affiliate/search'))
      .reply(200, searchResult([{ id: 'a3y7', email: PETER_EMAIL }]))
      .post(p('/affiliate/trigger'))
      .reply(200, { trigger_id: 1097, trigger: 'PETER10' })
    const bodies = record(scope)
    await run(
      'addConversionTrigger',
      { type: 'identify', userId: 'u-1', traits: { email: PETER_EMAIL, coupon: 'PETER10' } },
      { trigger: { '@path': '$.traits.coupon' } }
    )
    expect(scope.isDone()).toBe(true)
    expect(bodies).toMatchSnapshot()
  })
})
