/**
 * End to end: `./bin/run serve` with no mode flag (the sandbox by default), reloading in a fresh worker process
 * when a watched file changes, and a clean shutdown on SIGTERM. The watcher is pointed at a scratch directory
 * ($REFERSION_SERVE_WATCH) so that edits to the real sources during a test run cannot interfere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
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
