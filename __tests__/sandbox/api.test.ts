import { RunningSandbox, startSandbox } from '../../tools/sandbox'
import { AUTH, PASSWORD, PUBLIC_KEY, SECRET_KEY, api, create, newAffiliate } from './helpers'

let sandbox: RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 1234 })
})

afterAll(async () => {
  await sandbox.close()
})

beforeEach(() => sandbox.reset())

describe('transport and auth', () => {
  it('binds loopback by default and reports its URLs', () => {
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`)
    expect(sandbox.apiBaseUrl).toBe(`${sandbox.url}/v2`)
    expect(sandbox.baseUrl).toBe(`${sandbox.url}/v2`)
    expect(sandbox.trackingUrl).toBe(sandbox.url)
  })

  it('answers 401 without either key, before looking at the body', async () => {
    const bodies = [{ limit: '1', page: '1' }, undefined]
    for (const body of bodies) {
      const variants: Record<string, string>[] = [
        { 'Content-Type': 'application/json' },
        { 'Refersion-Public-Key': PUBLIC_KEY, 'Content-Type': 'application/json' },
        { 'Refersion-Secret-Key': SECRET_KEY, 'Content-Type': 'application/json' },
        { 'Refersion-Public-Key': ' ', 'Refersion-Secret-Key': SECRET_KEY }
      ]
      for (const headers of variants) {
        const res = await api(sandbox, '/affiliate/list', body, headers)
        expect(res.status).toBe(401)
        expect(res.json).toEqual({ error: 'Invalid API credentials (error 2).' })
      }
    }
  })

  it('accepts any non-empty pair when no keys are configured', async () => {
    const res = await api(
      sandbox,
      '/affiliate/list',
      { limit: '1', page: '1' },
      { 'Refersion-Public-Key': 'a', 'Refersion-Secret-Key': 'b' }
    )
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ total: 0, results: [] })
  })

  it('accepts only the configured pair when keys are given', async () => {
    const strict = await startSandbox({ keys: { publicKey: PUBLIC_KEY, secretKey: SECRET_KEY } })
    try {
      expect((await api(strict, '/affiliate/list', { limit: '1' })).status).toBe(200)
      const wrong = { ...AUTH, 'Refersion-Secret-Key': 'sec_wrong' }
      const res = await api(strict, '/affiliate/list', { limit: '1' }, wrong)
      expect(res.status).toBe(401)
      expect(res.json).toEqual({ error: 'Invalid API credentials (error 2).' })
      const wrongPub = { ...AUTH, 'Refersion-Public-Key': 'pub_other' }
      expect((await api(strict, '/affiliate/list', { limit: '1' }, wrongPub)).status).toBe(401)
    } finally {
      await strict.close()
    }
  })

  it.each([
    ['no body', undefined],
    ['an empty string', ''],
    ['an empty object', '{}'],
    ['not JSON', 'first_name=Peter'],
    ['a JSON array', '[1,2]']
  ])('answers 404 "Bad request, no body" for %s', async (_label, body) => {
    const res = await api(sandbox, '/affiliate/new', body)
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ error: 'Bad request, no body' })
  })

  it('answers unknown /v2 paths and non-POST methods with 404 Not found', async () => {
    const res = await api(sandbox, '/affiliate/delete', { id: 1 })
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ error: 'Not found' })
    const get = await fetch(`${sandbox.apiBaseUrl}/affiliate/list`, { headers: AUTH })
    expect(get.status).toBe(404)
    expect(await get.json()).toEqual({ error: 'Not found' })
  })

  it('accepts JSON without a JSON content type', async () => {
    const res = await api(sandbox, '/affiliate/list', JSON.stringify({ limit: '5' }), {
      'Refersion-Public-Key': 'a',
      'Refersion-Secret-Key': 'b'
    })
    expect(res.status).toBe(200)
  })
})

describe('POST /affiliate/new', () => {
  it('creates an affiliate: 200 with the code as id and the numeric id in the message', async () => {
    const body = newAffiliate({
      first_name: 'Peter',
      email: 'peter.gibbons@initech.com',
      status: 'PENDING',
      offer: '42',
      company: 'Initech',
      country: 'US',
      send_welcome: 'FALSE',
      unique_merchant_id: 'user-7'
    })
    const res = await api(sandbox, '/affiliate/new', body)
    expect(res.status).toBe(200)
    expect(res.json.id).toMatch(/^[a-z0-9]{4,6}$/)
    expect(res.json.link).toMatch(new RegExp(`/c/${res.json.id}$`))
    expect(res.json.message).toBe('The affiliate 37569297 has been created with the status of PENDING.')
    const [stored] = sandbox.store.all()
    expect(stored).toMatchObject({
      id: 37569297,
      code: res.json.id,
      email: 'peter.gibbons@initech.com',
      status: 'PENDING',
      offer_id: '42',
      company_name: 'Initech',
      country: 'US',
      send_welcome: false,
      unique_merchant_id: 'user-7'
    })
    expect(stored).not.toHaveProperty('password')
    const second = await create(sandbox)
    expect(second.id).toBe(37569298)
  })

  it.each(['first_name', 'last_name', 'email', 'password', 'status'])(
    'answers a missing or blank %s with 400 "Missing required field" and creates nothing',
    async (field) => {
      for (const value of [undefined, '', '  ']) {
        const res = await api(sandbox, '/affiliate/new', newAffiliate({ [field]: value }))
        expect(res.status).toBe(400)
        expect(res.json).toEqual({ error: `Missing required field ${field}` })
      }
      expect(sandbox.store.size).toBe(0)
    }
  )

  it('rejects an invalid email, a status other than ACTIVE/PENDING, and a bad send_welcome with 422', async () => {
    const res = await api(
      sandbox,
      '/affiliate/new',
      newAffiliate({ email: 'not-an-email', status: 'DISABLED', send_welcome: 'YES' })
    )
    expect(res.status).toBe(422)
    expect(res.json.errors).toEqual([
      'The email field must contain a valid email address.',
      'DISABLED is not a allowed value for field status',
      'YES is not a allowed value for field send_welcome'
    ])
    expect(sandbox.store.size).toBe(0)
  })

  it.each([
    ['Sh0rt!', /9 to 72 characters/],
    ['alllower1!x', /upper-case/],
    ['ALLUPPER1!X', /lower-case/],
    ['NoDigits!!x', /digit/],
    ['NoSymbol12x', /special character/],
    ['Aaaaa1!bcd', /more than 3 times/],
    ['x'.repeat(73), /9 to 72 characters/]
  ])('enforces the password policy (%s)', async (password, reason) => {
    const res = await api(sandbox, '/affiliate/new', newAffiliate({ password }))
    expect(res.status).toBe(422)
    expect(res.json.errors).toHaveLength(1)
    expect(res.json.errors[0]).toMatch(/^The password /)
    expect(res.json.errors[0]).toMatch(reason)
    expect(res.text).not.toContain(password)
  })

  it.each(['Abcd1!xyz', 'Aaa1!bbbX', 'x'.repeat(3) + 'Y1!' + 'z'.repeat(3), 'Aa1!'.repeat(18)])(
    'accepts a password at the edges of the policy (%s)',
    async (password) => {
      expect((await api(sandbox, '/affiliate/new', newAffiliate({ password }))).status).toBe(200)
    }
  )

  it('rejects a password equal to the email', async () => {
    const email = 'Pa55word!x@Example.com'
    const res = await api(sandbox, '/affiliate/new', newAffiliate({ email, password: email }))
    expect(res.status).toBe(422)
    expect(res.json.errors).toEqual(['The password may not be the same as the email address.'])
  })

  it('rejects a country outside the 90 Refersion accepts', async () => {
    for (const country of ['XX', 'us', 'USA', 'AF']) {
      const res = await api(sandbox, '/affiliate/new', newAffiliate({ country }))
      expect(res.status).toBe(422)
      expect(res.json).toEqual({ errors: [`${country} is not a allowed value for field country`] })
    }
    for (const country of ['GB', 'ZA', 'WS', 'IM']) {
      expect((await api(sandbox, '/affiliate/new', newAffiliate({ country }))).status).toBe(200)
    }
  })

  it('rejects a duplicate email, whatever its case, with the exact Refersion text', async () => {
    await create(sandbox, { email: 'peter.gibbons@initech.com' })
    const res = await api(sandbox, '/affiliate/new', newAffiliate({ email: 'Peter.Gibbons@INITECH.com' }))
    expect(res.status).toBe(422)
    expect(res.json).toEqual({ errors: ['The email you have entered is taken by another Affiliate.'] })
    expect(sandbox.store.size).toBe(1)
  })

  it('turns conversion_trigger_coupon into a COUPON trigger of the new affiliate', async () => {
    const { id, code } = await create(sandbox, { conversion_trigger_coupon: 'PETER10' })
    expect(sandbox.store.allTriggers()).toEqual([
      { trigger_id: 1, affiliate_id: id, affiliate_code: code, type: 'COUPON', trigger: 'PETER10' }
    ])
  })
})

describe('POST /affiliate/get', () => {
  it('answers exactly the documented fields, by numeric id (number or string) and by code', async () => {
    const { id, code } = await create(sandbox, {
      email: 'peter@initech.com',
      company: 'Initech',
      unique_merchant_id: 'u1'
    })
    const expected = {
      id,
      offer_id: '1',
      status: 'ACTIVE',
      first_name: 'Peter',
      last_name: 'Gibbons',
      company_name: 'Initech',
      email: 'peter@initech.com',
      link: `https://www.refersion.com/c/${code}`,
      custom_fields: []
    }
    for (const body of [{ id }, { id: String(id) }, { affiliate_code: code }]) {
      const res = await api(sandbox, '/affiliate/get', body)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(expected)
    }
  })

  it('answers a missing company as "" (a string), never null', async () => {
    const { id } = await create(sandbox)
    const res = await api(sandbox, '/affiliate/get', { id })
    expect(res.json.company_name).toBe('')
    for (const [key, value] of Object.entries(res.json)) {
      if (key === 'id') expect(typeof value).toBe('number')
      else if (key === 'custom_fields') expect(Array.isArray(value)).toBe(true)
      else expect(typeof value).toBe('string')
    }
  })

  it('answers a miss with 422 Affiliate not found.', async () => {
    for (const body of [{ id: 1 }, { affiliate_code: 'zzzz' }, { id: 'abc' }]) {
      const res = await api(sandbox, '/affiliate/get', body)
      expect(res.status).toBe(422)
      expect(res.json).toEqual({ errors: ['Affiliate not found.'] })
    }
  })

  it('answers neither id nor affiliate_code with 400', async () => {
    for (const body of [{ affiliate_code: '' }, { id: ' ' }]) {
      const res = await api(sandbox, '/affiliate/get', body)
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'Missing required field id or affiliate_code' })
    }
  })
})

