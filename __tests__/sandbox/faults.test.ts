import { RunningSandbox, sandboxOptionsFromEnv, startSandbox } from '../../tools/sandbox'
import { AUTH, api, newAffiliate, read } from './helpers'

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 99 })
})

afterAll(async () => {
  await sandbox.close()
})

beforeEach(() => sandbox.reset())

const LIST = { limit: '1', page: '1' }

describe('fault injection', () => {
  it.each([
    [429, { error: 'Too many requests' }],
    [500, { error: 'Internal server error' }],
    [503, { error: 'Service unavailable' }]
  ] as const)('injects %d before applying the request', async (status, body) => {
    sandbox.setFaults({ errorRates: { [status]: 1 }, retryAfterSeconds: 7 })
    const res = await api(sandbox, '/affiliate/new', newAffiliate())
    expect(res.status).toBe(status)
    expect(res.json).toEqual(body)
    expect(res.headers.get('retry-after')).toBe(status === 429 ? '7' : null)
    expect(sandbox.store.size).toBe(0)
    expect(sandbox.stats().faultsInjected).toEqual({ [String(status)]: 1 })
  })

  it('injects faults before auth (they model the infrastructure in front of the API)', async () => {
    sandbox.setFaults({ errorRates: { 503: 1 } })
    const res = await api(sandbox, '/affiliate/list', LIST, { 'Content-Type': 'application/json' })
    expect(res.status).toBe(503)
  })

  it('injects errors at the configured rate, deterministically for a seed', async () => {
    const run = async (): Promise<number[]> => {
      const s = await startSandbox({ seed: 5, errorRates: { 500: 0.3 } })
      try {
        const statuses: number[] = []
        for (let i = 0; i < 40; i++) statuses.push((await api(s, '/affiliate/list', LIST)).status)
        return statuses
      } finally {
        await s.close()
      }
    }
    const first = await run()
    expect(await run()).toEqual(first)
    const failures = first.filter((s) => s === 500).length
    expect(failures).toBeGreaterThan(3)
    expect(failures).toBeLessThan(25)
  })

  it('rate-limits per public key with a fixed window and answers 429 with Retry-After', async () => {
    sandbox.setFaults({ rateLimit: { requests: 3, perMs: 60000 } })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await api(sandbox, '/affiliate/list', LIST)).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    const limited = await api(sandbox, '/affiliate/list', LIST)
    expect(limited.json).toEqual({ error: 'Too many requests' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59)
    const other = await api(sandbox, '/affiliate/list', LIST, { ...AUTH, 'Refersion-Public-Key': 'pub_other' })
    expect(other.status).toBe(200)
    expect(sandbox.stats().faultsInjected.rateLimit).toBe(3)
  })

  it('reopens the rate-limit window after perMs', async () => {
    sandbox.setFaults({ rateLimit: { requests: 1, perMs: 150 } })
    expect((await api(sandbox, '/affiliate/list', LIST)).status).toBe(200)
    const limited = await api(sandbox, '/affiliate/list', LIST)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    await new Promise((r) => setTimeout(r, 200))
    expect((await api(sandbox, '/affiliate/list', LIST)).status).toBe(200)
  })

  it('reset: destroys the connection and applies nothing', async () => {
    sandbox.setFaults({ resetRate: 1 })
    await expect(api(sandbox, '/affiliate/new', newAffiliate())).rejects.toThrow()
    expect(sandbox.store.size).toBe(0)
    expect(sandbox.stats().faultsInjected.reset).toBe(1)
  })

  it('applyThenDrop: applies the request, then destroys the connection without answering', async () => {
    sandbox.setFaults({ applyThenDropRate: 1 })
    await expect(api(sandbox, '/affiliate/new', newAffiliate({ email: 'dropped@example.com' }))).rejects.toThrow()
    expect(sandbox.store.getByEmail('dropped@example.com')).toBeDefined()
    sandbox.setFaults({ applyThenDropRate: 0 })
    const retry = await api(sandbox, '/affiliate/new', newAffiliate({ email: 'dropped@example.com' }))
    expect(retry.status).toBe(422)
    expect(retry.json).toEqual({ errors: ['The email you have entered is taken by another Affiliate.'] })
  })

  it('applyThenError: applies the request, then answers 500, 502 or 504', async () => {
    sandbox.setFaults({ applyThenErrorRate: 1 })
    const answer = await api(sandbox, '/affiliate/new', newAffiliate({ email: 'applied@example.com' }))
    expect([500, 502, 504]).toContain(answer.status)
    expect(sandbox.store.getByEmail('applied@example.com')).toBeDefined()
    expect(sandbox.stats().faultsInjected.applyThenError).toBe(1)
    sandbox.setFaults({ applyThenErrorRate: 0 })
    expect((await api(sandbox, '/affiliate/new', newAffiliate({ email: 'applied@example.com' }))).status).toBe(422)
  })

  it('adds latency, jitter and spikes', async () => {
    sandbox.setFaults({ latencyMs: 120, latencyJitterMs: 30 })
    let started = Date.now()
    expect((await api(sandbox, '/affiliate/list', LIST)).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(118)

    sandbox.setFaults({ latencyMs: 0, latencyJitterMs: 0, spikeRate: 1, spikeMs: 150 })
    started = Date.now()
    expect((await api(sandbox, '/affiliate/list', LIST)).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(148)
    expect(sandbox.stats().faultsInjected.spike).toBe(1)
  })

  it('does not apply faults to unknown paths or inspection routes', async () => {
    sandbox.setFaults({ errorRates: { 500: 1 } })
    expect((await api(sandbox, '/nope', LIST)).status).toBe(404)
    expect((await fetch(`${sandbox.url}/_sandbox/stats`)).status).toBe(200)
  })

  it('close() does not wait for a pending latency spike', async () => {
    const s = await startSandbox({ spikeRate: 1, spikeMs: 60000 })
    const pending = api(s, '/affiliate/list', LIST)
    pending.catch(() => undefined)
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await s.close()
    expect(Date.now() - started).toBeLessThan(2000)
    await expect(pending).rejects.toThrow()
  })

  it('validates fault knobs', async () => {
    expect(() => sandbox.setFaults({ resetRate: 2 })).toThrow(/resetRate/)
    expect(() => sandbox.setFaults({ latencyMs: -1 })).toThrow(/latencyMs/)
    expect(() => sandbox.setFaults({ rateLimit: { requests: 0, perMs: 10 } })).toThrow(/rateLimit.requests/)
    await expect(startSandbox({ errorRates: { 500: 1.5 } })).rejects.toThrow(/errorRates.500/)
  })
})

describe('inspection routes', () => {
  it('GET / describes the sandbox', async () => {
    const res = await read(await fetch(sandbox.url + '/'))
    expect(res.status).toBe(200)
    expect(res.json.apiBaseUrl).toBe(sandbox.apiBaseUrl)
    expect(res.json.api).toContain('POST /v2/affiliate/new')
    expect(res.json.inspection).toContain('GET /_sandbox/affiliates')
  })

  it('GET /_sandbox/affiliates lists every affiliate, without auth', async () => {
    await api(sandbox, '/affiliate/new', newAffiliate({ email: 'peter@initech.com' }))
    const res = await read(await fetch(`${sandbox.url}/_sandbox/affiliates`))
    expect(res.status).toBe(200)
    expect(res.json.total).toBe(1)
    expect(res.json.affiliates[0]).toMatchObject({ id: 37569297, email: 'peter@initech.com', status: 'ACTIVE' })
  })

  it('GET /_sandbox/stats counts API requests per route and status', async () => {
    await api(sandbox, '/affiliate/list', LIST)
    await api(sandbox, '/affiliate/list', LIST, {})
    await api(sandbox, '/affiliate/unknown', LIST)
    const res = await read(await fetch(`${sandbox.url}/_sandbox/stats`))
    expect(res.json).toEqual({
      total: 3,
      byRoute: { '/v2/affiliate/list': 2, '(unknown)': 1 },
      faultsInjected: {},
      byStatus: { '200': 1, '401': 1, '404': 1 },
      contractRejections: 0
    })
    expect(sandbox.stats()).toEqual(res.json)
  })

  it('POST /_sandbox/faults applies a partial set and returns the current faults; bad values are 400', async () => {
    const res = await read(
      await fetch(`${sandbox.url}/_sandbox/faults`, {
        method: 'POST',
        body: JSON.stringify({ errorRates: { 503: 1 } })
      })
    )
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ errorRates: { 503: 1 }, latencyMs: 0, retryAfterSeconds: 1 })
    expect((await api(sandbox, '/affiliate/list', LIST)).status).toBe(503)
    const bad = await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', body: '{"spikeRate":"often"}' })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error).toMatch(/spikeRate/)
    const off = await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', body: '{"errorRates":{}}' })
    expect((await off.json()).errorRates).toEqual({})
  })

  it('POST /_sandbox/reset clears affiliates, stats and faults back to the start options', async () => {
    const s = await startSandbox({ seed: 3, latencyMs: 1 })
    try {
      const first = await api(s, '/affiliate/new', newAffiliate())
      s.setFaults({ latencyMs: 0, errorRates: { 500: 0.5 } })
      const res = await fetch(`${s.url}/_sandbox/reset`, { method: 'POST' })
      expect(await res.json()).toEqual({ ok: true })
      expect(s.store.size).toBe(0)
      expect(s.stats().total).toBe(0)
      expect(s.faults()).toMatchObject({ latencyMs: 1, errorRates: {} })
      // The PRNGs restart too: the same first affiliate gets the same code and id.
      const again = await api(s, '/affiliate/new', newAffiliate())
      expect(again.json.id).toBe(first.json.id)
      expect(again.json.message).toBe(first.json.message)
    } finally {
      await s.close()
    }
  })
})

