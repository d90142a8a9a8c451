import { Command } from 'commander'
import { sandboxOptionsFromEnv } from '../sandbox'
import type { SandboxOptions } from '../sandbox'

/** Command-line fault flags and the sandbox environment variables they stand for. */
const FLAGS = [
  { flag: '--latency <ms>', key: 'latency', env: 'SANDBOX_LATENCY_MS', help: 'added delay per API request, in ms' },
  { flag: '--rate-429 <p>', key: 'rate429', env: 'SANDBOX_RATE_429', help: 'probability (0..1) of an injected 429' },
  { flag: '--rate-500 <p>', key: 'rate500', env: 'SANDBOX_RATE_500', help: 'probability (0..1) of an injected 500' },
  { flag: '--rate-503 <p>', key: 'rate503', env: 'SANDBOX_RATE_503', help: 'probability (0..1) of an injected 503' },
  {
    flag: '--reset-rate <p>',
    key: 'resetRate',
    env: 'SANDBOX_RESET_RATE',
    help: 'probability (0..1) that a connection is reset before the request is applied'
  },
  {
    flag: '--rate-limit <N/ms>',
    key: 'rateLimit',
    env: 'SANDBOX_RATE_LIMIT',
    help: 'at most N requests per ms milliseconds per public key (429 + Retry-After beyond), e.g. 100/1000'
  },
  { flag: '--seed <n>', key: 'seed', env: 'SANDBOX_SEED', help: 'seed for injected faults and affiliate codes' },
  {
    flag: '--order-processing-attempts <n>',
    key: 'orderProcessingAttempts',
    env: 'SANDBOX_ORDER_PROCESSING_ATTEMPTS',
    help: 'the first n manual credits of each order answer 422 "This order ID is being process (error 5)."'
  }
] as const

/** On/off sandbox flags (no value) and the variables they stand for. */
const SWITCHES = [
  {
    flag: '--search-merchant-id',
    key: 'searchMerchantId',
    env: 'SANDBOX_SEARCH_MERCHANT_ID',
    help: "search also matches and returns unique_merchant_id (an undocumented reading of Refersion's search)"
  }
] as const

export type SandboxFlags = Partial<Record<typeof FLAGS[number]['key'], string>> &
  Partial<Record<typeof SWITCHES[number]['key'], boolean>>

/** Adds the sandbox fault flags and switches to a command. */
export function addSandboxFlags(command: Command): Command {
  for (const { flag, env, help } of FLAGS) command.option(flag, `sandbox: ${help} (or $${env})`)
  for (const { flag, env, help } of SWITCHES) command.option(flag, `sandbox: ${help} (or $${env}=1)`)
  return command
}

/**
 * Sandbox options from the environment (`sandboxOptionsFromEnv`: SANDBOX_LATENCY_MS, SANDBOX_RATE_429, …,
 * SANDBOX_PUBLIC_KEY/SANDBOX_SECRET_KEY), with the flags overriding their variables. Bad values throw an Error
 * that names the flag that was given.
 */
export function sandboxOptionsFrom(flags: SandboxFlags, env: NodeJS.ProcessEnv = process.env): SandboxOptions {
  const merged: Record<string, string | undefined> = { ...env }
  for (const { key, env: name } of FLAGS) if (flags[key] !== undefined) merged[name] = flags[key]
  for (const { key, env: name } of SWITCHES) if (flags[key] === true) merged[name] = '1'
  try {
    return sandboxOptionsFromEnv(merged)
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error)
    for (const { key, env: name, flag } of FLAGS) {
      if (flags[key] !== undefined) message = message.split(name).join(flag.split(' ')[0])
    }
    throw new Error(message, { cause: error })
  }
}