describe('POST /affiliate/search', () => {
  const RESULT_KEYS = ['custom_fields', 'email', 'first_name', 'id', 'last_name', 'offer_id', 'status']

  it('matches the numeric id or code exactly and the email partially; results carry only documented fields', async () => {
    const peter = await create(sandbox, { email: 'peter.gibbons@initech.com', unique_merchant_id: 'seg-user-1' })
    const anna = await create(sandbox, { first_name: 'Anna', email: 'anna.gibbons@example.org' })
    await create(sandbox, { first_name: 'Milton', email: 'milton@initech.com' })

    const expected = {
      total: 1,
      results: [
        {
          id: peter.code,
          offer_id: '1',
          status: 'ACTIVE',
          first_name: 'Peter',
          last_name: 'Gibbons',
          email: 'peter.gibbons@initech.com',
          custom_fields: []
        }
      ]
    }
    for (const keyword of [String(peter.id), peter.code, peter.code.toUpperCase()]) {
      const res = await api(sandbox, '/affiliate/search', { keyword, page: '1' })
      expect(res.status).toBe(200)
      expect(res.json).toEqual(expected)
    }

    const partial = await api(sandbox, '/affiliate/search', { keyword: 'gibbons', page: '1' })
    expect(partial.status).toBe(200)
    expect(partial.json.total).toBe(2)
    expect(Number.isInteger(partial.json.total)).toBe(true)
    expect(partial.json.results.map((r: { id: string }) => r.id)).toEqual([peter.code, anna.code])
    for (const r of partial.json.results) expect(Object.keys(r).sort()).toEqual(RESULT_KEYS)

    const exactEmail = await api(sandbox, '/affiliate/search', { keyword: 'Anna.Gibbons@example.org', page: '1' })
    expect(exactEmail.json.results.map((r: { email: string }) => r.email)).toEqual(['anna.gibbons@example.org'])

    const filtered = await api(sandbox, '/affiliate/search', { keyword: 'gibbons', first_name: 'Anna' })
    expect(filtered.json.results.map((r: { id: string }) => r.id)).toEqual([anna.code])
  })

  it('does not match unique_merchant_id by default', async () => {
    await create(sandbox, { email: 'peter@initech.com', unique_merchant_id: 'seg-user-1' })
    const res = await api(sandbox, '/affiliate/search', { keyword: 'seg-user-1', page: '1' })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({ errors: ['Could not find affiliates with this keyword.'] })
  })

  it('with searchMerchantId, also matches unique_merchant_id exactly and returns it', async () => {
    const s = await startSandbox({ seed: 1, searchMerchantId: true })
    try {
      const peter = await create(s, { email: 'peter@initech.com', unique_merchant_id: 'seg-user-1' })
      await create(s, { email: 'anna@initech.com' })
      const res = await api(s, '/affiliate/search', { keyword: 'seg-user-1', page: '1' })
      expect(res.status).toBe(200)
      expect(res.json.results).toEqual([expect.objectContaining({ id: peter.code, unique_merchant_id: 'seg-user-1' })])
      expect((await api(s, '/affiliate/search', { keyword: 'seg-user' })).status).toBe(422)
      const byEmail = await api(s, '/affiliate/search', { keyword: 'anna@' })
      expect(byEmail.json.results[0].unique_merchant_id).toBe('')
    } finally {
      await s.close()
    }
  })

  it('answers no match with 422 and a missing keyword with 400', async () => {
    await create(sandbox, { email: 'peter.gibbons@initech.com' })
    const miss = await api(sandbox, '/affiliate/search', { keyword: 'lumbergh', page: '1' })
    expect(miss.status).toBe(422)
    expect(miss.json).toEqual({ errors: ['Could not find affiliates with this keyword.'] })
    const noKeyword = await api(sandbox, '/affiliate/search', { page: '1' })
    expect(noKeyword.status).toBe(400)
    expect(noKeyword.json).toEqual({ error: 'Missing required field keyword' })
  })

  it('pages 25 results at a time', async () => {
    for (let i = 0; i < 30; i++)
      sandbox.store.create({ first_name: 'A', last_name: 'B', email: `team${i}@bulk.com`, status: 'ACTIVE' })
    const p1 = await api(sandbox, '/affiliate/search', { keyword: 'bulk.com', page: '1' })
    const p2 = await api(sandbox, '/affiliate/search', { keyword: 'bulk.com', page: '2' })
    expect([p1.json.total, p1.json.results.length, p2.json.total, p2.json.results.length]).toEqual([30, 25, 30, 5])
  })
})

