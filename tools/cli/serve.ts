import { ChildProcess, fork } from 'node:child_process'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { parseApiKey } from '../../src/lib/auth'
import { baseUrl, DEFAULT_BASE_URL, DEFAULT_TRACKING_URL, trackingUrl } from '../../src/lib/client'
import { startSandbox } from '../sandbox'
import type { RunningSandbox, SandboxOptions } from '../sandbox'
import { loadDefinition } from './definition'
import { SandboxFlags, sandboxOptionsFrom } from './sandbox-options'
import { buildDevServer, describeApiKey } from './server'
import { CHANGE_MESSAGE, LiveReload, startLiveReload } from './live-reload'
import { SourceWatcher, watchSources } from './watch'

export const REPO_ROOT = path.resolve(__dirname, '..', '..')
/** The CLI entry the supervisor forks its workers from (it registers tsx, then runs tools/cli/index.ts). */
const RUN_JS = path.join(REPO_ROOT, 'bin', 'run.js')
/** Hidden subcommand a forked worker runs. */
export const WORKER_COMMAND = '__serve-worker'
const HOST = '127.0.0.1'
const STOP_TIMEOUT_MS = 5000

export interface ServeFlags extends SandboxFlags {
  port?: string
  /** true: --sandbox, false: --no-sandbox, undefined: neither. */
  sandbox?: boolean
  live?: boolean
  sandboxPort?: string
  watch?: boolean
  apiKey?: string
}

/** What a worker needs; sent over IPC, so the default API key never shows in a process list or environment. */
export interface WorkerConfig {
  port: number
  apiKey?: string
}

type WorkerMessage = { type: 'listening'; port: number; pid: number } | { type: 'fatal'; message: string }

const log = (line: string) => console.log(line)

export function parsePort(value: string, name: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number between 0 and 65535 (got "${value}")`)
  }
  return port
}

/**
 * Sandbox or live: `--sandbox` → sandbox; `--no-sandbox`/`--live` → live; neither → the sandbox unless a real
 * key or endpoint is configured: live when REFERSION_BASE_URL is set (it is then used) or a default key is
 * given (`--api-key` / REFERSION_API_KEY). "Live" means REFERSION_BASE_URL when set, otherwise the real
 * Refersion API (https://api.refersion.com/v2).
 */
export function useSandbox(
  flags: Pick<ServeFlags, 'sandbox' | 'live' | 'apiKey'>,
  env: NodeJS.ProcessEnv = process.env
): boolean {
  if (flags.sandbox === true && flags.live) throw new Error('--sandbox and --live contradict each other: choose one')
  if (flags.sandbox === true) return true
  if (flags.sandbox === false || flags.live) return false
  const defaultKey = (flags.apiKey ?? env.REFERSION_API_KEY)?.trim()
  return !env.REFERSION_BASE_URL?.trim() && !defaultKey
}

/** Builds the server for the destination and listens on 127.0.0.1. */
async function listen(config: WorkerConfig): Promise<FastifyInstance> {
  const app = buildDevServer({
    definition: loadDefinition(),
    defaultSettings: config.apiKey ? { apiKey: config.apiKey } : undefined,
    log
  })
  await app.listen({ host: HOST, port: config.port })
  return app
}

function listeningLine(app: FastifyInstance): string {
  const address = app.server.address()
  const port = address && typeof address === 'object' ? address.port : 0
  return `listening at http://${HOST}:${port} (pid ${process.pid})`
}

/** Runs in the forked worker: waits for its config, serves, and exits when told to or when the supervisor dies. */
export async function runWorker(): Promise<void> {
  if (!process.send) throw new Error(`${WORKER_COMMAND} is internal: run "./bin/run serve"`)
  const send = (message: WorkerMessage) => process.send?.(message)
  const config = await new Promise<WorkerConfig>((resolve) => {
    process.once('message', (message: { type?: string; config?: WorkerConfig }) => {
      if (message?.type === 'start' && message.config) resolve(message.config)
    })
  })
  let app: FastifyInstance | undefined
  let stopping = false
  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    setTimeout(() => process.exit(code), 3000).unref()
    void (app?.close() ?? Promise.resolve()).finally(() => process.exit(code))
  }
  process.on('SIGTERM', () => stop(0))
  process.on('SIGINT', () => stop(0))
  process.on('disconnect', () => stop(0))
  try {
    app = await listen(config)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    stopping = true
    process.send({ type: 'fatal', message } as WorkerMessage, () => process.exit(1))
    return
  }
  log(listeningLine(app))
  // The sandbox (in the supervisor) was reset: the affiliates and ids this worker's destination remembers are gone.
  process.on('message', (message: { type?: string }) => {
    if (message?.type === CLEAR_CACHE) clearDestinationCache()
  })
  const address = app.server.address()
  send({ type: 'listening', port: address && typeof address === 'object' ? address.port : 0, pid: process.pid })
}

