/**
 * End to end: `./bin/run serve` with no mode flag (the sandbox by default), reloading in a fresh worker process
 * when a watched file changes, and a clean shutdown on SIGTERM. The watcher is pointed at a scratch directory
 * ($REFERSION_SERVE_WATCH) so that edits to the real sources during a test run cannot interfere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { WebSocket } from 'ws'
import { freePort, isAlive, poster, read, Served, startServe } from './helpers'

let served: Served
let scratch: string

const workerPid = async () => Number((await fetch(`${served.url}/manifest`)).headers.get('x-serve-worker-pid'))

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'refersion-serve-watch-'))
  served = await startServe(['--port', String(await freePort())], { REFERSION_SERVE_WATCH: scratch })
})

afterAll(async () => {
  await served?.cli.stop()
  rmSync(scratch, { recursive: true, force: true })
})

test('with no real key configured and no flag, serve runs on the built-in sandbox', async () => {
  expect(served.cli.output).toMatch(/Refersion API: built-in sandbox/)
  expect(served.sandboxUrl).toBeDefined()
  expect(served.cli.output).toContain(`Watching ${scratch}/`)
  // The sandbox accepts any pub.sec pair by default.
  expect((await poster(served.url)('/authenticate', { apiKey: 'pub.sec' })).json).toEqual({ ok: true })
})

test('a source change reloads the server in a fresh worker process; sandbox state survives', async () => {
  const post = poster(served.url)
  const before = await workerPid()
  expect(before).toBe(served.workerPid)
  expect(before).not.toBe(served.cli.pid)

  await post('/createAffiliate', {
    payload: { type: 'identify', userId: 'u-reload', traits: { name: 'Bill Lumbergh', email: 'bill@initech.com' } },
    settings: { apiKey: 'pub.sec' }
  })

  const mark = served.cli.output.length
  writeFileSync(path.join(scratch, 'changed.ts'), `export const at = ${Date.now()}\n`)
  await served.cli.waitFor(/^reloading: .*changed\.ts changed$/m, 10_000, mark)
  const listening = await served.cli.waitFor(/listening at http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\)/, 15_000, mark)
  const after = Number(listening[1])

  expect(after).not.toBe(before)
  expect(await workerPid()).toBe(after)
  expect(isAlive(before)).toBe(false)
  // Same port, same sandbox: the affiliate created before the reload is still there.
  expect(served.cli.output.slice(mark)).toContain(served.url)
  const list = await read(await fetch(`${served.sandboxUrl}/_sandbox/affiliates`))
  expect(list.json.affiliates.map((a: { email: string }) => a.email)).toEqual(['bill@initech.com'])
  served.workerPid = after
})

/** A WebSocket client of the live-reload server, with every message it received. */
async function liveReloadClient(url: string, origin?: string) {
  const socket = new WebSocket(url, origin ? { origin } : {})
  const messages: string[] = []
  socket.on('message', (data) => messages.push(data.toString()))
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return { socket, messages }
}

test('live reload: a WebSocket server on port+1 sends "change" to every client after a source change', async () => {
  const port = Number(new URL(served.url).port)
  const line = await served.cli.waitFor(/^Live reload: (ws:\/\/127\.0\.0\.1:(\d+)) sends "change"/m)
  expect(Number(line[2])).toBe(port + 1)
  const clients = [await liveReloadClient(line[1]), await liveReloadClient(line[1], 'https://app.segment.com')]
  // Another site's page may not listen in.
  await expect(liveReloadClient(line[1], 'https://evil.example')).rejects.toThrow(/403/)

  const mark = served.cli.output.length
  writeFileSync(path.join(scratch, 'live.ts'), `export const at = ${Date.now()}\n`)
  const listening = await served.cli.waitFor(/listening at http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\)/, 15_000, mark)
  served.workerPid = Number(listening[1])
  const deadline = Date.now() + 5000
  while (clients.some((c) => c.messages.length === 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  for (const client of clients) expect(client.messages).toEqual(['change'])
  // Sent once the new worker listens: the client's refresh finds the server up.
  expect((await fetch(`${served.url}/manifest`)).status).toBe(200)
  for (const client of clients) client.socket.close()
})

test('files that are not TypeScript sources do not trigger a reload', async () => {
  const mark = served.cli.output.length
  writeFileSync(path.join(scratch, 'notes.txt'), 'hello')
  writeFileSync(path.join(scratch, 'thing.test.ts'), 'export {}')
  await new Promise((resolve) => setTimeout(resolve, 400))
  expect(served.cli.output.slice(mark)).not.toMatch(/reloading/)
})

test('SIGTERM stops the supervisor, the worker and the sandbox cleanly', async () => {
  const worker = served.workerPid
  const sandboxUrl = served.sandboxUrl
  const code = await served.cli.stop()
  expect(code).toBe(0)
  expect(isAlive(worker)).toBe(false)
  await expect(fetch(`${sandboxUrl}/`)).rejects.toThrow()
})
