import path from 'node:path'
import { Command, CommanderError } from 'commander'
import { startSandbox } from '../sandbox'
import { loadDefinition } from './definition'
import { addSandboxFlags, SandboxFlags, sandboxOptionsFrom } from './sandbox-options'
import { parsePort, REPO_ROOT, runWorker, serve, ServeFlags, WORKER_COMMAND } from './serve'
import { validateDefinition } from './validate'

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text)
}

/** Loaded on demand: its dependencies (json-schema-to-typescript, prettier) are slow to load. */
function loadGenerate(): typeof import('./generate') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./generate') as typeof import('./generate')
}

/** Loaded on demand: it loads the destination and the sandbox, which the `serve` supervisor must not. */
function loadBench(): typeof import('../bench') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../bench') as typeof import('../bench')
}

/** The process exit code a command sets (`serve` and `sandbox` keep running after their action resolves). */
interface Result {
  code: number
}

function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'Run the Segment CLI-compatible local server for the destination on 127.0.0.1 (GET /manifest, ' +
        'POST /authenticate, POST /<action>, POST /delete). Uses the built-in Refersion sandbox unless --live is ' +
        'given, REFERSION_BASE_URL is set or a real key is given (--api-key / $REFERSION_API_KEY), and reloads ' +
        '(in a fresh process) when src/ changes, telling WebSocket clients on port+1 ("change").'
    )
    .option('-p, --port <port>', 'port to listen on (default: $PORT or 3000); live reload listens on port+1')
    .option(
      '--sandbox',
      'send requests to the built-in Refersion sandbox (the default unless REFERSION_BASE_URL or a default key is set)'
    )
    .option(
      '--no-sandbox',
      'do not start the sandbox: send requests to REFERSION_BASE_URL, else the real Refersion API'
    )
    .option('--live', 'same as --no-sandbox')
    .option('--sandbox-port <port>', 'port for the sandbox (default: a free port)')
    .option('--no-watch', 'do not watch src/, reload or run the live-reload WebSocket server')
    .option(
      '--api-key <publickey.secretkey>',
      'settings.apiKey for requests that send no settings (or $REFERSION_API_KEY); never printed'
    )
  return addSandboxFlags(command).action(async (flags: ServeFlags) => {
    await serve(flags)
  })
}

function sandboxCommand(io: CliIo): Command {
  const command = new Command('sandbox')
    .description(
      'Run only the Refersion API sandbox (in-memory simulator) on 127.0.0.1 and print the REFERSION_BASE_URL and REFERSION_TRACKING_URL to use. ' +
        'Also reads SANDBOX_* environment variables (SANDBOX_PUBLIC_KEY/SANDBOX_SECRET_KEY to accept one key pair only).'
    )
    .option('-p, --port <port>', 'port to listen on (default: a free port)')
  return addSandboxFlags(command).action(async (flags: SandboxFlags & { port?: string }) => {
    const options = sandboxOptionsFrom(flags)
    const port = flags.port === undefined ? 0 : parsePort(flags.port, '--port')
    const sandbox = await startSandbox({ ...options, host: '127.0.0.1', port })
    io.out(`Refersion sandbox: ${sandbox.url}\n`)
    io.out(`REFERSION_BASE_URL=${sandbox.apiBaseUrl}\n`)
    io.out(`REFERSION_TRACKING_URL=${sandbox.trackingUrl}\n`)
    io.out(`GET ${sandbox.url}/_sandbox/affiliates to see affiliates (also /_sandbox/stats, /_sandbox/faults)\n`)
    const stop = () => void sandbox.close().finally(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

const listed = (files: string[]) => files.map((file) => `  ${file}\n`).join('')

/** Lists what a generate command wrote or, with check, the stale files it would write (exit code 1). */
function reportGenerated(io: CliIo, result: Result, files: string[], check = false): void {
  const shown = files.map((file) => path.relative(REPO_ROOT, file))
  if (check && shown.length) {
    io.err(`Generated files are out of date (run ./bin/run generate:types):\n${listed(shown)}`)
    result.code = 1
  } else if (shown.length) io.out(`Wrote:\n${listed(shown)}`)
  else io.out('Generated files are up to date.\n')
}

function generateTypesCommand(io: CliIo, result: Result): Command {
  return new Command('generate:types')
    .description(
      "Write src/generated-types.ts and src/<action>/generated-types.ts from the definition's fields, and " +
        "src/metadata.json (as Segment's generate:metadata-payload)"
    )
    .option('--check', 'write nothing; exit 1 listing the files that are out of date')
    .action(async (flags: { check?: boolean }) => {
      const generate = loadGenerate()
      const stale = await generate.syncGenerated(await generate.generatedFiles(loadDefinition()), flags)
      reportGenerated(io, result, stale, flags.check)
    })
}

function generateMetadataCommand(io: CliIo, result: Result): Command {
  return new Command('generate:metadata-payload')
    .description("Write only src/metadata.json, the destination's public metadata, as Segment's command of that name")
    .action(async () => {
      const generate = loadGenerate()
      reportGenerated(io, result, await generate.syncGenerated([generate.metadataFile(loadDefinition())]))
    })
}

function validateCommand(io: CliIo, result: Result): Command {
  return new Command('validate')
    .description(
      "Check the definition as Segment's tooling would: labels and descriptions, valid default mappings, " +
        'parseable subscriptions, presets pointing at real actions, name/slug/mode'
    )
    .action(() => {
      const problems = validateDefinition(loadDefinition())
      if (problems.length) {
        io.err(
          `${problems.length} problem(s) in the destination definition:\n${problems.map((p) => `  - ${p}\n`).join('')}`
        )
        result.code = 1
      } else io.out('The destination definition is valid.\n')
    })
}

/** tools/bench's own command when it is the one asked for; otherwise only its name and description, for the help. */
function benchCommand(argv: string[]): Command {
  const asked = argv.slice(2).find((arg) => !arg.startsWith('-')) === 'bench'
  if (asked) return loadBench().benchCommand()
  return new Command('bench').description('Benchmark the destination against the sandbox (tools/bench)')
}

function workerCommand(): Command {
  return new Command(WORKER_COMMAND).action(async () => {
    await runWorker()
  })
}

/** The `./bin/run` program, and the exit code its command sets. */
export function buildProgram(
  io: CliIo = defaultIo,
  argv: string[] = process.argv
): { program: Command; result: Result } {
  const result: Result = { code: 0 }
  const program = new Command('run')
    .description('Refersion (Actions) destination: development server, sandbox, type generation and checks.')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError()
    .exitOverride()
  // Commands built apart inherit the program's output and exit handling, as `program.command()` would give them.
  const add = (command: Command, hidden = false) =>
    program.addCommand(command.copyInheritedSettings(program), { hidden })
  add(serveCommand())
  add(sandboxCommand(io))
  add(generateTypesCommand(io, result))
  add(generateMetadataCommand(io, result))
  add(validateCommand(io, result))
  add(benchCommand(argv))
  add(workerCommand(), true)
  return { program, result }
}

/** Runs the CLI; resolves with the exit code (long-running commands resolve once started). */
export async function main(argv: string[] = process.argv, io: CliIo = defaultIo): Promise<number> {
  const { program, result } = buildProgram(io, argv)
  try {
    await program.parseAsync(argv)
    return result.code
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}