describe('POST /affiliate/edit', () => {
  it('changes documented fields and reports unknown ids and unacceptable values in ids_not_changed', async () => {
    const a = await create(sandbox, { email: 'a@example.com' })
    const b = await create(sandbox, { email: 'b@example.com' })
    const res = await api(sandbox, '/affiliate/edit', {
      affiliates: [
        { id: a.id, first_name: 'Samir', company: 'Initrode', country: 'CA', city: 'Toronto', offer: 9 },
        { id: 12345, first_name: 'Nobody' },
        { id: b.id, email: 'A@example.com' },
        { id: b.id, country: 'XX' },
        { id: b.id },
        { id: b.id, offer: 1.5 }
      ]
    })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ ids_changed: [a.id], ids_not_changed: [12345, b.id] })
    expect(sandbox.store.getById(a.id)).toMatchObject({
      first_name: 'Samir',
      company_name: 'Initrode',
      country: 'CA',
      city: 'Toronto',
      offer_id: '9'
    })
    expect(sandbox.store.getById(b.id)?.email).toBe('b@example.com')

    const email = await api(sandbox, '/affiliate/edit', {
      affiliates: [{ id: b.id, email: 'New@Example.com', custom_fields: [{ '1234': 'https://example.com' }] }]
    })
    expect(email.json).toEqual({ ids_changed: [b.id], ids_not_changed: [] })
    expect(sandbox.store.getByEmail('new@example.com')?.id).toBe(b.id)
  })

  it('requires a non-empty array of at most 50 entries', async () => {
    const empty = await api(sandbox, '/affiliate/edit', { affiliates: [] })
    expect(empty.status).toBe(422)
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ id: 37569297 + i, city: 'x' }))
    const res = await api(sandbox, '/affiliate/edit', { affiliates: tooMany })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({ errors: ['Max number of elements on attribute (50) reached.'] })
  })
})

