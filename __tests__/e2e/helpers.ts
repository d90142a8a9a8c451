import { ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { read } from '../support/http'
import type { Answer } from '../support/http'

export { read }
export type { Answer }

export const ROOT = path.resolve(__dirname, '..', '..')
export const BIN = path.join(ROOT, 'bin', 'run')

/** A free loopback port (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = address && typeof address === 'object' ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A `./bin/run …` child process, in its own process group, with its output collected. */
export class CliProcess {
  readonly child: ChildProcess
  private out = ''
  private exit: Promise<number | null>
  exitCode: number | null | undefined

  constructor(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT) {
    const childEnv: Record<string, string | undefined> = { ...process.env }
    for (const name of [
      'PORT',
      'REFERSION_BASE_URL',
      'REFERSION_TRACKING_URL',
      'REFERSION_API_KEY',
      'REFERSION_SERVE_WATCH'
    ]) {
      delete childEnv[name]
    }
    for (const name of Object.keys(childEnv)) if (name.startsWith('SANDBOX_')) delete childEnv[name]
    this.child = spawn(BIN, args, { cwd, env: { ...childEnv, ...env }, detached: true, stdio: 'pipe' })
    this.child.stdout?.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')))
    this.child.stderr?.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')))
    this.exit = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code
        resolve(code)
      })
    )
  }

  get output(): string {
    return this.out
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Waits for `pattern` in the output after character `from`; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null
    await until(
      () => {
        match = pattern.exec(this.out.slice(from))
        return match !== null || this.exitCode !== undefined
      },
      timeoutMs,
      `${pattern} in the output of ./bin/run:\n${this.out}`
    )
    if (!match) throw new Error(`./bin/run exited (${this.exitCode}) before printing ${pattern}:\n${this.out}`)
    return match
  }

  /** Resolves with the exit code (waits at most timeoutMs). */
  async exited(timeoutMs = 10_000): Promise<number | null> {
    await until(() => this.exitCode !== undefined, timeoutMs, 'the process to exit')
    return this.exit
  }

  /** SIGTERM, then (if still running after the grace period) SIGKILL to the whole process group. */
  async stop(graceMs = 8_000): Promise<number | null | undefined> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM')
    try {
      await this.exited(graceMs)
    } catch {
      // fall through to the group kill
    }
    try {
      process.kill(-this.pid, 'SIGKILL')
    } catch {
      // the group is already gone
    }
    return this.exitCode
  }
}

/** A running `./bin/run serve`: base URL, sandbox URL, and the worker's pid as logged. */
export interface Served {
  cli: CliProcess
  url: string
  sandboxUrl?: string
  workerPid: number
}

export async function startServe(args: string[], env: Record<string, string | undefined> = {}): Promise<Served> {
  const cli = new CliProcess(['serve', ...args], env)
  const listening = await cli.waitFor(/listening at (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)\)/)
  const sandbox = /Refersion sandbox: (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output)
  return { cli, url: listening[1], sandboxUrl: sandbox?.[1], workerPid: Number(listening[2]) }
}

/** Every response seen by a test file, to check the secret never shows. */
export class Transcript {
  private readonly texts: string[] = []

  record(answer: Answer): Answer {
    const headers: string[] = []
    answer.headers.forEach((value, name) => headers.push(`${name}: ${value}`))
    this.texts.push(headers.join('\n'), answer.text)
    return answer
  }

  get all(): string {
    return this.texts.join('\n')
  }
}

export function poster(base: string, transcript?: Transcript) {
  return async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body)
    })
    const answer = await read(res)
    return transcript ? transcript.record(answer) : answer
  }
}
