import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { main } from '../../tools/cli'
import { sandboxOptionsFrom } from '../../tools/cli/sandbox-options'
import { parsePort, useSandbox } from '../../tools/cli/serve'
import { isWatchedSource } from '../../tools/cli/watch'

const ROOT = path.resolve(__dirname, '..', '..')
const BIN = path.join(ROOT, 'bin', 'run')
const run = promisify(execFile)

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(['node', 'run', ...args], { out: (t) => (out += t), err: (t) => (err += t) })
  return { code, out, err }
}

describe('./bin/run (real process)', () => {
  test('is executable, runs from any working directory, and checks generated types and the definition', async () => {
    accessSync(BIN, constants.X_OK)
    const [help, types, validate] = await Promise.all([
      run(BIN, ['--help'], { cwd: os.tmpdir() }),
      run(BIN, ['generate:types', '--check'], { cwd: os.tmpdir() }),
      run(BIN, ['validate'], { cwd: ROOT })
    ])
    expect(help.stdout).toMatch(/Usage: run \[options\] \[command\]/)
    for (const command of ['serve', 'sandbox', 'generate:types', 'generate:metadata-payload', 'validate'])
      expect(help.stdout).toContain(command)
    expect(types.stdout).toContain('Generated files are up to date.')
    expect(validate.stdout).toContain('The destination definition is valid.')
  })

  test('exits 1 with a message for an unknown command', async () => {
    await expect(run(BIN, ['frobnicate'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown command/)
    })
  })
})

describe('--help', () => {
  test.each([
    [
      'serve',
      [/--port <port>/, /--sandbox/, /--no-sandbox/, /--live/, /--no-watch/, /--api-key/, /--rate-limit <N\/ms>/]
    ],
    [
      'sandbox',
      [/--port <port>/, /--latency <ms>/, /--rate-429 <p>/, /--rate-500 <p>/, /--rate-503 <p>/, /--reset-rate/]
    ],
    ['generate:types', [/--check/, /metadata.json/]],
    ['generate:metadata-payload', [/only src\/metadata.json/]],
    ['bench', [/--events <n>/, /--batch-size <n>/, /--cpu-rounds <n>/]],
    ['validate', [/Segment's tooling/]]
  ])('%s --help', async (command, expected) => {
    const { code, out } = await cli(command, '--help')
    expect(code).toBe(0)
    expect(out).toContain(`Usage: run ${command}`)
    for (const pattern of expected) expect(out).toMatch(pattern)
  })

  test('the hidden worker command is not listed', async () => {
    const { code, out } = await cli('--help')
    expect(code).toBe(0)
    expect(out).not.toContain('__serve-worker')
  })
})

describe('commands in process', () => {
  test('validate succeeds on the committed definition', async () => {
    expect(await cli('validate')).toMatchObject({ code: 0, out: 'The destination definition is valid.\n' })
  })

  test('a bad option value is a usage error', async () => {
    const result = await cli('serve', '--port', 'eighty', '--no-watch', '--live')
    expect(result.code).toBe(1)
    expect(result.err).toMatch(/--port must be a port number/)
  })
})

describe('serve options', () => {
  test.each<[Parameters<typeof useSandbox>[0], Record<string, string>, boolean]>([
    [{}, {}, true],
    [{ sandbox: true }, {}, true],
    [{ sandbox: true }, { REFERSION_BASE_URL: 'http://x/v2' }, true],
    [{ sandbox: false }, {}, false],
    [{ live: true }, {}, false],
    [{}, { REFERSION_BASE_URL: 'http://x/v2' }, false],
    [{}, { REFERSION_BASE_URL: '  ' }, true],
    [{ apiKey: 'pub_real.sec_real' }, {}, false],
    [{}, { REFERSION_API_KEY: 'pub_real.sec_real' }, false],
    [{ sandbox: true, apiKey: 'pub_demo.sec_demo' }, {}, true]
  ])('useSandbox(%j, %j) is %s', (flags, env, expected) => {
    expect(useSandbox(flags, env)).toBe(expected)
  })

  test('--sandbox with --live is refused', () => {
    expect(() => useSandbox({ sandbox: true, live: true }, {})).toThrow(/contradict/)
  })

  test('ports', () => {
    expect(parsePort('3000', '--port')).toBe(3000)
    expect(parsePort('0', '--port')).toBe(0)
    expect(() => parsePort('70000', '--port')).toThrow(/--port must be a port number between 0 and 65535/)
    expect(() => parsePort('3e3', '$PORT')).toThrow(/\$PORT/)
  })

  test('sandbox fault flags override their environment variables and errors name the flag', () => {
    const options = sandboxOptionsFrom(
      { latency: '25', rate429: '0.5', rateLimit: '10/1000', seed: '3' },
      { SANDBOX_LATENCY_MS: '900', SANDBOX_RATE_500: '0.1' }
    )
    expect(options).toMatchObject({
      latencyMs: 25,
      seed: 3,
      errorRates: { 429: 0.5, 500: 0.1 },
      rateLimit: { requests: 10, perMs: 1000 }
    })
    expect(() => sandboxOptionsFrom({ resetRate: '3' }, {})).toThrow(/--reset-rate must be a number between 0 and 1/)
    expect(() => sandboxOptionsFrom({}, { SANDBOX_RATE_LIMIT: 'lots' })).toThrow(/SANDBOX_RATE_LIMIT/)
  })

  test('watched files: TypeScript sources, not tests (the tooling is outside src/, so nothing else is excluded)', () => {
    expect(isWatchedSource('index.ts')).toBe(true)
    expect(isWatchedSource('createAffiliate/index.ts')).toBe(true)
    expect(isWatchedSource('lib/client.ts')).toBe(true)
    expect(isWatchedSource('sandbox/store.ts')).toBe(true)
    expect(isWatchedSource('createAffiliate/__tests__/index.test.ts')).toBe(false)
    expect(isWatchedSource('lib/client.test.ts')).toBe(false)
    expect(isWatchedSource('node_modules/x/index.ts')).toBe(false)
    expect(isWatchedSource('index.ts~')).toBe(false)
    expect(isWatchedSource('.index.ts.swp')).toBe(false)
  })
})