describe('POST /affiliate/status_change', () => {
  it('changes up to 50 ids, reports unknown ids, and counts a same-status change as changed', async () => {
    const ids: number[] = []
    for (let i = 0; i < 49; i++) {
      ids.push(sandbox.store.create({ first_name: 'A', last_name: 'B', email: `s${i}@x.com`, status: 'ACTIVE' }).id)
    }
    const res = await api(sandbox, '/affiliate/status_change', { ids: [...ids, 999], status: 'DISABLED' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ ids_changed: ids, ids_not_changed: [999] })
    expect(sandbox.store.all().every((a) => a.status === 'DISABLED')).toBe(true)
    const again = await api(sandbox, '/affiliate/status_change', { ids: [ids[0]], status: 'DISABLED' })
    expect(again.json).toEqual({ ids_changed: [ids[0]], ids_not_changed: [] })
  })

  it('answers 51 ids with 429, the size message and no Retry-After', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => 37569297 + i)
    const res = await api(sandbox, '/affiliate/status_change', { ids, status: 'DISABLED' })
    expect(res.status).toBe(429)
    expect(res.json).toEqual({ error: 'Max number of elements on attribute (50) reached.' })
    expect(res.headers.get('retry-after')).toBeNull()
  })

  it('rejects a status it does not allow and empty ids with 422, a missing status with 400', async () => {
    const { id } = await create(sandbox)
    const bad = await api(sandbox, '/affiliate/status_change', { ids: [id], status: 'PENDING' })
    expect(bad.status).toBe(422)
    expect(bad.json).toEqual({ errors: ['PENDING is not a allowed value for field status'] })
    const missing = await api(sandbox, '/affiliate/status_change', { ids: [id] })
    expect(missing.status).toBe(400)
    expect(missing.json).toEqual({ error: 'Missing required field status' })
    expect((await api(sandbox, '/affiliate/status_change', { ids: [], status: 'DENIED' })).status).toBe(422)
    expect(sandbox.store.getById(id)?.status).toBe('ACTIVE')
  })
})

