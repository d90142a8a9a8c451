import { REQUEST_SCHEMAS, RunningSandbox, checkRequest, startSandbox } from '../../tools/sandbox'
import { api, create, newAffiliate, track } from './helpers'

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 77 })
})

afterAll(async () => {
  await sandbox.close()
})

beforeEach(() => sandbox.reset())

/** Everything a request could change. */
function state(): unknown {
  return {
    affiliates: sandbox.store.all(),
    triggers: sandbox.store.allTriggers(),
    orders: sandbox.conversions(),
    manualCredits: sandbox.manualCredits()
  }
}

interface Fixture {
  id: number
  code: string
}

/** Per operation: a valid body, then bodies with an undocumented field, a wrong type, and a missing field. */
const CASES: Record<
  string,
  {
    valid: (f: Fixture) => Record<string, unknown>
    undocumented: (f: Fixture) => Record<string, unknown>[]
    wrongType: (f: Fixture) => Record<string, unknown>[]
    missing?: (f: Fixture) => [Record<string, unknown>, string]
  }
> = {
  '/affiliate/new': {
    valid: () => newAffiliate({ email: 'new@example.com' }),
    undocumented: () => [newAffiliate({ email: 'new@example.com', nickname: 'pete' })],
    wrongType: () => [
      newAffiliate({ email: 'new@example.com', offer: 42 }),
      newAffiliate({ email: 'new@example.com', send_welcome: true }),
      newAffiliate({ email: 'new@example.com', company: null })
    ],
    missing: () => [newAffiliate({ email: 'new@example.com', password: undefined }), 'password']
  },
  '/affiliate/edit': {
    valid: ({ id }) => ({ affiliates: [{ id, city: 'Austin', offer: 7 }] }),
    undocumented: ({ id }) => [
      { affiliates: [{ id, city: 'Austin', unique_merchant_id: 'u-1' }] },
      { affiliates: [{ id, city: 'Austin', conversion_trigger_coupon: 'X10' }] },
      { affiliates: [{ id, status: 'DISABLED' }] },
      { affiliates: [{ id, company_name: 'Initrode' }] }
    ],
    wrongType: ({ id }) => [
      { affiliates: [{ id, city: 'Austin', offer: '7' }] },
      { affiliates: [{ id: String(id), city: 'Austin' }] },
      { affiliates: { id, city: 'Austin' } }
    ],
    missing: () => [{ affiliates: [{ city: 'Austin' }] }, 'affiliates[0].id']
  },
  '/affiliate/get': {
    valid: ({ code }) => ({ affiliate_code: code }),
    undocumented: ({ code }) => [{ affiliate_code: code, include: 'all' }],
    wrongType: () => [{ affiliate_code: 5 }, { id: [1] }],
    missing: () => [{ affiliate_code: '' }, 'id or affiliate_code']
  },
  '/affiliate/search': {
    valid: () => ({ keyword: 'example.com', page: '1' }),
    undocumented: () => [{ keyword: 'example.com', limit: '5' }],
    wrongType: () => [{ keyword: 'example.com', page: 1 }, { keyword: 37569297 }],
    missing: () => [{ page: '1' }, 'keyword']
  },
  '/affiliate/list': {
    valid: () => ({ limit: '5', page: '1' }),
    undocumented: () => [{ limit: '5', offset: '0' }],
    wrongType: () => [
      { limit: 5, page: '1' },
      { limit: '5', page: 1 }
    ]
  },
  '/affiliate/status_change': {
    valid: ({ id }) => ({ ids: [id], status: 'DISABLED' }),
    undocumented: ({ id }) => [{ ids: [id], status: 'DISABLED', reason: 'left' }],
    wrongType: ({ id }) => [
      { ids: [String(id)], status: 'DISABLED' },
      { ids: id, status: 'DISABLED' }
    ],
    missing: ({ id }) => [{ ids: [id] }, 'status']
  },
  '/affiliate/trigger': {
    valid: ({ code }) => ({ affiliate_code: code, type: 'COUPON', trigger: 'NEW10' }),
    undocumented: ({ code, id }) => [{ affiliate_code: code, type: 'COUPON', trigger: 'NEW10', affiliate_id: id }],
    wrongType: ({ code }) => [{ affiliate_code: code, type: 'COUPON', trigger: 10 }],
    missing: ({ code }) => [{ affiliate_code: code, type: 'COUPON' }, 'trigger']
  },
  '/trigger/delete': {
    valid: ({ id }) => ({ affiliates: [{ id, type: 'COUPON', trigger: 'OLD10' }] }),
    undocumented: ({ id }) => [{ affiliates: [{ id, type: 'COUPON', trigger: 'OLD10', affiliate_code: 'x' }] }],
    wrongType: ({ id }) => [{ affiliates: [{ id: String(id), type: 'COUPON', trigger: 'OLD10' }] }],
    missing: ({ id }) => [{ affiliates: [{ id, trigger: 'OLD10' }] }, 'affiliates[0].type']
  },
  '/conversion/cancel': {
    valid: () => ({ order_id: 'o-1', items: [{ sku: 'tee', price: 10, quantity: 1 }] }),
    undocumented: () => [{ order_id: 'o-1', items: [{ sku: 'tee', price: 10, quantity: 1 }], reason: 'refund' }],
    wrongType: () => [
      { order_id: 1, items: [{ sku: 'tee', price: 10, quantity: 1 }] },
      { order_id: 'o-1', items: [{ sku: 'tee', price: '10', quantity: 1 }] },
      { order_id: 'o-1', items: [{ sku: 'tee', price: 10, quantity: 1.5 }] }
    ],
    missing: () => [{ order_id: 'o-1', items: [{ price: 10 }] }, 'items[0].sku']
  },
  '/conversion/manual_credit': {
    valid: ({ id }) => ({ id, commission: 25, status: 'PENDING', currency: 'USD', notes: 'Signup bonus' }),
    undocumented: ({ id }) => [
      { affiliate_id: id, commission: 25, status: 'PENDING' },
      { id, commission: 25, status: 'PENDING', order_id: 'o-1' }
    ],
    wrongType: ({ id }) => [
      { id, commission: '25', status: 'PENDING' },
      { id: String(id), commission: 25, status: 'PENDING' },
      { id: id + 0.5, commission: 25, status: 'PENDING' },
      { id, commission: 25, status: 'PENDING', currency: 840 },
      { id, commission: 25, status: 'PENDING', notes: null }
    ],
    missing: ({ id }) => [{ id, status: 'PENDING' }, 'commission']
  },
  '/conversion/manual_credit_order_id': {
    valid: ({ id }) => ({ id, order_id: 'o-1', status: 'APPROVED', notes: 'Phone order' }),
    undocumented: ({ id }) => [
      { affiliate_id: id, order_id: 'o-1' },
      { id, order_id: 'o-1', commission: 5 }
    ],
    wrongType: ({ id }) => [
      { id, order_id: 1 },
      { id: String(id), order_id: 'o-1' },
      { id, order_id: 'o-1', status: true }
    ],
    missing: ({ id }) => [{ id, status: 'APPROVED' }, 'order_id']
  }
}

