/**
 * The development server in process (Fastify inject) against the in-process sandbox: shapes, redaction,
 * field mapping of errors, mapping overrides. The real-process behaviour is covered by __tests__/e2e.
 */
import type { FastifyInstance } from 'fastify'
import destination from '../../src'
import { buildDevServer, manifestOf } from '../../tools/cli/server'
import { startSandbox } from '../../tools/sandbox'
import type { RunningSandbox } from '../../tools/sandbox'

let sandbox: RunningSandbox
let app: FastifyInstance
const lines: string[] = []

const identify = (email: string, extra: Record<string, unknown> = {}) => ({
  type: 'identify',
  userId: `user-${email}`,
  traits: { name: 'Peter Gibbons', email, ...extra }
})

let base = ''

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) }
}

beforeAll(async () => {
  // The /delete test deletes by a userId that is not an email: only the unique_merchant_id reading finds it.
  sandbox = await startSandbox({ seed: 1, searchMerchantId: true })
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  app = buildDevServer({
    definition: destination,
    defaultSettings: { apiKey: 'pub_default.sec_DEFAULT_SECRET_42' },
    log: (line) => lines.push(line)
  })
  base = await app.listen({ host: '127.0.0.1', port: 0 })
})

afterAll(async () => {
  await app.close()
  await sandbox.close()
  delete process.env.REFERSION_BASE_URL
})

beforeEach(() => sandbox.reset())

test('one log line per route at start, one per request (status, method, path, ms)', async () => {
  expect(lines).toEqual(
    expect.arrayContaining([
      '  GET /manifest',
      '  POST /authenticate',
      '  POST /delete',
      '  POST /createAffiliate',
      '  POST /deleteAffiliate'
    ])
  )
  await fetch(`${base}/manifest?x=1`)
  expect(lines[lines.length - 1]).toMatch(/^200 GET \/manifest \d+ms$/)
})

test("the manifest is the definition without functions, plus the directoryName Segment's CLI adds", async () => {
  const manifest = manifestOf(destination) as Record<string, unknown>
  expect(JSON.stringify(manifest)).toBe(JSON.stringify(destination))
  expect(manifest.onDelete).toBeUndefined()
  const served = await (await fetch(`${base}/manifest`)).json()
  expect(served).toEqual({ ...manifest, directoryName: 'refersion' })
})

test('settings default to --api-key; the default secret never shows, the public key may', async () => {
  const answer = await post('/createAffiliate', { payload: identify('a@initech.com') })
  expect(answer.json).toHaveLength(1)
  expect(answer.json[0].request.headers).toMatchObject({
    'refersion-public-key': 'pub_default',
    'refersion-secret-key': '<redacted>'
  })
  expect(answer.text).not.toContain('DEFAULT_SECRET')
  expect(lines.join('\n')).not.toContain('DEFAULT_SECRET')
})

test('a short secret is redacted as a whole token only, so ordinary words survive', async () => {
  const answer = await post('/authenticate', { apiKey: 'pub.sec' })
  expect(answer.json).toEqual({ ok: true })
  const created = await post('/createAffiliate', {
    payload: identify('b@initech.com'),
    settings: { apiKey: 'pub.sec' }
  })
  expect(Object.keys(created.json[0].request.headers)).toContain('refersion-secret-key')
})

test('the request mapping overrides the default mapping field by field', async () => {
  const answer = await post('/createAffiliate', {
    payload: identify('c@initech.com', { nickname: 'Pete', plan: 'gold' }),
    mapping: { company: { '@path': '$.traits.plan' }, status: 'ACTIVE' }
  })
  const sent = JSON.parse(answer.json[0].request.body)
  expect(sent).toMatchObject({ email: 'c@initech.com', company: 'gold', status: 'ACTIVE', first_name: 'Peter' })
  expect(sandbox.store.all()[0]).toMatchObject({ company_name: 'gold', status: 'ACTIVE' })
})

test('a mapped password is never shown', async () => {
  const answer = await post('/createAffiliate', {
    payload: identify('d@initech.com', { pw: 'Str0ng&Secret!' }),
    mapping: { password: { '@path': '$.traits.pw' } }
  })
  expect(JSON.parse(answer.json[0].request.body).password).toBe('<redacted>')
  expect(answer.text).not.toContain('Str0ng&Secret!')
})

test('AJV errors map to field paths; an invalid mapping is a 400 request error', async () => {
  const badEmail = await post('/createAffiliate', { payload: identify('not-an-email') })
  expect(badEmail.json[0]).toMatchObject({ statusCode: 400, requestError: true, fields: { email: expect.any(String) } })

  const badStatus = await post('/createAffiliate', { payload: identify('e@initech.com'), mapping: { status: 'NOPE' } })
  expect(badStatus.json[0].fields).toHaveProperty('status')

  const badMapping = await post('/createAffiliate', {
    payload: identify('f@initech.com'),
    mapping: { email: { '@nope': 1 } }
  })
  expect(badMapping.json[0]).toMatchObject({
    statusCode: 400,
    requestError: true,
    fields: { email: expect.any(String) }
  })
  expect(badMapping.json[0].message).toMatch(/invalid directive: @nope/)
  expect(sandbox.stats().total).toBe(0)
})

test('a failure after requests were made carries them as `exchanges`', async () => {
  const answer = await post('/deleteAffiliate', { payload: identify('ghost@initech.com') })
  expect(answer.json).toHaveLength(1)
  expect(answer.json[0]).toMatchObject({ statusCode: 404, requestError: true })
  expect(answer.json[0].exchanges.map((e: { request: { url: string } }) => e.request.url)).toEqual([
    `${sandbox.apiBaseUrl}/affiliate/search`
  ])
})

test('/delete answers the onDelete result in x-serve-result and its exchanges in the body', async () => {
  await post('/createAffiliate', { payload: identify('g@initech.com') })
  const answer = await post('/delete', { payload: { type: 'delete', userId: 'user-g@initech.com' } })
  expect(JSON.parse(String(answer.headers.get('x-serve-result')))).toMatchObject({ status: 'DISABLED' })
  const paths = answer.json.map((e: { request: { url: string } }) => e.request.url.split('/v2')[1])
  // search gives the affiliate's code; get (when needed) turns it into the numeric id status_change takes.
  expect(paths[0]).toBe('/affiliate/search')
  expect(paths[paths.length - 1]).toBe('/affiliate/status_change')
})

test('an array payload without performBatch support would run perform per event; with it, multistatus', async () => {
  const answer = await post('/deleteAffiliate', {
    payload: [identify('nobody1@initech.com'), identify('nobody2@initech.com')]
  })
  const multistatus = JSON.parse(String(answer.headers.get('x-serve-multistatus')))
  expect(multistatus.map((m: { status: number }) => m.status)).toEqual([404, 404])
  expect(multistatus[0].errormessage).toMatch(/not found/)
})

test('bad request bodies', async () => {
  expect((await post('/createAffiliate', { payload: identify('h@initech.com'), settings: 'x' })).status).toBe(400)
  expect((await post('/createAffiliate', { payload: [] })).status).toBe(400)
  expect((await post('/createAffiliate', { payload: [1, 2] })).status).toBe(400)
  expect((await post('/createAffiliate', { payload: {}, mapping: [] })).status).toBe(400)
  const text = await post('/authenticate', '{"apiKey":"pub.sec"}', { 'content-type': 'text/plain' })
  expect(text.json).toEqual({ ok: true })
})