describe('POST /affiliate/list', () => {
  it('lists with string limit and page, oldest first, with an integer total and documented fields only', async () => {
    const a = await create(sandbox, { unique_merchant_id: 'x1', company: 'Initech' })
    const b = await create(sandbox)
    const c = await create(sandbox)
    const p1 = await api(sandbox, '/affiliate/list', { limit: '2', page: '1' })
    expect(p1.status).toBe(200)
    expect(p1.json.total).toBe(3)
    expect(p1.json.results.map((r: { id: string }) => r.id)).toEqual([a.code, b.code])
    expect(Object.keys(p1.json.results[0]).sort()).toEqual([
      'custom_fields',
      'email',
      'first_name',
      'id',
      'last_name',
      'offer_id',
      'status'
    ])
    const p2 = await api(sandbox, '/affiliate/list', { limit: '2', page: '2' })
    expect(p2.json.results.map((r: { id: string }) => r.id)).toEqual([c.code])
  })

  it.each([['0'], ['101'], ['ten'], ['-1']])('rejects limit %p with 422', async (limit) => {
    const res = await api(sandbox, '/affiliate/list', { limit, page: '1' })
    expect(res.status).toBe(422)
    expect(res.json.errors).toHaveLength(1)
  })
})

describe('POST /affiliate/trigger', () => {
  it('adds a conversion trigger once: 200 {trigger_id, trigger}; a duplicate in any case is a 422', async () => {
    const { code } = await create(sandbox)
    const body = { affiliate_code: code, type: 'COUPON', trigger: 'SAVE10' }
    const first = await api(sandbox, '/affiliate/trigger', body)
    expect(first.status).toBe(200)
    expect(first.json).toEqual({ trigger_id: 1, trigger: 'SAVE10' })
    for (const trigger of ['SAVE10', 'save10']) {
      const dup = await api(sandbox, '/affiliate/trigger', { ...body, trigger })
      expect(dup.status).toBe(422)
      expect(dup.json).toEqual({ errors: ['Conversion trigger already exists for this or another affiliate.'] })
    }
    const other = await create(sandbox)
    const taken = await api(sandbox, '/affiliate/trigger', { ...body, affiliate_code: other.code })
    expect(taken.json.errors[0]).toMatch(/^Conversion trigger already exists/)
    const second = await api(sandbox, '/affiliate/trigger', { affiliate_code: code, type: 'EMAIL', trigger: 'a@b.co' })
    expect(second.json).toEqual({ trigger_id: 2, trigger: 'a@b.co' })
    expect(sandbox.store.allTriggers()).toHaveLength(2)
  })

  it('answers a type it does not allow and an unknown affiliate with 422, a missing field with 400', async () => {
    const { code } = await create(sandbox)
    const body = { affiliate_code: code, type: 'COUPON', trigger: 'SAVE10' }
    const badType = await api(sandbox, '/affiliate/trigger', { ...body, type: 'URL' })
    expect(badType.status).toBe(422)
    expect(badType.json).toEqual({ errors: ['URL is not a allowed value for field type'] })
    const miss = await api(sandbox, '/affiliate/trigger', { ...body, affiliate_code: 'zzzzzz' })
    expect(miss.status).toBe(422)
    expect(miss.json).toEqual({ errors: ['Affiliate not found.'] })
    for (const field of ['affiliate_code', 'type', 'trigger']) {
      const res = await api(sandbox, '/affiliate/trigger', { ...body, [field]: undefined })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: `Missing required field ${field}` })
    }
    expect(sandbox.store.allTriggers()).toEqual([])
  })
})

