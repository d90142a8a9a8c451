/**
 * Secret hygiene: one test runs every kind of scenario with a distinctive key pair — faults against the sandbox,
 * Refersion error bodies that echo the secret (nock), malformed keys, the `serve` server (answers, headers and
 * log lines) — collects everything they produce, adds the snapshot files, and checks that the secret half of
 * the key never appears. The public half may.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import nock from 'nock'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import { startSandbox } from '../../tools/sandbox'
import type { RunningSandbox } from '../../tools/sandbox'
import {
  API_KEY,
  deliverBatches,
  deliverDeletion,
  deliverOne,
  destination,
  mappingOf,
  PUBLIC_KEY,
  SECRET_KEY,
  SETTINGS,
  TextSink
} from './helpers'
import { CREATE_OVERRIDES, DELETE_OVERRIDES, deletion, identify, people, rngOf } from './scenario'
import { call, REPO, serveAvailable, startServe } from './serve-process'

const ORIGIN = 'https://api.refersion.com'
const createMapping = mappingOf('createAffiliate', CREATE_OVERRIDES)
const deleteMapping = mappingOf('deleteAffiliate', DELETE_OVERRIDES)
const sink = new TextSink()
const saved = { base: process.env.REFERSION_BASE_URL, timeout: process.env.REFERSION_TIMEOUT_MS }
const unmatched: string[] = []
const onNoMatch = (req: { method?: string; path?: string }) => unmatched.push(`${req.method} ${req.path}`)

beforeAll(() => {
  nock.disableNetConnect()
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1'))
  nock.emitter.on('no match', onNoMatch)
})

afterAll(() => {
  nock.emitter.removeListener('no match', onNoMatch)
  nock.cleanAll()
  nock.enableNetConnect()
  if (saved.base === undefined) delete process.env.REFERSION_BASE_URL
  else process.env.REFERSION_BASE_URL = saved.base
  if (saved.timeout === undefined) delete process.env.REFERSION_TIMEOUT_MS
  else process.env.REFERSION_TIMEOUT_MS = saved.timeout
})

/** Runs `fn`, collecting what it returns or throws. */
async function collect(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await fn()
    sink.add(value)
    return value
  } catch (error) {
    sink.add(error)
    return error
  }
}

const event = (email: string) =>
  ({ type: 'identify', userId: 'u-secret', traits: { email, name: 'Peter Gibbons' } } as unknown as JSONObject)

/** Every way an event reaches the destination, with `settings`. */
async function everyPath(settings: JSONObject, email = 'peter@initech.com') {
  const data = event(email)
  await collect(() =>
    destination.actions.createAffiliate.execute({
      data,
      settings: settings as { apiKey: string },
      mapping: createMapping,
      auth: undefined
    })
  )
  await collect(() =>
    destination.actions.createAffiliate.executeBatch({
      data: [data, event(`b.${email}`)],
      settings: settings as { apiKey: string },
      mapping: createMapping,
      auth: undefined
    })
  )
  await collect(() =>
    destination.actions.deleteAffiliate.execute({
      data,
      settings: settings as { apiKey: string },
      mapping: deleteMapping,
      auth: undefined
    })
  )
  await collect(() =>
    destination.actions.deleteAffiliate.executeBatch({
      data: [data],
      settings: settings as { apiKey: string },
      mapping: deleteMapping,
      auth: undefined
    })
  )
  await collect(() => destination.onDelete!({ type: 'delete', userId: 'u-secret' } as SegmentEvent, settings))
  await collect(() => destination.testAuthentication(settings as { apiKey: string }))
}

async function faultScenario(sandbox: RunningSandbox) {
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  process.env.REFERSION_TIMEOUT_MS = '300'
  const rng = rngOf(777)
  const persons = people(rng, 'secret', 40)
  for (const step of persons.map((p) => identify(rng, p, 1))) {
    await deliverOne('createAffiliate', step.event, createMapping, sink)
  }
  await deliverBatches(
    'createAffiliate',
    persons.map((p, i) => ({ group: `g${i}`, event: identify(rng, p, 2).event })),
    createMapping,
    sink
  )
  const deletes = persons.slice(0, 20).map((p) => deletion(rng, p, p.userId ? 'onDelete' : 'email'))
  for (const step of deletes) {
    if (step.action === 'onDelete') await deliverDeletion(String(step.event.userId), sink)
    else await deliverOne('deleteAffiliate', step.event, deleteMapping, sink)
  }
  await deliverBatches(
    'deleteAffiliate',
    persons.slice(20).map((p, i) => ({ group: `d${i}`, event: deletion(rng, p, 'email').event })),
    deleteMapping,
    sink
  )
  // A sandbox that accepts one key pair only: a wrong secret (which contains the real one) is a 401.
  sandbox.setFaults({ errorRates: {}, resetRate: 0, applyThenDropRate: 0, spikeRate: 0 })
  await everyPath({ apiKey: `${PUBLIC_KEY}.${SECRET_KEY}_wrong` })
  await everyPath(SETTINGS)
}

