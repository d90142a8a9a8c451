/**
 * End to end, the README's manual credits walkthrough: `./bin/run serve` (default: the built-in sandbox) as a real
 * child process, driven over HTTP with the walkthrough's bodies. An affiliate → a $25 bounty by its code from a
 * trait (get, then one credit) → a clawback by email (one request: remembered) → an order tracked without
 * attribution is credited to the affiliate later, and again (Refersion's Error 6: a success that changed nothing)
 * → with the sandbox applying and then dropping the connection, a credit fails final, "may have been credited",
 * and is recorded exactly once.
 */
import { Answer, freePort, poster, read, Served, startServe, Transcript } from './helpers'

const SECRET = 'sec_demo'
const settings = { apiKey: `pub_demo.${SECRET}` }

let served: Served
let post: ReturnType<typeof poster>
const transcript = new Transcript()

beforeAll(async () => {
  served = await startServe([
    '--port',
    String(await freePort()),
    '--sandbox-port',
    String(await freePort()),
    '--no-watch'
  ])
  post = poster(served.url, transcript)
}, 60_000)

afterAll(async () => {
  await served?.cli.stop()
})

async function sandbox(path: string, body?: unknown) {
  const init =
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  return transcript.record(await read(await fetch(`${served.sandboxUrl}${path}`, init))).json
}

/** Each exchange's path, request body and answer status. */
function exchanges(answer: Answer) {
  expect(answer.status).toBe(200)
  return (answer.json as { request: { url: string; body: string }; response: { statusCode: number } }[]).map((e) => ({
    path: new URL(e.request.url).pathname,
    body: JSON.parse(e.request.body),
    status: e.response.statusCode
  }))
}

const resultOf = (answer: Answer) => JSON.parse(answer.headers.get('x-serve-result') ?? 'null')

test('serve lists both credit routes', () => {
  expect(served.cli.output).toContain('  POST /creditCommission\n')
  expect(served.cli.output).toContain('  POST /creditOrder\n')
})

test('walkthrough: bounty by code, clawback by email, late order credit twice, and at most once under a cut', async () => {
  await post('/createAffiliate', {
    settings,
    payload: {
      type: 'identify',
      userId: 'samir-n',
      traits: { name: 'Samir Nagheenanajar', email: 'samir@initech.com' }
    }
  })
  const samir = (await sandbox('/_sandbox/affiliates')).affiliates.find(
    (a: { email: string }) => a.email === 'samir@initech.com'
  )

  const bounty = await post('/creditCommission', {
    settings,
    payload: {
      type: 'track',
      event: 'Signed Up',
      messageId: 'msg-signup-1',
      userId: 'new-lead-1',
      context: { traits: { referred_by: samir.code } }
    },
    mapping: { affiliateId: { '@path': '$.context.traits.referred_by' }, commission: 25, currency: 'USD' }
  })
  expect(exchanges(bounty)).toEqual([
    { path: '/v2/affiliate/get', body: { affiliate_code: samir.code }, status: 200 },
    {
      path: '/v2/conversion/manual_credit',
      body: {
        id: samir.id,
        commission: 25,
        status: 'PENDING',
        currency: 'USD',
        notes: 'Segment: Signed Up (messageId msg-signup-1)'
      },
      status: 200
    }
  ])
  expect(resultOf(bounty)).toMatchObject({
    outcome: 'credited',
    affiliate_id: samir.id,
    conversion_id: expect.any(Number)
  })

  const clawback = await post('/creditCommission', {
    settings,
    payload: {
      type: 'track',
      event: 'Trial Cancelled',
      messageId: 'msg-churn-1',
      properties: { affiliate_email: 'samir@initech.com' }
    },
    mapping: { email: { '@path': '$.properties.affiliate_email' }, commission: -25 }
  })
  expect(exchanges(clawback)).toEqual([
    {
      path: '/v2/conversion/manual_credit',
      body: {
        id: samir.id,
        commission: -25,
        status: 'PENDING',
        notes: 'Segment: Trial Cancelled (messageId msg-churn-1)'
      },
      status: 200
    }
  ])

  await post('/trackOrder', {
    settings,
    payload: {
      type: 'track',
      event: 'Order Completed',
      properties: {
        order_id: '2001',
        checkout_id: 'chk-2001',
        currency: 'usd',
        products: [{ sku: 'TPS-COVER', price: 9.99, quantity: 3 }]
      }
    }
  })
  const credit = {
    settings,
    payload: {
      type: 'track',
      event: 'Order Attributed',
      messageId: 'msg-attr-1',
      properties: { order_id: '2001', influencer: 'samir@initech.com' }
    },
    mapping: { email: { '@path': '$.properties.influencer' } }
  }
  const first = await post('/creditOrder', credit)
  expect(exchanges(first)).toEqual([
    {
      path: '/v2/conversion/manual_credit_order_id',
      body: { id: samir.id, order_id: '2001', notes: 'Segment: Order Attributed (messageId msg-attr-1)' },
      status: 200
    }
  ])
  expect(resultOf(first)).toMatchObject({ outcome: 'credited', order_id: '2001' })
  const second = await post('/creditOrder', credit)
  expect(exchanges(second).map((e) => e.status)).toEqual([422])
  expect(resultOf(second)).toMatchObject({ outcome: 'already_credited', changed: false })

  await sandbox('/_sandbox/faults', { applyThenDropRate: 1 })
  const cut = await post('/creditCommission', {
    settings,
    payload: { type: 'track', event: 'Signed Up', messageId: 'msg-signup-2', properties: { commission: 25 } },
    mapping: { affiliateId: String(samir.id) }
  })
  await sandbox('/_sandbox/faults', { applyThenDropRate: 0 })
  expect(cut.json[0]).toMatchObject({ requestError: true, statusCode: 409 })
  expect(cut.json[0].message).toContain('may have been credited')
  expect(cut.json[0].message).toContain('"Segment: Signed Up (messageId msg-signup-2)"')

  const ledger = await sandbox('/_sandbox/conversions')
  expect(ledger.manual_credits.map((c: { commission: number; notes: string }) => [c.commission, c.notes])).toEqual([
    [25, 'Segment: Signed Up (messageId msg-signup-1)'],
    [-25, 'Segment: Trial Cancelled (messageId msg-churn-1)'],
    [25, 'Segment: Signed Up (messageId msg-signup-2)']
  ])
  expect(ledger.conversions.find((o: { order_id: string }) => o.order_id === '2001')).toMatchObject({
    affiliate: { id: samir.id },
    credited_by: 'manual',
    manual_order_credits: [expect.objectContaining({ affiliate_id: samir.id })]
  })
  expect(transcript.all).not.toContain(SECRET)
  expect(served.cli.output).not.toContain(SECRET)
})
