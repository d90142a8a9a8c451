import { mergeFaults, DEFAULT_FAULTS, pickFaults, SandboxFaults } from './faults'
import type { SandboxOptions } from './types'

type Env = Record<string, string | undefined>

function read(env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined) return undefined
  const trimmed = raw.trim()
  return trimmed === '' ? undefined : trimmed
}

function number(env: Env, name: string, check: { min?: number; max?: number; integer?: boolean }): number | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  const what = check.integer ? 'an integer' : 'a number'
  const range =
    check.min !== undefined && check.max !== undefined
      ? ` between ${check.min} and ${check.max}`
      : check.min !== undefined
      ? ` >= ${check.min}`
      : ''
  if (
    !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ||
    !Number.isFinite(n) ||
    (check.integer && !Number.isSafeInteger(n)) ||
    (check.min !== undefined && n < check.min) ||
    (check.max !== undefined && n > check.max)
  ) {
    throw new Error(`${name} must be ${what}${range} (got "${raw}")`)
  }
  return n
}

function flag(env: Env, name: string): boolean | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new Error(`${name} must be 1 or 0 (got "${raw}")`)
}

/**
 * Sandbox options from environment variables (unset or empty variables are left out):
 * SANDBOX_LATENCY_MS, SANDBOX_JITTER_MS, SANDBOX_SPIKE_RATE, SANDBOX_SPIKE_MS, SANDBOX_RATE_429,
 * SANDBOX_RATE_500, SANDBOX_RATE_503, SANDBOX_RESET_RATE, SANDBOX_APPLY_THEN_DROP_RATE,
 * SANDBOX_RETRY_AFTER, SANDBOX_RATE_LIMIT (`N/ms`, e.g. `100/1000`), SANDBOX_SEED,
 * SANDBOX_PUBLIC_KEY + SANDBOX_SECRET_KEY (both or neither), SANDBOX_SEARCH_MERCHANT_ID (1/0, also
 * true/false, yes/no, on/off), SANDBOX_ORDER_PROCESSING_ATTEMPTS (an integer >= 0). Garbage throws an Error
 * naming the variable.
 */
export function sandboxOptionsFromEnv(env: Env = process.env): SandboxOptions {
  const options: SandboxOptions = {}
  const set = <K extends keyof SandboxOptions>(key: K, value: SandboxOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value
  }
  set('latencyMs', number(env, 'SANDBOX_LATENCY_MS', { min: 0 }))
  set('latencyJitterMs', number(env, 'SANDBOX_JITTER_MS', { min: 0 }))
  set('spikeRate', number(env, 'SANDBOX_SPIKE_RATE', { min: 0, max: 1 }))
  set('spikeMs', number(env, 'SANDBOX_SPIKE_MS', { min: 0 }))
  set('resetRate', number(env, 'SANDBOX_RESET_RATE', { min: 0, max: 1 }))
  set('applyThenDropRate', number(env, 'SANDBOX_APPLY_THEN_DROP_RATE', { min: 0, max: 1 }))
  set('applyThenErrorRate', number(env, 'SANDBOX_APPLY_THEN_ERROR_RATE', { min: 0, max: 1 }))
  set('retryAfterSeconds', number(env, 'SANDBOX_RETRY_AFTER', { min: 0, integer: true }))
  set('seed', number(env, 'SANDBOX_SEED', { integer: true }))
  set('searchMerchantId', flag(env, 'SANDBOX_SEARCH_MERCHANT_ID'))
  set('orderProcessingAttempts', number(env, 'SANDBOX_ORDER_PROCESSING_ATTEMPTS', { min: 0, integer: true }))

  const errorRates: SandboxFaults['errorRates'] = {}
  for (const status of [429, 500, 503] as const) {
    const rate = number(env, `SANDBOX_RATE_${status}`, { min: 0, max: 1 })
    if (rate !== undefined) errorRates[status] = rate
  }
  if (Object.keys(errorRates).length > 0) options.errorRates = errorRates

  const rateLimit = read(env, 'SANDBOX_RATE_LIMIT')
  if (rateLimit !== undefined) {
    const match = /^(\d+)\s*\/\s*(\d+)$/.exec(rateLimit)
    const requests = match ? Number(match[1]) : NaN
    const perMs = match ? Number(match[2]) : NaN
    if (!match || !Number.isSafeInteger(requests) || requests < 1 || !Number.isSafeInteger(perMs) || perMs < 1) {
      throw new Error(
        `SANDBOX_RATE_LIMIT must look like N/MS: at most N requests per MS milliseconds per public key, e.g. 100/1000 (got "${rateLimit}")`
      )
    }
    options.rateLimit = { requests, perMs }
  }

  const publicKey = read(env, 'SANDBOX_PUBLIC_KEY')
  const secretKey = read(env, 'SANDBOX_SECRET_KEY')
  if ((publicKey === undefined) !== (secretKey === undefined)) {
    throw new Error('SANDBOX_PUBLIC_KEY and SANDBOX_SECRET_KEY must be set together (or neither)')
  }
  if (publicKey !== undefined && secretKey !== undefined) options.keys = { publicKey, secretKey }

  // Same checks the sandbox itself applies, so a bad combination fails here with the knob's name.
  mergeFaults(DEFAULT_FAULTS, pickFaults(options))
  return options
}
