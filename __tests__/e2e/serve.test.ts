/**
 * End to end: `./bin/run serve --sandbox` as a real child process (supervisor + worker + sandbox), driven over
 * HTTP. The sandbox accepts only one key pair, so that a wrong pair is rejected with 401.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Answer, freePort, isAlive, poster, read, Served, startServe, Transcript } from './helpers'

const PUBLIC = 'pub_live123'
const SECRET = 'sec_SUPERSECRET999'
const WRONG_SECRET = 'sec_WRONGSECRET777'
const API_KEY = `${PUBLIC}.${SECRET}`
const settings = { apiKey: API_KEY }

// The identify example from Refersion's Segment documentation.
const identify = {
  type: 'identify',
  userId: 'test-user-t0zpx',
  traits: {
    name: 'Peter Gibbons',
    email: 'peter@initech.com',
    address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' }
  }
}

let served: Served
let scratch: string
let post: ReturnType<typeof poster>
const transcript = new Transcript()

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function affiliates(): Promise<any[]> {
  const answer = await read(await fetch(`${served.sandboxUrl}/_sandbox/affiliates`))
  return answer.json.affiliates
}

async function sandboxRequests(): Promise<number> {
  return (await read(await fetch(`${served.sandboxUrl}/_sandbox/stats`))).json.total
}

const paths = (answer: Answer) =>
  (answer.json as { request: { url: string } }[]).map((e) => new URL(e.request.url).pathname.replace(/^\/v2/, ''))

beforeAll(async () => {
  const port = await freePort()
  // Watch an empty scratch directory: edits to the real sources during the run must not restart this server.
  scratch = mkdtempSync(path.join(os.tmpdir(), 'refersion-serve-e2e-'))
  served = await startServe(['--sandbox', '--port', String(port)], {
    SANDBOX_PUBLIC_KEY: PUBLIC,
    SANDBOX_SECRET_KEY: SECRET,
    // POST /delete deletes by a userId that is not an email: only the unique_merchant_id reading finds it.
    SANDBOX_SEARCH_MERCHANT_ID: '1',
    REFERSION_SERVE_WATCH: scratch,
    // Each test resets the sandbox, whose ids then start again (Refersion never reuses an id), and some assert
    // the uncached request sequence of a repeat: the served destination runs without its affiliate cache here.
    // The cache against the sandbox is covered by __tests__/reliability/faults.test.ts.
    REFERSION_CACHE: 'off'
  })
  post = poster(served.url, transcript)
})

afterAll(async () => {
  const code = await served?.cli.stop()
  expect(code).toBe(0)
  // No orphan: the worker (a separate process) went away with the supervisor.
  expect(served.workerPid).not.toBe(served.cli.pid)
  expect(isAlive(served.workerPid)).toBe(false)
  rmSync(scratch, { recursive: true, force: true })
})

beforeEach(async () => {
  await fetch(`${served.sandboxUrl}/_sandbox/reset`, { method: 'POST' })
})

test('start-up logs: sandbox URLs, one line per route, listening', () => {
  const out = served.cli.output
  expect(out).toMatch(/Refersion sandbox: http:\/\/127\.0\.0\.1:\d+/)
  expect(out).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/_sandbox\/affiliates to see affiliates/)
  expect(out).toContain(`REFERSION_BASE_URL=${served.sandboxUrl}/v2`)
  for (const route of [
    'GET /manifest',
    'POST /authenticate',
    'POST /createAffiliate',
    'POST /deleteAffiliate',
    'POST /delete'
  ]) {
    expect(out).toContain(`  ${route}\n`)
  }
})

test('GET /manifest: the definition as JSON, without functions', async () => {
  const answer = transcript.record(await read(await fetch(`${served.url}/manifest`)))
  expect(answer.status).toBe(200)
  const manifest = answer.json
  expect(manifest).toMatchObject({ name: 'Refersion (Actions)', slug: 'actions-refersion', mode: 'cloud' })
  // As in Segment's CLI: the destination's folder under packages/destination-actions/src/destinations/.
  expect(manifest.directoryName).toBe('refersion')
  expect(manifest.authentication).toMatchObject({ scheme: 'custom', fields: { apiKey: { type: 'password' } } })
  expect(manifest.authentication.testAuthentication).toBeUndefined()
  expect(manifest.extendRequest).toBeUndefined()
  expect(Object.keys(manifest.actions)).toEqual([
    'createAffiliate',
    'deleteAffiliate',
    'trackOrder',
    'cancelOrder',
    'addConversionTrigger',
    'creditCommission',
    'creditOrder'
  ])
  expect(manifest.actions.createAffiliate).toMatchObject({
    title: 'Create Affiliate',
    defaultSubscription: 'type = "identify"',
    fields: { email: { required: true } }
  })
  expect(manifest.actions.createAffiliate.perform).toBeUndefined()
  expect(manifest.presets.map((p: { partnerAction: string }) => p.partnerAction)).toEqual([
    'createAffiliate',
    'trackOrder',
    'cancelOrder'
  ])
  // A request log line: status, method, path, milliseconds.
  await served.cli.waitFor(/^200 GET \/manifest \d+ms$/m)
})

test('POST /authenticate: ok with the right pair, rejected with a wrong one, format errors name apiKey', async () => {
  expect((await post('/authenticate', settings)).json).toEqual({ ok: true })

  const rejected = await post('/authenticate', { apiKey: `${PUBLIC}.${WRONG_SECRET}` })
  expect(rejected.status).toBe(200)
  expect(rejected.json).toMatchObject({ ok: false, fields: {} })
  expect(rejected.json.error).toMatch(/rejected/i)

  const malformed = await post('/authenticate', { apiKey: 'no-dot-here' })
  expect(malformed.status).toBe(200)
  expect(malformed.json.ok).toBe(false)
  expect(malformed.json.fields.apiKey).toMatch(/publickey\.secretkey/)

  const missing = await post('/authenticate', {})
  expect(missing.json).toMatchObject({ ok: false, fields: { apiKey: expect.stringMatching(/apiKey/) } })
})

test("createAffiliate: the docs' identify example creates one affiliate (one request)", async () => {
  const answer = await post('/createAffiliate', { payload: identify, settings })
  expect(answer.status).toBe(200)
  expect(answer.json).toHaveLength(1)
  const [exchange] = answer.json
  expect(exchange.request).toMatchObject({ method: 'POST', url: `${served.sandboxUrl}/v2/affiliate/new` })
  expect(exchange.request.headers['refersion-public-key']).toBe(PUBLIC)
  expect(exchange.request.headers['refersion-secret-key']).toBe('<redacted>')
  const sent = JSON.parse(exchange.request.body)
  expect(sent).toMatchObject({
    first_name: 'Peter',
    last_name: 'Gibbons',
    email: 'peter@initech.com',
    password: '<redacted>',
    country: 'US',
    zip: '94103',
    unique_merchant_id: 'test-user-t0zpx'
  })
  expect(exchange.response).toMatchObject({ statusCode: 200, statusMessage: 'OK' })
  expect(exchange.response.body.message).toMatch(/has been created/)
  expect(JSON.parse(answer.headers.get('x-serve-result') ?? '{}')).toMatchObject({ outcome: 'created' })

  const list = await affiliates()
  expect(list).toHaveLength(1)
  expect(list[0]).toMatchObject({
    email: 'peter@initech.com',
    first_name: 'Peter',
    last_name: 'Gibbons',
    country: 'US',
    zip: '94103',
    city: 'San Francisco',
    unique_merchant_id: 'test-user-t0zpx'
  })
})

test('createAffiliate: a repeated identify updates the affiliate instead of duplicating it', async () => {
  await post('/createAffiliate', { payload: identify, settings })

  const same = await post('/createAffiliate', { payload: identify, settings })
  expect(paths(same).slice(0, 2)).toEqual(['/affiliate/new', '/affiliate/search'])
  expect(same.json[0].response.statusCode).toBe(422)
  expect(await affiliates()).toHaveLength(1)

  const moved = {
    ...identify,
    traits: { ...identify.traits, address: { ...identify.traits.address, city: 'Austin', state: 'TX' } }
  }
  const updated = await post('/createAffiliate', { payload: moved, settings })
  expect(paths(updated)[0]).toBe('/affiliate/new')
  expect(paths(updated)).toContain('/affiliate/edit')
  expect(updated.json.every((e: { response: { statusCode: number } }) => e.response.statusCode < 500)).toBe(true)
  const list = await affiliates()
  expect(list).toHaveLength(1)
  expect(list[0]).toMatchObject({ city: 'Austin', state: 'TX' })
})

test('deleteAffiliate disables the affiliate', async () => {
  await post('/createAffiliate', { payload: identify, settings })
  const answer = await post('/deleteAffiliate', { payload: identify, settings })
  expect(paths(answer)).toContain('/affiliate/status_change')
  const change = answer.json.find((e: { request: { url: string } }) => e.request.url.endsWith('/status_change'))
  expect(JSON.parse(change.request.body)).toMatchObject({ status: 'DISABLED' })
  expect((await affiliates())[0].status).toBe('DISABLED')
})

test('POST /delete runs onDelete and returns its exchanges', async () => {
  await post('/createAffiliate', { payload: identify, settings })
  const answer = await post('/delete', { payload: { type: 'delete', userId: 'test-user-t0zpx' }, settings })
  expect(answer.status).toBe(200)
  expect(paths(answer)).toEqual(expect.arrayContaining(['/affiliate/search', '/affiliate/status_change']))
  expect((await affiliates())[0].status).toBe('DISABLED')

  // A deletion request for a user who was never an affiliate: a success that changed nothing, and says so.
  const unknown = await post('/delete', { payload: { type: 'delete', userId: 'nobody-here' }, settings })
  expect(unknown.status).toBe(200)
  expect(paths(unknown)).toEqual(['/affiliate/search'])
  expect(JSON.parse(String(unknown.headers.get('x-serve-result')))).toMatchObject({
    outcome: 'not_found',
    changed: false,
    userId: 'nobody-here'
  })
})

test('validation errors: 400 entries with fields, and nothing is sent to Refersion', async () => {
  const before = await sandboxRequests()

  const noEmail = await post('/createAffiliate', {
    payload: { type: 'identify', userId: 'u1', traits: { name: 'Peter Gibbons' } },
    settings
  })
  expect(noEmail.status).toBe(200)
  expect(noEmail.json).toEqual([
    expect.objectContaining({ statusCode: 400, requestError: true, fields: { email: expect.any(String) } })
  ])
  expect(noEmail.json[0].message).toMatch(/email/)
  expect(Array.isArray(noEmail.json[0].stack)).toBe(true)

  const badKey = await post('/createAffiliate', { payload: identify, settings: { apiKey: 'nodot' } })
  expect(badKey.json[0]).toMatchObject({ statusCode: 400, requestError: true })
  expect(badKey.json[0].message).toMatch(/publickey\.secretkey/)

  expect(await sandboxRequests()).toBe(before)
  expect(await affiliates()).toHaveLength(0)

  // Names are required only to create: a name-less identify is looked up by email first (one search), and for an
  // email no affiliate has it is the 400 naming the name fields, with nothing created.
  const noName = await post('/createAffiliate', {
    payload: { type: 'identify', userId: 'u2', traits: { email: 'nameless@initech.com' } },
    settings
  })
  expect(noName.json).toHaveLength(1)
  expect(noName.json[0]).toMatchObject({ statusCode: 400, requestError: true })
  expect(noName.json[0].message).toMatch(/first and last name/)
  expect(Object.keys(noName.json[0].fields)).toEqual(expect.arrayContaining(['firstName', 'lastName', 'name']))
  expect(await sandboxRequests()).toBe(before + 1)
  expect(await affiliates()).toHaveLength(0)
})

test('an array payload goes through performBatch: an exchange per event, per-event results in a header', async () => {
  const events = ['michael@initech.com', 'samir@initech.com', 'milton@initech.com'].map((email, i) => ({
    type: 'identify',
    userId: `user-${i}`,
    traits: { email, name: `Person Number${i}` }
  }))
  const answer = await post('/createAffiliate', { payload: events, settings })
  expect(answer.status).toBe(200)
  expect(answer.json).toHaveLength(3)
  expect(paths(answer)).toEqual(['/affiliate/new', '/affiliate/new', '/affiliate/new'])
  const bodies = answer.json.map((e: { request: { body: string } }) => JSON.parse(e.request.body).email).sort()
  expect(bodies).toEqual(['michael@initech.com', 'milton@initech.com', 'samir@initech.com'])
  expect(JSON.parse(answer.headers.get('x-serve-multistatus') ?? '[]')).toEqual([
    { status: 200 },
    { status: 200 },
    { status: 200 }
  ])
  expect(await affiliates()).toHaveLength(3)

  // One bad event fails alone.
  const mixed = await post('/createAffiliate', {
    payload: [events[0], { type: 'identify', traits: { email: 'x@initech.com' } }],
    settings
  })
  const statuses = JSON.parse(mixed.headers.get('x-serve-multistatus') ?? '[]').map((s: { status: number }) => s.status)
  expect(statuses).toEqual([200, 400])
})

test('CORS: Segment origins are allowed, other origins get no allow-origin header and are refused', async () => {
  const preflight = (origin: string) =>
    fetch(`${served.url}/createAffiliate`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type'
      }
    })
  for (const origin of ['https://app.segment.com', 'https://eu1.app.segment.build', 'http://localhost:8000']) {
    const res = await preflight(origin)
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
  }
  const evil = await preflight('https://evil.example')
  expect(evil.headers.get('access-control-allow-origin')).toBeNull()

  const direct = await post('/authenticate', settings, { Origin: 'https://evil.example' })
  expect(direct.status).toBe(403)
  expect(direct.headers.get('access-control-allow-origin')).toBeNull()
  const allowed = await post('/authenticate', settings, { Origin: 'https://app.segment.com' })
  expect(allowed.json).toEqual({ ok: true })
  expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.segment.com')
})

test('hostile input: malformed JSON 400, unknown route 404, oversized body 413, and the server stays up', async () => {
  const malformed = await post('/createAffiliate', '{"payload": {')
  expect(malformed.status).toBe(400)
  expect(malformed.json.message).toMatch(/not valid JSON/)

  const unknown = await post('/nope', {})
  expect(unknown.status).toBe(404)
  expect(unknown.json).toMatchObject({ statusCode: 404, error: 'Not Found' })

  const huge = await post('/createAffiliate', JSON.stringify({ payload: { pad: 'x'.repeat(6 * 1024 * 1024) } }))
  expect(huge.status).toBe(413)

  expect((await post('/createAffiliate', [])).status).toBe(400)
  expect((await post('/createAffiliate', { settings })).status).toBe(400)
  expect((await post('/createAffiliate', '{"__proto__": {"polluted": true}}')).status).toBe(400)
  // V8 quotes the text around some JSON syntax errors: the answer must not echo the body.
  const quoted = await post('/createAffiliate', '["sec_NEVERSEEN12345",]')
  expect(quoted.status).toBe(400)
  expect(quoted.text).not.toContain('NEVERSEEN')
  expect((await post('/authenticate', settings)).json).toEqual({ ok: true })
})

test('the secret key never appears in responses or logs; the public key may', async () => {
  // Exercise error paths that see the secret: a rejected key, a key with a typo, a Refersion error.
  await post('/authenticate', { apiKey: `${PUBLIC}.${WRONG_SECRET}` })
  await post('/createAffiliate', { payload: identify, settings: { apiKey: `${PUBLIC}.${WRONG_SECRET}` } })
  await post('/createAffiliate', { payload: identify, settings: { apiKey: `${PUBLIC}.${SECRET} x` } })
  await post('/deleteAffiliate', { payload: { ...identify, traits: { email: 'ghost@initech.com' } }, settings })
  await post(`/nope/${SECRET}`, { settings })
  await served.cli.waitFor(/^404 POST \/nope\/<redacted> \d+ms$/m)

  const everything = transcript.all + served.cli.output
  expect(transcript.all).toContain(PUBLIC)
  for (const secret of [SECRET, WRONG_SECRET]) expect(everything).not.toContain(secret)
})
