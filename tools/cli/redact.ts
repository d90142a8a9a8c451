import { secretOf } from '../../src/lib/auth'

/** What every hidden value is replaced with. */
export const REDACTED = '<redacted>'

/** Header names that carry credentials: shown as `<redacted>` in exchanges and logs. */
const SECRET_HEADER = /authori[sz]|authenticat|secret|token|passw|api[-_]?key|cookie|credential|session|signature/i

/** Body keys whose values are credentials (e.g. the generated affiliate `password`). */
const SECRET_KEY = /passw|secret/i

/** Secrets shorter than this are only replaced as whole tokens, so `pub.sec` does not turn "secret" into "<redacted>ret". */
const WHOLE_TOKEN_BELOW = 8

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name)
}

/**
 * The secrets a settings object carries: the secret half of `apiKey` (via `secretOf`); for a key that does not
 * parse, whatever follows its first dot and its longer words — an invalid key may still be a real secret with a typo.
 */
export function secretsOfSettings(settings: unknown): string[] {
  if (!settings || typeof settings !== 'object') return []
  const apiKey = (settings as Record<string, unknown>).apiKey
  const parsed = secretOf(apiKey)
  if (parsed) return [parsed]
  if (typeof apiKey !== 'string') return []
  const dot = apiKey.indexOf('.')
  const rest = dot < 0 ? '' : apiKey.slice(dot + 1).trim()
  const words = rest.split(/\s+/).filter((word) => word.length >= WHOLE_TOKEN_BELOW)
  return [...(rest.length >= 4 ? [rest] : []), ...words]
}

/** The secrets seen recently, process-wide, so that logs and answers stay clean even across requests. */
export class RecentSecrets {
  private readonly seen = new Set<string>()

  constructor(private readonly limit = 50) {}

  add(secrets: Iterable<string>): void {
    for (const secret of secrets) {
      this.seen.delete(secret)
      this.seen.add(secret)
      if (this.seen.size > this.limit) this.seen.delete(this.seen.values().next().value as string)
    }
  }

  get all(): string[] {
    return [...this.seen]
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Replaces every occurrence of the given secrets in strings, deep inside JSON-like values too. */
export class Scrubber {
  private readonly patterns: RegExp[]

  constructor(secrets: Iterable<string | undefined>) {
    const unique = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s !== ''))]
    // Longest first, so a secret that contains another is replaced whole.
    unique.sort((a, b) => b.length - a.length)
    this.patterns = unique.map((secret) =>
      secret.length >= WHOLE_TOKEN_BELOW
        ? new RegExp(escapeRegExp(secret), 'g')
        : new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(secret)}(?![A-Za-z0-9_])`, 'g')
    )
  }

  get empty(): boolean {
    return this.patterns.length === 0
  }

  text(value: string): string {
    let out = value
    for (const pattern of this.patterns) out = out.replace(pattern, REDACTED)
    return out
  }

  /** A copy of a JSON-like value with every string (keys included) scrubbed. */
  deep<T>(value: T): T {
    return this.walk(value, new WeakMap()) as T
  }

  private walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.text(value)
    if (!value || typeof value !== 'object') return value
    if (seen.has(value)) return seen.get(value)
    if (Array.isArray(value)) {
      const out: unknown[] = []
      seen.set(value, out)
      for (const item of value) out.push(this.walk(item, seen))
      return out
    }
    const out: Record<string, unknown> = {}
    seen.set(value, out)
    for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.walk(item, seen)
    return out
  }
}

/** A copy of a JSON-like value in which the values of password/secret keys are `<redacted>`. */
export function redactSecretKeys<T>(value: T): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!node || typeof node !== 'object') return node
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(node)) {
      out[key] = SECRET_KEY.test(key) && item !== null && item !== undefined && item !== '' ? REDACTED : walk(item)
    }
    return out
  }
  return walk(value) as T
}

/**
 * A raw request body as shown in an exchange: when it is JSON with a password/secret key, the same JSON with those
 * values redacted; otherwise the text exactly as sent.
 */
export function redactBodyText(text: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return text
  }
  if (!parsed || typeof parsed !== 'object') return text
  const redacted = redactSecretKeys(parsed)
  const out = JSON.stringify(redacted)
  return out === JSON.stringify(parsed) ? text : out
}

/** Header entries as a plain object, credentials redacted. */
export function redactHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of headers) out[name] = isSecretHeader(name) ? REDACTED : value
  return out
}