/** Message from the supervisor to its worker after a sandbox reset. */
const CLEAR_CACHE = 'clear-cache'

/** Empties the destination's affiliate cache in this process (loaded on demand: the supervisor never loads src/). */
function clearDestinationCache(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { affiliateCache } = require('../../src/lib/affiliate-cache') as typeof import('../../src/lib/affiliate-cache')
  affiliateCache.clear()
}

/**
 * Keeps one worker process serving; on a source change, stops it and forks a fresh one (no stale module cache).
 * Forwards SIGINT/SIGTERM to the worker and exits once it is gone.
 */
class Supervisor {
  private child: ChildProcess | undefined
  /** The worker being stopped on purpose (its exit is expected, not a crash). */
  private retiring: ChildProcess | undefined
  private queue: Promise<void> = Promise.resolve()
  private stopping = false
  private listenedOnce = false

  constructor(
    private readonly config: WorkerConfig,
    private readonly events: {
      /** The first worker could not start (bad port, broken sources): serve cannot run. */
      onFatal: (message: string) => void
      /** A worker listens (`first`: the first one since `serve` started). */
      onListening?: (port: number, first: boolean) => void
      /** The worker that replaced a stopped one listens, or has exited without listening. */
      onReloaded?: () => void
    }
  ) {}

  /** Tells the running worker to empty its affiliate cache (the sandbox it talks to was reset). */
  clearCaches(): void {
    if (this.child?.connected) this.child.send({ type: CLEAR_CACHE })
  }

  /** Forks a worker; resolves once it listens or exits. */
  start(): Promise<void> {
    const child = fork(RUN_JS, [WORKER_COMMAND], { stdio: 'inherit' })
    this.child = child
    let settled: () => void = () => undefined
    const done = new Promise<void>((resolve) => (settled = resolve))
    child.on('message', (message: WorkerMessage) => {
      if (message?.type === 'listening') {
        // Port 0 means "any free port" once: later workers keep the port the first one got.
        this.config.port = message.port
        const first = !this.listenedOnce
        this.listenedOnce = true
        this.events.onListening?.(message.port, first)
        settled()
      } else if (message?.type === 'fatal' && !this.listenedOnce) {
        this.events.onFatal(message.message)
      }
    })
    child.on('exit', (code, signal) => {
      settled()
      if (this.child === child) this.child = undefined
      if (!this.stopping && child !== this.retiring) {
        log(`worker ${child.pid} exited (${signal ?? `code ${code}`}); waiting for a source change to restart it`)
      }
    })
    child.send({ type: 'start', config: this.config })
    return done
  }

  private async stopChild(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.retiring = child
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }

