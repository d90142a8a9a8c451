/**
 * Hostile input to `./bin/run serve --sandbox`: malformed JSON, wrong types, huge bodies, unknown routes and a
 * flood of concurrent requests. The server answers every one with a clear 4xx or an error array, never
 * crashes, still serves GET /manifest afterwards, and listens on loopback only.
 */
import net from 'node:net'
import os from 'node:os'
import { API_KEY, SECRET_KEY } from './helpers'
import { Answer, call, Serve, serveAvailable, startServe } from './serve-process'

const settings = { apiKey: API_KEY }
const identify = (i: number) => ({
  type: 'identify',
  userId: `flood-${i}`,
  traits: { email: `flood.${i}@rel.test`, name: `Flood Person${i}` }
})

let serve: Serve

beforeAll(async () => {
  if (!serveAvailable()) throw new Error('bin/run or tools/cli/index.ts is missing: the serve command is not built yet')
  serve = await startServe()
}, 60_000)

afterAll(async () => {
  await serve?.stop()
})

/** A 4xx with a JSON body that says what is wrong in words, or a 200 with an error array. */
function expectClearRefusal(answer: Answer, pattern?: RegExp) {
  if (answer.status === 200) {
    expect(Array.isArray(answer.json)).toBe(true)
    const [entry] = answer.json
    expect(entry).toMatchObject({ requestError: true })
    expect(typeof entry.statusCode).toBe('number')
    expect(entry.message).toEqual(expect.any(String))
    if (pattern) expect(entry.message).toMatch(pattern)
    return
  }
  expect(answer.status).toBeGreaterThanOrEqual(400)
  expect(answer.status).toBeLessThan(500)
  expect(answer.json).toEqual(expect.objectContaining({ message: expect.any(String) }))
  expect(answer.json.message.length).toBeGreaterThan(5)
  if (pattern) expect(answer.json.message).toMatch(pattern)
}

