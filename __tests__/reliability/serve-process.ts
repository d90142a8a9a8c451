/**
 * `./bin/run serve --sandbox --no-watch` as a child process on a free loopback port, with its output kept.
 */
import { ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { parseJson } from '../support/http'

export const REPO = path.resolve(__dirname, '..', '..')
export const BIN_RUN = path.join(REPO, 'bin', 'run')

/** Whether the serve command exists yet (it is built concurrently with this suite). */
export const serveAvailable = () => existsSync(BIN_RUN) && existsSync(path.join(REPO, 'tools', 'cli', 'index.ts'))

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export interface Serve {
  port: number
  url: string
  child: ChildProcess
  /** Every line the process wrote to stdout or stderr. */
  lines: string[]
  listeningLine: string
  alive(): boolean
  stop(): Promise<void>
}

export interface Answer {
  status: number
  headers: Record<string, string>
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

/** Starts the server and resolves once it has logged that it listens. */
export async function startServe(extraArgs: string[] = [], startupMs = 45_000): Promise<Serve> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) {
    if (key === 'PORT' || key.startsWith('REFERSION_') || key.startsWith('SANDBOX_')) delete env[key]
  }
  const child = spawn(
    process.execPath,
    [BIN_RUN, 'serve', '--sandbox', '--no-watch', '--port', String(port), ...extraArgs],
    {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  const lines: string[] = []
  let exited = false
  child.once('exit', () => (exited = true))
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start in ${startupMs} ms:\n${lines.join('\n')}`)),
      startupMs
    )
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue
        lines.push(line)
        if (/listening at http/.test(line)) {
          clearTimeout(timer)
          resolve(line)
        }
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${signal ?? code}) before listening:\n${lines.join('\n')}`))
    })
  })
  const listeningLine = await listening
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    lines,
    listeningLine,
    alive: () => !exited && child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
    }
  }
}

/** Sends a request to the server and reads the whole answer (never throws on HTTP statuses). */
export async function call(
  serve: Serve,
  method: string,
  route: string,
  body?: string | Buffer | object,
  headers: Record<string, string> = { 'content-type': 'application/json' }
): Promise<Answer> {
  const payload =
    body === undefined
      ? undefined
      : typeof body === 'string'
      ? body
      : Buffer.isBuffer(body)
      ? new Uint8Array(body)
      : JSON.stringify(body)
  const res = await fetch(serve.url + route, { method, headers, body: payload, signal: AbortSignal.timeout(30_000) })
  const text = await res.text()
  const json = parseJson(text)
  const out: Record<string, string> = {}
  res.headers.forEach((value, key) => (out[key] = value))
  return { status: res.status, headers: out, text, json }
}

/**
 * Answered sanely: a 4xx with a message, or a 200 whose array holds either a typed error (4xx, with a message)
 * or exchanges none of which the sandbox answered with a 5xx.
 */
export function expectSane(answer: Answer, what: string): 'refused' | 'sent' {
  const context = `${what} → ${answer.status} ${answer.text.slice(0, 300)}`
  expect({ context, status: answer.status < 500 }).toEqual({ context, status: true })
  if (answer.status !== 200) {
    expect(answer.status).toBeGreaterThanOrEqual(400)
    expect(answer.json).toEqual(expect.objectContaining({ message: expect.any(String) }))
    return 'refused'
  }
  expect(Array.isArray(answer.json)).toBe(true)
  const first = answer.json[0]
  if (first?.requestError) {
    expect({ context, statusCode: first.statusCode < 500 }).toEqual({ context, statusCode: true })
    expect(first.message).toEqual(expect.any(String))
    expect(first.message.length).toBeGreaterThan(5)
    return 'refused'
  }
  for (const exchange of answer.json) {
    expect({ context, upstream: exchange.response.statusCode < 500 }).toEqual({ context, upstream: true })
  }
  return 'sent'
}

/** What a hostile-input suite drives: `./bin/run serve --sandbox` started once for the file, every answer kept. */
export interface HostileServe {
  /** The running serve (after beforeAll). */
  readonly serve: Serve
  /** Every answer `send` got, for the secret-hygiene checks. */
  readonly answers: Answer[]
  send(route: string, body: string | object): Promise<Answer>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  sandbox(path: string): Promise<any>
}

/** Starts serve (with its sandbox) before the file's tests and stops it after them. */
export function useHostileServe(): HostileServe {
  let serve: Serve | undefined
  let sandboxUrl = ''
  const answers: Answer[] = []
  beforeAll(async () => {
    if (!serveAvailable())
      throw new Error('bin/run or tools/cli/index.ts is missing: the serve command is not built yet')
    serve = await startServe()
    const match = serve.lines.map((line) => /Refersion sandbox: (http:\/\/127\.0\.0\.1:\d+)/.exec(line)).find(Boolean)
    if (!match) throw new Error(`serve did not log its sandbox URL:\n${serve.lines.join('\n')}`)
    sandboxUrl = match[1]
  }, 60_000)
  afterAll(async () => {
    await serve?.stop()
  })
  return {
    get serve() {
      return serve as Serve
    },
    answers,
    async send(route, body) {
      const answer = await call(serve as Serve, 'POST', route, typeof body === 'string' ? body : JSON.stringify(body))
      answers.push(answer)
      return answer
    },
    async sandbox(path) {
      return (await fetch(sandboxUrl + path)).json()
    }
  }
}