  reload(file: string): void {
    if (this.stopping) return
    log(`reloading: ${file} changed`)
    this.queue = this.queue.then(async () => {
      await this.stopChild()
      if (this.stopping) return
      // Not awaited: a worker that never starts must not hold up the next reload.
      void this.start().then(() => {
        if (!this.stopping) this.events.onReloaded?.()
      })
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.queue
    await this.stopChild()
  }
}

/** Starts the sandbox and points both Refersion hosts at it, saying so. */
async function startServeSandbox(options: SandboxOptions, port: number, env: NodeJS.ProcessEnv) {
  const overridden = env.REFERSION_BASE_URL?.trim()
  const sandbox = await startSandbox({ ...options, host: HOST, port })
  // Both Refersion hosts point at the sandbox: the REST API (/v2) and the order-tracking webhook (its root).
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  process.env.REFERSION_TRACKING_URL = sandbox.trackingUrl
  log(`Refersion API: built-in sandbox, REFERSION_BASE_URL=${sandbox.apiBaseUrl} (--live to use the real API)`)
  log(`Refersion order tracking: built-in sandbox, REFERSION_TRACKING_URL=${sandbox.trackingUrl}`)
  if (overridden) log(`  (--sandbox overrides REFERSION_BASE_URL=${overridden})`)
  log(`Refersion sandbox: ${sandbox.url}`)
  log(
    `GET ${sandbox.url}/_sandbox/affiliates to see affiliates, ${sandbox.url}/_sandbox/conversions for orders and credits`
  )
  if (options.keys) log(`  sandbox accepts only the key pair ${options.keys.publicKey}.<redacted>`)
  return sandbox
}

/** Says which real (or overridden) Refersion hosts requests go to. */
function logLiveHosts(): void {
  const url = baseUrl(process.env)
  log(
    url === DEFAULT_BASE_URL
      ? `Refersion API: LIVE ${url} (real Refersion; requests change real affiliates)`
      : `Refersion API: ${url} (from REFERSION_BASE_URL)`
  )
  const tracking = trackingUrl(process.env)
  log(
    tracking === DEFAULT_TRACKING_URL
      ? `Refersion order tracking: LIVE ${tracking} (Track Order credits real affiliates)`
      : `Refersion order tracking: ${tracking} (from REFERSION_TRACKING_URL)`
  )
}

type ExitAfter = (code: number, stop: () => Promise<void>) => Promise<void>

/** Exits once `stop` (and the sandbox) are closed; a second signal, or a stop that hangs, exits at once. */
function exitHandler(sandbox: RunningSandbox | undefined): ExitAfter {
  let stopping = false
  return async (code, stop) => {
    if (stopping) {
      process.exit(code || 1) // a second Ctrl+C: leave now
    }
    stopping = true
    setTimeout(() => process.exit(code || 1), STOP_TIMEOUT_MS + 2000).unref()
    try {
      await stop()
      await sandbox?.close()
    } finally {
      process.exit(code)
    }
  }
}

/** `--no-watch`: one server in this process. */
async function serveOnce(config: WorkerConfig, sandbox: RunningSandbox | undefined, exitAfter: ExitAfter) {
  let app: FastifyInstance
  try {
    app = await listen(config)
  } catch (error) {
    await sandbox?.close()
    throw error
  }
  log(listeningLine(app))
  const stop = () => exitAfter(0, () => app.close())
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return clearDestinationCache
}

/** Watch mode: a supervised worker process, restarted on source changes, and the live-reload WebSocket. */
function serveWatching(config: WorkerConfig, exitAfter: ExitAfter): () => void {
  let liveReload: LiveReload | undefined
  const stopAll = async () => {
    watcher.close()
    await supervisor.stop()
    await liveReload?.close()
  }
  const supervisor: Supervisor = new Supervisor(config, {
    onFatal: (message) => {
      log(`cannot start the server: ${message}`)
      void exitAfter(1, stopAll)
    },
    onListening: (listening, first) => {
      if (first) void startLiveReloadFor(listening).then((started) => (liveReload = started))
    },
    onReloaded: () => liveReload?.notify()
  })
  const watcher: SourceWatcher = watchSources({
    root: REPO_ROOT,
    onChange: (file) => supervisor.reload(file),
    onError: (message) => log(message)
  })
  log(`Watching ${watcher.description} for changes (--no-watch to disable)`)
  void supervisor.start()
  const stop = () => void exitAfter(0, stopAll)
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return () => supervisor.clearCaches()
}

/** `./bin/run serve`: see the command's help and the README. */
export async function serve(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const port = parsePort(flags.port ?? env.PORT ?? '3000', flags.port !== undefined ? '--port' : '$PORT')
  const apiKey = (flags.apiKey ?? env.REFERSION_API_KEY)?.trim() || undefined
  if (apiKey) parseApiKey(apiKey) // a malformed default key fails now, with a message that never repeats it
  const sandboxOptions = useSandbox(flags, env) ? sandboxOptionsFrom(flags, env) : undefined
  const sandboxPort = flags.sandboxPort === undefined ? 0 : parsePort(flags.sandboxPort, '--sandbox-port')

  // A sandbox reset restarts its affiliate ids (Refersion never reuses one): the served destination forgets its cache.
  let clearCaches: () => void = () => undefined
  const sandbox = sandboxOptions
    ? await startServeSandbox({ ...sandboxOptions, onReset: () => clearCaches() }, sandboxPort, env)
    : undefined
  if (!sandbox) logLiveHosts()
  if (apiKey) log(`Default settings: apiKey ${describeApiKey(apiKey)} (used when a request sends no settings)`)

  const config: WorkerConfig = { port, apiKey }
  const exitAfter = exitHandler(sandbox)
  clearCaches = flags.watch === false ? await serveOnce(config, sandbox, exitAfter) : serveWatching(config, exitAfter)
}

/** Segment's live reload on the HTTP port + 1; serve runs on without it when that port is taken. */
async function startLiveReloadFor(httpPort: number): Promise<LiveReload | undefined> {
  const port = httpPort + 1
  try {
    const live = await startLiveReload(HOST, port)
    log(
      `Live reload: ${live.url} sends "${CHANGE_MESSAGE}" to every client after each reload (the Actions Tester refreshes on it)`
    )
    return live
  } catch (error) {
    log(
      `Live reload is off: cannot listen on ${HOST}:${port} (${error instanceof Error ? error.message : String(error)})`
    )
    return undefined
  }
}