describe('serve under hostile input', () => {
  it('listens on loopback only', async () => {
    expect(serve.listeningLine).toMatch(new RegExp(`listening at http://127\\.0\\.0\\.1:${serve.port}\\b`))
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal)
      .map((a) => a.address)
    for (const address of external) {
      const connected = await new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: address, port: serve.port })
        socket.setTimeout(2000)
        socket.once('connect', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
        socket.once('timeout', () => {
          socket.destroy()
          resolve(false)
        })
      })
      expect({ address, connected }).toEqual({ address, connected: false })
    }
  })

  it('malformed JSON is a 400 that says so (and does not quote the body)', async () => {
    for (const body of [
      '{"payload": ',
      '{payload: 1}',
      "{'payload': {}}",
      '{"payload": {"type": "identify"}}}',
      '\u0000\u0001',
      Buffer.from([0xff, 0xfe, 0x7b, 0x22]),
      `{"settings": {"apiKey": "${API_KEY}"`
    ]) {
      const answer = await call(serve, 'POST', '/createAffiliate', body)
      expectClearRefusal(answer, /JSON/)
      expect(answer.text).not.toContain(SECRET_KEY)
    }
    // Prototype-poisoning keys are refused rather than merged into settings.
    const poisoned = await call(serve, 'POST', '/createAffiliate', '{"payload": {}, "__proto__": {"polluted": true}}')
    expectClearRefusal(poisoned)
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('wrong types in every part of the body are refused clearly', async () => {
    const cases: [string, unknown, RegExp?][] = [
      ['/createAffiliate', 42, /object/i],
      ['/createAffiliate', [1, 2], /object/i],
      ['/createAffiliate', 'just a string', /object/i],
      ['/createAffiliate', null, /object|payload/i],
      ['/createAffiliate', { payload: 42, settings }, /payload/],
      ['/createAffiliate', { payload: 'identify', settings }, /payload/],
      ['/createAffiliate', { payload: [], settings }, /payload/],
      ['/createAffiliate', { payload: [1, 'x', null], settings }, /payload/],
      ['/createAffiliate', { payload: identify(1), settings: 'pub.sec' }, /settings/],
      ['/createAffiliate', { payload: identify(1), settings: [settings] }, /settings/],
      ['/createAffiliate', { payload: identify(1), settings, mapping: [] }, /mapping/],
      ['/createAffiliate', { payload: identify(1), settings, mapping: 'default' }, /mapping/],
      ['/createAffiliate', { payload: identify(1), settings, mapping: { email: { '@path': 42 } } }],
      ['/createAffiliate', { payload: identify(1), settings: { apiKey: 42 } }],
      ['/createAffiliate', { payload: identify(1), settings: { apiKey: 'no-dot-here' } }, /publickey\.secretkey/],
      ['/createAffiliate', { payload: { type: 'identify', traits: 'not an object' }, settings }],
      ['/deleteAffiliate', { payload: { type: 'delete', userId: { nested: true } }, settings }],
      ['/deleteAffiliate', { payload: true, settings }, /payload/],
      ['/delete', { payload: 'user-1', settings }, /payload/],
      ['/delete', { payload: { userId: 'ghost-user' }, settings: 7 }, /settings/]
    ]
    for (const [route, body, pattern] of cases) {
      const answer = await call(serve, 'POST', route, JSON.stringify(body))
      expectClearRefusal(answer, pattern)
    }
    // /authenticate takes the flat settings: wrong shapes answer ok:false or a 400, never a crash.
    for (const body of [42, 'x', [], { apiKey: 42 }, { apiKey: '' }, { apiKey: 'no-dot' }, { settings: 'x' }]) {
      const answer = await call(serve, 'POST', '/authenticate', JSON.stringify(body))
      if (answer.status === 200) expect(answer.json).toMatchObject({ ok: false, error: expect.any(String) })
      else expectClearRefusal(answer)
    }
  })

  it('huge bodies: 10 MB is a 413, a huge field inside the limit ends as an error array', async () => {
    const tenMb = JSON.stringify({
      payload: { type: 'identify', traits: { name: 'x'.repeat(10 * 1024 * 1024) } },
      settings
    })
    const tooBig = await call(serve, 'POST', '/createAffiliate', tenMb)
    expect(tooBig.status).toBe(413)
    expect(tooBig.json).toEqual(expect.objectContaining({ message: expect.stringMatching(/large|limit|bytes/i) }))

    const bigName = `Huge ${'N'.repeat(2 * 1024 * 1024)}`
    const big = await call(serve, 'POST', '/createAffiliate', {
      payload: { type: 'identify', userId: 'huge', traits: { email: 'huge@rel.test', name: bigName } },
      settings
    })
    expect(big.status).toBe(200)
    expect(Array.isArray(big.json)).toBe(true)

    // Deeply nested JSON: parsed or refused, answered either way.
    const deep = `{"payload": {"type": "identify", "traits": ${'['.repeat(5000)}${']'.repeat(5000)}}, "settings": {}}`
    const nested = await call(serve, 'POST', '/createAffiliate', deep)
    expect(nested.status).toBeLessThan(500)
  })

  it('unknown routes and methods are 404s that list the routes', async () => {
    for (const [method, route] of [
      ['GET', '/'],
      ['GET', '/nope'],
      ['POST', '/createAffiliate/extra'],
      ['GET', '/createAffiliate'],
      ['PUT', '/manifest'],
      ['DELETE', '/delete'],
      ['POST', '/%2e%2e/%2e%2e/etc/passwd'],
      ['POST', `/${'a'.repeat(4000)}`]
    ]) {
      const answer = await call(serve, method, route, method === 'GET' ? undefined : '{}')
      expect(answer.status).toBe(404)
      expect(answer.json.message).toMatch(/GET \/manifest/)
    }
  })

  it('a flood of 300 concurrent requests is answered in full, and the server lives on', async () => {
    const bodies = Array.from({ length: 300 }, (_, i) => {
      switch (i % 6) {
        case 0:
          return ['/createAffiliate', { payload: identify(i), settings }]
        case 1:
          return ['/createAffiliate', { payload: [identify(i), identify(i + 1000)], settings }]
        case 2:
          return ['/deleteAffiliate', { payload: { type: 'delete', userId: `flood-${i - 2}` }, settings }]
        case 3:
          return ['/createAffiliate', '{"payload": [']
        case 4:
          return ['/authenticate', settings]
        default:
          return ['/nope', { payload: 1 }]
      }
    }) as [string, unknown][]
    const answers = await Promise.all(
      bodies.map(([route, body]) => call(serve, 'POST', route, typeof body === 'string' ? body : JSON.stringify(body)))
    )
    expect(answers).toHaveLength(300)
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s >= 500)).toEqual([])
    answers.forEach((answer, i) => {
      const kind = i % 6
      if (kind === 3) expect(answer.status).toBe(400)
      else if (kind === 5) expect(answer.status).toBe(404)
      else expect(answer.status).toBe(200)
    })
    expect(serve.alive()).toBe(true)
  })

  it('a multi-megabyte secret poisons nothing: the next request and a burst of 50 valid creates are answered', async () => {
    const hostile = [
      `pub_hostile.${'é🙂(['.repeat(600_000)}`, // non-ASCII, regex-special, megabytes
      `pub_hostile.${'S3cr3t+('.repeat(300_000)}`, // visible ASCII: parses as a key, 2.4 MB
      `pub_hostile.${'word '.repeat(400_000)}` // hundreds of thousands of "words"
    ]
    for (const apiKey of hostile) {
      const answers = await Promise.all([
        call(serve, 'POST', '/createAffiliate', { payload: identify(9000), settings: { apiKey } }),
        call(serve, 'POST', '/authenticate', { apiKey }),
        call(serve, 'POST', '/nope', { settings: { apiKey } })
      ])
      for (const answer of answers) expect(answer.status).toBeLessThan(500)
      expect(answers[0].status).toBe(200)
    }

    const created = (answer: Answer) => {
      expect(answer.status).toBe(200)
      expect(answer.json).toEqual([
        expect.objectContaining({ response: expect.objectContaining({ statusCode: expect.any(Number) }) })
      ])
      const status = answer.json[0].response.statusCode
      expect(status).toBeGreaterThanOrEqual(200)
      expect(status).toBeLessThan(300)
    }
    created(await call(serve, 'POST', '/createAffiliate', { payload: identify(9001), settings }))
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(serve, 'POST', '/createAffiliate', { payload: identify(9100 + i), settings })
      )
    )
    burst.forEach(created)
    // Redaction still works for the valid key.
    for (const answer of burst) {
      expect(answer.text).not.toContain(SECRET_KEY)
      expect(answer.json[0].request.headers['refersion-secret-key']).toBe('<redacted>')
    }
    expect(serve.lines.join('\n')).not.toMatch(/^(error:|5\d\d )/m)
  }, 60_000)

  it('still answers GET /manifest afterwards, and logged every request without a crash', async () => {
    const manifest = await call(serve, 'GET', '/manifest')
    expect(manifest.status).toBe(200)
    expect(manifest.json).toMatchObject({ name: 'Refersion (Actions)', slug: 'actions-refersion' })
    expect(serve.alive()).toBe(true)
    const log = serve.lines.join('\n')
    expect(log).not.toMatch(/unhandled|uncaught|FATAL|exited/i)
    expect(log).not.toContain(SECRET_KEY)
  })
})
