import { secretOf } from '../../src/lib/auth'

/** What every hidden value is replaced with. */
export const REDACTED = '<redacted>'

/** Header names that carry credentials: shown as `<redacted>` in exchanges and logs. */
const SECRET_HEADER = /authori[sz]|authenticat|secret|token|passw|api[-_]?key|cookie|credential|session|signature/i

/** Body keys whose values are credentials (e.g. the generated affiliate `password`). */
const SECRET_KEY = /passw|secret/i

/** Secrets shorter than this are only replaced as whole tokens, so `pub.sec` does not turn "secret" into "<redacted>ret". */
const WHOLE_TOKEN_BELOW = 8

/**
 * Longest secret remembered across requests. Refersion's secret keys are a few dozen characters; anything much
 * longer cannot be a working key (it travels in an HTTP header), so it is scrubbed from its own request's answer
 * only and never kept.
 */
export const MAX_REMEMBERED_LENGTH = 512

/** At most this many candidates are taken from one settings object (a malformed key may hold many words). */
const MAX_CANDIDATES = 8

/** Runs of visible ASCII (what a key half may contain) at least WHOLE_TOKEN_BELOW long. Fixed, linear-time. */
const VISIBLE_ASCII_RUN = /[\x21-\x7e]{8,}/g
const VISIBLE_ASCII = /^[\x21-\x7e]+$/

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name)
}

/**
 * The secrets a settings object carries: the secret half of `apiKey` (via `secretOf`); for a key that does not
 * parse, whatever follows its first dot and the runs of visible ASCII in it (at most MAX_CANDIDATES in all) — an
 * invalid key may still be a real secret with a typo (a stray space, an accented letter, a zero-width character).
 */
export function secretsOfSettings(settings: unknown): string[] {
  if (!settings || typeof settings !== 'object') return []
  const apiKey = (settings as Record<string, unknown>).apiKey
  const parsed = secretOf(apiKey)
  if (parsed) return [parsed]
  if (typeof apiKey !== 'string') return []
  const dot = apiKey.indexOf('.')
  const rest = dot < 0 ? '' : apiKey.slice(dot + 1).trim()
  const out = rest.length >= 4 ? [rest] : []
  for (const match of rest.matchAll(VISIBLE_ASCII_RUN)) {
    if (out.length >= MAX_CANDIDATES) break
    if (match[0] !== rest) out.push(match[0])
  }
  return out
}

/** Whether a secret may be remembered across requests: what a working key half could be, and long enough to be one. */
export function isRememberable(secret: string): boolean {
  return secret.length >= WHOLE_TOKEN_BELOW && secret.length <= MAX_REMEMBERED_LENGTH && VISIBLE_ASCII.test(secret)
}

/**
 * The secrets seen recently, process-wide, so that logs and answers stay clean even across requests. Bounded in
 * number and length: only secrets that pass `isRememberable` are kept, so that no request can make later ones
 * slower, larger or differently redacted beyond those few plausible keys.
 */
export class RecentSecrets {
  private readonly seen = new Set<string>()

  constructor(private readonly limit = 50) {}

  add(secrets: Iterable<string>): void {
    for (const secret of secrets) {
      if (!isRememberable(secret)) continue
      this.seen.delete(secret)
      this.seen.add(secret)
      if (this.seen.size > this.limit) this.seen.delete(this.seen.values().next().value as string)
    }
  }

  get all(): string[] {
    return [...this.seen]
  }
}

const WORD_CHAR = /[A-Za-z0-9_]/

/** Replaces every occurrence of `secret` in `text` (plain search, no pattern built from the secret). */
function replaceAll(text: string, secret: string): string {
  return text.includes(secret) ? text.split(secret).join(REDACTED) : text
}

/** Replaces the occurrences of `secret` that are whole tokens (no letter, digit or `_` on either side). */
function replaceWholeTokens(text: string, secret: string): string {
  let at = text.indexOf(secret)
  if (at < 0) return text
  let out = ''
  let from = 0
  while (at >= 0) {
    const before = at > 0 ? text[at - 1] : ''
    const after = text[at + secret.length] ?? ''
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) {
      out += text.slice(from, at) + REDACTED
      from = at + secret.length
      at = text.indexOf(secret, from)
    } else {
      at = text.indexOf(secret, at + 1)
    }
  }
  return out + text.slice(from)
}

/**
 * Replaces every occurrence of the given secrets in strings, deep inside JSON-like values too. Plain substring
 * search only: it cannot fail on any input, and its work is linear in the text for each secret.
 */
export class Scrubber {
  private readonly secrets: string[]

  constructor(secrets: Iterable<string | undefined>) {
    const unique = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s !== ''))]
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = unique.sort((a, b) => b.length - a.length)
  }

  text(value: string): string {
    let out = value
    for (const secret of this.secrets) {
      if (secret.length > out.length) continue
      out = secret.length >= WHOLE_TOKEN_BELOW ? replaceAll(out, secret) : replaceWholeTokens(out, secret)
    }
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