describe('sandboxOptionsFromEnv', () => {
  it('reads every variable', () => {
    expect(
      sandboxOptionsFromEnv({
        SANDBOX_LATENCY_MS: '20',
        SANDBOX_JITTER_MS: '5',
        SANDBOX_SPIKE_RATE: '0.01',
        SANDBOX_SPIKE_MS: '15000',
        SANDBOX_RATE_429: '0.1',
        SANDBOX_RATE_500: '0.05',
        SANDBOX_RATE_503: '0',
        SANDBOX_RESET_RATE: '0.02',
        SANDBOX_APPLY_THEN_DROP_RATE: '0.03',
        SANDBOX_RETRY_AFTER: '2',
        SANDBOX_RATE_LIMIT: '100/1000',
        SANDBOX_SEED: '42',
        SANDBOX_PUBLIC_KEY: 'pub',
        SANDBOX_SECRET_KEY: 'sec',
        SANDBOX_SEARCH_MERCHANT_ID: '1',
        SANDBOX_ORDER_PROCESSING_ATTEMPTS: '2'
      })
    ).toEqual({
      latencyMs: 20,
      latencyJitterMs: 5,
      spikeRate: 0.01,
      spikeMs: 15000,
      errorRates: { 429: 0.1, 500: 0.05, 503: 0 },
      resetRate: 0.02,
      applyThenDropRate: 0.03,
      retryAfterSeconds: 2,
      rateLimit: { requests: 100, perMs: 1000 },
      seed: 42,
      keys: { publicKey: 'pub', secretKey: 'sec' },
      searchMerchantId: true,
      orderProcessingAttempts: 2
    })
  })

  it('reads SANDBOX_SEARCH_MERCHANT_ID as an on/off switch', () => {
    expect(sandboxOptionsFromEnv({ SANDBOX_SEARCH_MERCHANT_ID: 'true' }).searchMerchantId).toBe(true)
    expect(sandboxOptionsFromEnv({ SANDBOX_SEARCH_MERCHANT_ID: '0' }).searchMerchantId).toBe(false)
    expect(sandboxOptionsFromEnv({}).searchMerchantId).toBeUndefined()
  })

  it('returns nothing for an empty environment', () => {
    expect(sandboxOptionsFromEnv({ SANDBOX_LATENCY_MS: '' })).toEqual({})
  })

  it.each([
    ['SANDBOX_LATENCY_MS', 'fast'],
    ['SANDBOX_LATENCY_MS', '-5'],
    ['SANDBOX_JITTER_MS', '1e999'],
    ['SANDBOX_SPIKE_RATE', '1.5'],
    ['SANDBOX_RATE_500', '50%'],
    ['SANDBOX_RESET_RATE', '0x1'],
    ['SANDBOX_RETRY_AFTER', '1.5'],
    ['SANDBOX_SEED', 'abc'],
    ['SANDBOX_RATE_LIMIT', '100'],
    ['SANDBOX_RATE_LIMIT', '0/1000'],
    ['SANDBOX_RATE_LIMIT', '10/s'],
    ['SANDBOX_SEARCH_MERCHANT_ID', 'maybe'],
    ['SANDBOX_ORDER_PROCESSING_ATTEMPTS', '-1'],
    ['SANDBOX_ORDER_PROCESSING_ATTEMPTS', '1.5']
  ])('throws an error naming %s for %p', (name, value) => {
    expect(() => sandboxOptionsFromEnv({ [name]: value })).toThrow(name)
  })

  it('requires both keys or neither', () => {
    expect(() => sandboxOptionsFromEnv({ SANDBOX_PUBLIC_KEY: 'pub' })).toThrow(/SANDBOX_SECRET_KEY/)
  })
})