/** Refersion answers that echo the secret back, on every endpoint and status the destination handles. */
async function echoScenario() {
  delete process.env.REFERSION_BASE_URL
  const echoes: [number, unknown, Record<string, string>?][] = [
    [401, { error: `Invalid API credentials (error 2). Got ${SECRET_KEY}` }],
    [422, { errors: [`Secret ${SECRET_KEY} is not allowed`, { nested: SECRET_KEY }] }],
    [400, { error: ['array', `key=${SECRET_KEY}`] }],
    [404, { error: `Bad request, no body (${PUBLIC_KEY}.${SECRET_KEY})` }],
    [429, { error: `slow down ${SECRET_KEY}` }, { 'Retry-After': '1' }],
    [500, `upstream echoed ${SECRET_KEY}`, { 'Content-Type': 'text/plain' }],
    [503, { message: `maintenance for ${SECRET_KEY}` }],
    [200, { error: `invalid field ${SECRET_KEY}` }],
    [200, `not json ${SECRET_KEY}`, { 'Content-Type': 'text/plain' }],
    [200, { ids_changed: [], ids_not_changed: [1], errors: [`no change for ${SECRET_KEY}`] }]
  ]
  for (const [status, body, headers] of echoes) {
    for (const route of ['new', 'search', 'get', 'edit', 'status_change', 'list']) {
      nock(ORIGIN)
        .post(`/v2/affiliate/${route}`)
        .reply(status, body as nock.Body, headers)
        .persist()
    }
    await everyPath(SETTINGS)
    // The same pair with stray whitespace around it (it is trimmed, and must still be scrubbed).
    await everyPath({ apiKey: `  ${PUBLIC_KEY}.${SECRET_KEY}  ` })
    nock.cleanAll()
  }
  // Connection errors whose messages carry the secret.
  nock(ORIGIN)
    .post(/.*/)
    // An Error instance: nock 14 mishandles a plain object here.
    .replyWithError(Object.assign(new Error(`socket hang up near ${SECRET_KEY}`), { code: 'ECONNRESET' }))
    .persist()
  await everyPath(SETTINGS)
  nock.cleanAll()
  nock(ORIGIN).post(/.*/).replyWithError(`plain failure ${SECRET_KEY}`).persist()
  await everyPath(SETTINGS)
  nock.cleanAll()
  // A search that finds only partial matches, and a found affiliate whose edit reports ids_not_changed.
  nock(ORIGIN)
    .post('/v2/affiliate/new')
    .reply(422, { errors: ['The email you have entered is taken by another Affiliate.', SECRET_KEY] })
    .post('/v2/affiliate/search')
    .reply(200, { total: 1, results: [{ id: 'a3y7', email: 'peter@initech.com', note: SECRET_KEY }] })
    .post('/v2/affiliate/get')
    .reply(200, { id: 37569297, email: 'peter@initech.com' })
    .post('/v2/affiliate/edit')
    .reply(200, { ids_changed: [], ids_not_changed: [37569297], error: SECRET_KEY })
  await collect(() =>
    destination.actions.createAffiliate.execute({
      data: event('peter@initech.com'),
      settings: SETTINGS,
      mapping: createMapping,
      auth: undefined
    })
  )
  nock.cleanAll()
}

/** Key settings that do not parse: a clear 400 that names the format, no request, and no echo of the key. */
async function keyFormatScenario() {
  delete process.env.REFERSION_BASE_URL
  const before = unmatched.length
  const invalid = [
    SECRET_KEY,
    `.${SECRET_KEY}`,
    `pub reliab.${SECRET_KEY}`,
    `${PUBLIC_KEY}.${SECRET_KEY} extra`,
    `${PUBLIC_KEY}.${SECRET_KEY}é`,
    `${PUBLIC_KEY}.${SECRET_KEY}\u0000`,
    `${PUBLIC_KEY}.\u200b${SECRET_KEY}`,
    `Ω${PUBLIC_KEY}.${SECRET_KEY}`
  ]
  for (const apiKey of invalid) {
    await everyPath({ apiKey })
    const error = await collect(() =>
      destination.actions.createAffiliate.execute({
        data: event('peter@initech.com'),
        settings: { apiKey },
        mapping: createMapping,
        auth: undefined
      })
    )
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining('publickey.secretkey') })
  }
  expect(unmatched.slice(before)).toEqual([])
  return invalid
}