/** An affiliate with the coupon OLD10 and a credited order o-1 of one tee. */
async function fixture(): Promise<Fixture> {
  const f = await create(sandbox, { email: 'fixture@example.com', conversion_trigger_coupon: 'OLD10' })
  const order = await track(sandbox, {
    order_id: 'o-1',
    items: [{ sku: 'tee', quantity: 2, price: 10 }],
    auto_credit_affiliate_id: f.code
  })
  expect(order.status).toBe(200)
  return f
}

describe.each(Object.entries(CASES))('contract of %s', (operation, cases) => {
  it('accepts the valid body (so the rejections below are about the one field)', async () => {
    const f = await fixture()
    const res = await api(sandbox, operation, cases.valid(f))
    expect(res.status).toBe(200)
    expect(checkRequest(operation, cases.valid(f))).toEqual({ ok: true })
  })

  it('answers an undocumented field or a wrong type with 204, an empty body, and changes nothing', async () => {
    const f = await fixture()
    const bodies = [...cases.undocumented(f), ...cases.wrongType(f)]
    const before = state()
    for (const body of bodies) {
      const res = await api(sandbox, operation, body)
      expect([JSON.stringify(body), res.status, res.text]).toEqual([JSON.stringify(body), 204, ''])
      expect(checkRequest(`/v2${operation}`, body)).toMatchObject({ ok: false, kind: 'invalid_field' })
    }
    expect(state()).toEqual(before)
    expect(sandbox.stats().contractRejections).toBe(bodies.length)
    const rejected = sandbox.requests().filter((r) => r.status === 204)
    expect(rejected).toHaveLength(bodies.length)
    expect(rejected.every((r) => r.path === `/v2${operation}` && typeof r.rejection === 'string')).toBe(true)
  })

  if (cases.missing) {
    const missing = cases.missing
    it('answers a missing required field with 400 naming it, and changes nothing', async () => {
      const f = await fixture()
      const [body, field] = missing(f)
      const before = state()
      const res = await api(sandbox, operation, body)
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: `Missing required field ${field}` })
      expect(state()).toEqual(before)
      expect(checkRequest(operation, body)).toMatchObject({ ok: false, kind: 'missing_field', field })
    })
  }
})

