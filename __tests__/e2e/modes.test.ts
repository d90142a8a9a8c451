/**
 * End to end: which Refersion `serve` talks to (sandbox, REFERSION_BASE_URL, live), default settings from
 * --api-key, start-up failures, and the `sandbox` subcommand. No request ever reaches the real Refersion.
 */
import net from 'node:net'
import { WebSocket } from 'ws'
import { CliProcess, freePort, poster, read, startServe } from './helpers'

/** Whether a WebSocket client can connect to the port (rejects with the connection error otherwise). */
const wsConnect = (port: number) =>
  new Promise<true>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`)
    socket.once('open', () => {
      socket.close()
      resolve(true)
    })
    socket.once('error', reject)
  })

test('--live without REFERSION_BASE_URL targets the real Refersion API, and says so', async () => {
  const served = await startServe(['--live', '--no-watch', '--port', String(await freePort())])
  try {
    expect(served.cli.output).toContain('Refersion API: LIVE https://api.refersion.com/v2')
    expect(served.sandboxUrl).toBeUndefined()
    // Single-process mode: the server runs in the command's own process.
    expect(served.workerPid).toBe(served.cli.pid)
    // --no-watch: no reloads, so no live-reload WebSocket server either.
    expect(served.cli.output).not.toMatch(/Live reload/)
    await expect(wsConnect(Number(new URL(served.url).port) + 1)).rejects.toThrow(/ECONNREFUSED/)
  } finally {
    expect(await served.cli.stop()).toBe(0)
  }
})

test('REFERSION_BASE_URL set and no flag: no sandbox, the URL is used; --api-key supplies default settings', async () => {
  const cli = new CliProcess(['sandbox', '--port', String(await freePort())])
  const base = (await cli.waitFor(/REFERSION_BASE_URL=(\S+)/))[1]
  const served = await startServe(
    ['--no-watch', '--port', String(await freePort()), '--api-key', 'pub_k.sec_DEFAULTSECRET1'],
    { REFERSION_BASE_URL: base }
  )
  try {
    expect(served.cli.output).toContain(`Refersion API: ${base} (from REFERSION_BASE_URL)`)
    expect(served.sandboxUrl).toBeUndefined()
    expect(served.cli.output).toContain('Default settings: apiKey pub_k.<redacted>')
    const post = poster(served.url)
    const auth = await post('/authenticate', {})
    expect(auth.json).toEqual({ ok: true })
    const created = await post('/createAffiliate', {
      payload: { type: 'identify', userId: 'u9', traits: { name: 'Joanna Smith', email: 'joanna@chotchkies.com' } }
    })
    expect(created.json).toHaveLength(1)
    expect(created.json[0].request.headers['refersion-public-key']).toBe('pub_k')
    expect(created.text).not.toContain('DEFAULTSECRET')
    const stored = await read(await fetch(base.replace(/\/v2$/, '/_sandbox/affiliates')))
    expect(stored.json.total).toBe(1)
  } finally {
    await served.cli.stop()
    await cli.stop()
  }
  expect(served.cli.output).not.toContain('DEFAULTSECRET')
})

test('the sandbox subcommand prints its URL and REFERSION_BASE_URL, takes fault flags, stops on SIGTERM', async () => {
  const port = await freePort()
  const cli = new CliProcess(['sandbox', '--port', String(port), '--latency', '1', '--seed', '7'])
  await cli.waitFor(/REFERSION_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v2/)
  expect(cli.output).toContain(`Refersion sandbox: http://127.0.0.1:${port}`)
  const faults = await read(await fetch(`http://127.0.0.1:${port}/_sandbox/faults`))
  expect(faults.json.latencyMs).toBe(1)
  expect(await cli.stop()).toBe(0)
})

test('bad start-up input fails fast with a clear message and exit code 1', async () => {
  const contradiction = new CliProcess(['serve', '--sandbox', '--live'])
  const badRate = new CliProcess(['sandbox', '--rate-429', '2'])
  const badKey = new CliProcess(['serve', '--api-key', 'pub_only'])
  expect(await Promise.all([contradiction.exited(), badRate.exited(), badKey.exited()])).toEqual([1, 1, 1])
  expect(contradiction.output).toMatch(/--sandbox and --live contradict/)
  expect(badRate.output).toMatch(/--rate-429 must be a number between 0 and 1/)
  expect(badKey.output).toMatch(/publickey\.secretkey/)
  expect(badKey.output).not.toMatch(/Refersion sandbox:/)
})

test('a port already in use stops serve (supervisor and worker) with exit code 1', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
  const address = blocker.address()
  const port = address && typeof address === 'object' ? address.port : 0
  try {
    const cli = new CliProcess(['serve', '--port', String(port)], { REFERSION_SERVE_WATCH: __dirname })
    expect(await cli.exited(15_000)).toBe(1)
    expect(cli.output).toMatch(/cannot start the server: .*EADDRINUSE/)
    await cli.stop()
  } finally {
    blocker.close()
  }
})

test('with port+1 taken, serve runs on without live reload and says so', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
  const address = blocker.address()
  const taken = address && typeof address === 'object' ? address.port : 0
  try {
    const served = await startServe(['--port', String(taken - 1)], { REFERSION_SERVE_WATCH: __dirname })
    try {
      await served.cli.waitFor(/^Live reload is off: cannot listen on 127\.0\.0\.1:(\d+)/m)
      expect(served.cli.output).toContain(`127.0.0.1:${taken} (`)
      expect((await fetch(`${served.url}/manifest`)).status).toBe(200)
    } finally {
      expect(await served.cli.stop()).toBe(0)
    }
  } finally {
    blocker.close()
  }
})