describe('POST /trigger/delete', () => {
  it('deletes the named triggers of an affiliate and answers their ids; anything unknown deletes nothing', async () => {
    const { id, code } = await create(sandbox)
    await api(sandbox, '/affiliate/trigger', { affiliate_code: code, type: 'COUPON', trigger: 'A10' })
    await api(sandbox, '/affiliate/trigger', { affiliate_code: code, type: 'SKU', trigger: 'sku-1' })
    const unknown = await api(sandbox, '/trigger/delete', {
      affiliates: [
        { id, type: 'COUPON', trigger: 'A10' },
        { id, type: 'COUPON', trigger: 'NOPE' }
      ]
    })
    expect(unknown.status).toBe(422)
    expect(sandbox.store.allTriggers()).toHaveLength(2)
    const noAffiliate = await api(sandbox, '/trigger/delete', {
      affiliates: [{ id: 1, type: 'COUPON', trigger: 'A10' }]
    })
    expect(noAffiliate.status).toBe(422)
    const res = await api(sandbox, '/trigger/delete', { affiliates: [{ id, type: 'COUPON', trigger: 'a10' }] })
    expect(res.status).toBe(200)
    expect(res.json).toEqual([1])
    expect(sandbox.store.allTriggers().map((t) => t.trigger)).toEqual(['sku-1'])
  })
})

describe('secrets', () => {
  it('never echoes the secret key in any response', async () => {
    const texts: string[] = []
    const { id, code } = await create(sandbox, { email: 'secret@example.com', password: PASSWORD })
    const calls: [string, unknown][] = [
      ['/affiliate/new', newAffiliate({ email: 'secret@example.com' })],
      ['/affiliate/get', { id }],
      ['/affiliate/search', { keyword: 'secret' }],
      ['/affiliate/list', { limit: '10' }],
      ['/affiliate/edit', { affiliates: [{ id, city: 'x' }] }],
      ['/affiliate/status_change', { ids: [id], status: 'DENIED' }],
      ['/affiliate/trigger', { affiliate_code: code, type: 'SKU', trigger: 'sku1' }],
      ['/affiliate/nope', { a: 1 }],
      ['/affiliate/list', undefined]
    ]
    for (const [path, body] of calls) texts.push((await api(sandbox, path, body)).text)
    texts.push((await api(sandbox, '/affiliate/list', { limit: 1 }, { ...AUTH, 'Refersion-Public-Key': '' })).text)
    const paths = ['/', '/_sandbox/affiliates', '/_sandbox/stats', '/_sandbox/faults', '/_sandbox/requests']
    for (const path of [...paths, '/_sandbox/conversions']) {
      texts.push(await (await fetch(sandbox.url + path, { headers: AUTH })).text())
    }
    for (const text of texts) {
      expect(text).not.toContain(SECRET_KEY)
      expect(text).not.toContain(PASSWORD)
    }
  })
})