describe('checkRequest', () => {
  it('has a schema for every operation the sandbox serves, and refuses unknown operations', () => {
    expect(Object.keys(REQUEST_SCHEMAS).sort()).toEqual([...Object.keys(CASES), '/tracker/orders/paid'].sort())
    expect(checkRequest('/v2/affiliate/delete', { id: 1 })).toMatchObject({ ok: false, kind: 'unknown_operation' })
  })

  it('prefers the invalid field to the missing one, and names nested fields', () => {
    expect(checkRequest('/affiliate/edit', { affiliates: [{ offer: '1' }] })).toMatchObject({
      kind: 'invalid_field',
      field: 'affiliates[0].offer'
    })
    expect(checkRequest('/v2/affiliate/edit?x=1', { affiliates: [{ id: 1, nickname: 'x' }] })).toMatchObject({
      kind: 'invalid_field',
      field: 'affiliates[0].nickname'
    })
  })

  it('documents edit offer as a number and new offer as a string', () => {
    expect(checkRequest('/affiliate/edit', { affiliates: [{ id: 1, offer: 12 }] }).ok).toBe(true)
    expect(checkRequest('/affiliate/new', { ...newAffiliate(), offer: '12' }).ok).toBe(true)
    expect(checkRequest('/affiliate/new', { ...newAffiliate(), offer: 12 }).ok).toBe(false)
  })
})

describe('request log', () => {
  it('records every request with its parsed body and the status answered, faults included, and is bounded', async () => {
    const s = await startSandbox({ seed: 2, requestLogLimit: 3 })
    try {
      await api(s, '/affiliate/list', { limit: '1' })
      await api(s, '/affiliate/list', 'not json')
      s.setFaults({ errorRates: { 503: 1 } })
      await api(s, '/affiliate/search', { keyword: 'x' })
      s.setFaults({ errorRates: {}, resetRate: 1 })
      await api(s, '/affiliate/get', { id: 1 }).catch(() => undefined)
      const log = s.requests()
      expect(log.map((r) => [r.seq, r.path, r.body, r.status])).toEqual([
        [2, '/v2/affiliate/list', 'not json', 404],
        [3, '/v2/affiliate/search', { keyword: 'x' }, 503],
        [4, '/v2/affiliate/get', { id: 1 }, null]
      ])
      s.clearRequests()
      expect(s.requests()).toEqual([])
    } finally {
      await s.close()
    }
  })

  it('shows the log over HTTP with passwords redacted, and clears it', async () => {
    await api(sandbox, '/affiliate/new', newAffiliate({ email: 'log@example.com', nickname: 'x' }))
    const res = await (await fetch(`${sandbox.url}/_sandbox/requests`)).json()
    expect(res.total).toBe(1)
    expect(res.contractRejections).toBe(1)
    expect(res.requests[0]).toMatchObject({ path: '/v2/affiliate/new', status: 204 })
    expect(res.requests[0].body.password).toBe('<redacted>')
    expect(sandbox.requests()[0].body).toMatchObject({ email: 'log@example.com' })
    await fetch(`${sandbox.url}/_sandbox/requests/reset`, { method: 'POST' })
    expect(sandbox.requests()).toEqual([])
  })
})