/** The local server, started with the key as its default settings, and used with it explicitly too. */
async function serveScenario() {
  const serve = await startServe(['--api-key', API_KEY])
  try {
    const answers = [
      await call(serve, 'GET', '/manifest'),
      await call(serve, 'POST', '/authenticate', { apiKey: API_KEY }),
      await call(serve, 'POST', '/authenticate', {}),
      await call(serve, 'POST', '/authenticate', { apiKey: `pub reliab.${SECRET_KEY}` }),
      await call(serve, 'POST', '/authenticate', { apiKey: SECRET_KEY }),
      await call(serve, 'POST', '/authenticate', { settings: { apiKey: API_KEY } }),
      await call(serve, 'POST', '/createAffiliate', { payload: event('serve@rel.test'), settings: SETTINGS }),
      await call(serve, 'POST', '/createAffiliate', { payload: event('serve@rel.test') }),
      await call(serve, 'POST', '/createAffiliate', {
        payload: [event('serve@rel.test'), event('serve2@rel.test'), { type: 'identify', traits: {} }],
        settings: SETTINGS
      }),
      await call(serve, 'POST', '/createAffiliate', {
        payload: { type: 'identify', traits: { email: 'leaky@rel.test', name: `Leaky ${SECRET_KEY}` } },
        settings: SETTINGS
      }),
      await call(serve, 'POST', '/createAffiliate', {
        payload: { type: 'identify', traits: { name: 'No Email' } },
        settings: SETTINGS
      }),
      await call(serve, 'POST', '/createAffiliate', {
        payload: event('weak@rel.test'),
        settings: SETTINGS,
        mapping: { password: SECRET_KEY }
      }),
      await call(serve, 'POST', '/createAffiliate', { payload: event('x@rel.test'), settings: { apiKey: SECRET_KEY } }),
      await call(serve, 'POST', '/deleteAffiliate', {
        payload: { type: 'delete', email: 'serve@rel.test' },
        settings: SETTINGS
      }),
      await call(serve, 'POST', '/deleteAffiliate', {
        payload: { type: 'delete', email: 'nobody@rel.test' },
        settings: SETTINGS
      }),
      await call(serve, 'POST', '/delete', { payload: { userId: 'u-secret' }, settings: SETTINGS }),
      await call(serve, 'POST', '/delete', { payload: { userId: 'ghost' } }),
      await call(serve, 'POST', `/${SECRET_KEY}`, { settings: SETTINGS }),
      await call(serve, 'GET', `/manifest?key=${SECRET_KEY}`),
      await call(serve, 'POST', '/createAffiliate', `{"settings": {"apiKey": "${API_KEY}"`),
      await call(
        serve,
        'POST',
        '/createAffiliate',
        { payload: event('h@rel.test') },
        {
          'content-type': 'application/json',
          authorization: `Bearer ${SECRET_KEY}`,
          origin: 'https://evil.example'
        }
      )
    ]
    for (const answer of answers) {
      sink.add(answer.text)
      sink.add(answer.headers)
    }
    expect(answers[1].json).toEqual({ ok: true })
    expect(answers[6].status).toBe(200)
    // The exchanges show the public key and hide the secret.
    expect(answers[6].text).toContain(PUBLIC_KEY)
    expect(answers[6].text).toContain('<redacted>')
  } finally {
    await serve.stop()
    for (const line of serve.lines) sink.add(line)
  }
  expect(serve.lines.some((line) => line.includes('POST /createAffiliate'))).toBe(true)
}

/** Every `__snapshots__/*.snap` under __tests__. */
function snapshotFiles(dir = path.join(REPO, '__tests__')): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) out.push(...snapshotFiles(full))
    else if (name.endsWith('.snap') && path.basename(dir) === '__snapshots__') out.push(full)
  }
  return out
}

describe('secret hygiene', () => {
  it('the secret half of the key never appears in errors, multistatus, serve answers, logs or snapshots', async () => {
    const sandbox = await startSandbox({
      seed: 4242,
      keys: { publicKey: PUBLIC_KEY, secretKey: SECRET_KEY },
      errorRates: { 429: 0.05, 500: 0.05, 503: 0.05 },
      resetRate: 0.05,
      applyThenDropRate: 0.05,
      spikeRate: 0.01,
      spikeMs: 500,
      retryAfterSeconds: 0
    })
    try {
      await faultScenario(sandbox)
    } finally {
      await sandbox.close()
    }
    const afterFaults = sink.texts.length
    await echoScenario()
    const invalidKeys = await keyFormatScenario()
    if (serveAvailable()) await serveScenario()
    else throw new Error('bin/run serve is missing')
    const snapshots = snapshotFiles()
    for (const file of snapshots) {
      const text = readFileSync(file, 'utf8')
      sink.add(text)
      // A secret header in a snapshot is always shown redacted.
      for (const match of text.matchAll(/refersion-secret-key\\?["']?\s*[:=]\s*\\?["']([^"'\\]*)/gi)) {
        expect(match[1]).toBe('<redacted>')
      }
    }

    expect(afterFaults).toBeGreaterThan(100)
    expect(sink.texts.length).toBeGreaterThan(afterFaults + 100)
    expect(sink.texts.some((text) => text.includes(PUBLIC_KEY))).toBe(true)
    expect(sink.leaks(SECRET_KEY)).toEqual([])
    // The secret halves of the malformed keys (where there is one) are not repeated either.
    for (const apiKey of invalidKeys) {
      const half = apiKey.slice(apiKey.indexOf('.') + 1).trim()
      if (half.length >= 8) expect(sink.leaks(half)).toEqual([])
    }
  }, 90_000)
})
