import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { parseApiKey } from './auth'
import { baseUrl, DEFAULT_BASE_URL } from './client'
import { text } from './normalise'

/** At most this many affiliates are remembered per process; beyond it the least recently used entry goes. */
export const AFFILIATE_CACHE_MAX = 10_000
/** An entry is trusted for at most this long after it was last written (reading it does not extend it). */
export const AFFILIATE_CACHE_TTL_MS = 15 * 60_000

/** What the upsert path remembers about an affiliate it has just created, found or edited successfully. */
export interface CachedAffiliate {
  /** Refersion's numeric affiliate id (what `/affiliate/edit` takes). */
  id: number
  /** The affiliate code, when known (what `/affiliate/trigger` takes). */
  code?: string
  /** `fingerprintOf(...)` of everything the last successful request(s) sent for this affiliate. */
  fingerprint: string
}

/** An entry as stored: the affiliate and when it was written (`Date.now()`). */
interface StoredAffiliate extends CachedAffiliate {
  writtenAt: number
}

export interface AffiliateCacheOptions {
  /** Test only: a smaller bound than AFFILIATE_CACHE_MAX. */
  max?: number
}

const OFF_VALUES = new Set(['off', '0', 'false'])

/** False when the env var REFERSION_CACHE is `off`, `0` or `false` (any case). Read on every call. */
export function affiliateCacheEnabled(): boolean {
  const setting = process.env.REFERSION_CACHE
  return setting === undefined || !OFF_VALUES.has(setting.trim().toLowerCase())
}

// Keys never contain the secret: a public key is visible ASCII without "." or space (see parseApiKey), so a value
// holding either is refused rather than remembered (a caller passing the whole "public.secret" setting by mistake).
const PUBLIC_KEY = /^[\x21-\x2d\x2f-\x7e]+$/

function isSafeId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0
}

function canonical(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  if (value instanceof Date) return value.toJSON()
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    // Passwords never enter a fingerprint, at any depth; the caller should not pass them in the first place.
    if (key.toLowerCase() === 'password') continue
    sorted[key] = (value as Record<string, unknown>)[key]
  }
  return sorted
}

/**
 * A stable digest (sha256, hex) of the profile fields an upsert sends. Independent of key order (at every depth);
 * a key whose value is `undefined` counts as absent; `null`, `''` and `0` are distinct values; any key named
 * `password` (any case, any depth) is ignored. Pass everything the changed path would send (edit fields, and the
 * coupon code when one is mapped), so that no change the merchant sent is ever judged "unchanged".
 */
export function fingerprintOf(fields: Record<string, unknown>): string {
  const json = JSON.stringify(fields, canonical)
  return createHash('sha256').update(json).digest('hex')
}

/**
 * Bounded, in-process memory of affiliates this process created, found or edited successfully, per Refersion
 * account (public key) and email (trimmed, lower-cased). Holds only the numeric id, the code and a fingerprint:
 * never a secret key, a password or a profile field.
 *
 * - `get` / `remember` do nothing while REFERSION_CACHE is off (read on every call); `forget` / `forgetId` /
 *   `clear` always work, so a delete is never lost while the cache is toggled.
 * - An id belongs to at most one email per public key: remembering it under a new email drops the old one.
 */
export class AffiliateCache {
  // lru-cache bounds the size (least recently used first); the expiry is ours: each entry keeps when it was written,
  // and a read of an entry older than AFFILIATE_CACHE_TTL_MS drops it. `Date.now()` is read on every call, so fake
  // timers (jest 27 and 30 alike) move it.
  private readonly lru: LRUCache<string, StoredAffiliate>
  // `${publicKey} ${id}` → cache key, kept exactly in step with the LRU through its dispose callback
  // (eviction, expiry on read, overwrite, delete), so it never outgrows the LRU.
  private readonly byId = new Map<string, string>()

  constructor(options: AffiliateCacheOptions = {}) {
    const max = options.max ?? AFFILIATE_CACHE_MAX
    if (!Number.isSafeInteger(max) || max < 1 || max > AFFILIATE_CACHE_MAX) {
      throw new RangeError(`max must be an integer from 1 to ${AFFILIATE_CACHE_MAX}`)
    }
    this.lru = new LRUCache<string, StoredAffiliate>({
      max,
      dispose: (value, key) => {
        const idKey = this.idKey(key.slice(0, key.indexOf(' ')), value.id)
        if (this.byId.get(idKey) === key) this.byId.delete(idKey)
      }
    })
  }

  /** Entries held, including expired ones not yet dropped (bounded by max either way). */
  get size(): number {
    return this.lru.size
  }

  /** Size of the id index; equals `size` at all times (exposed for tests). */
  get idIndexSize(): number {
    return this.byId.size
  }

  /** The fresh entry for this account and email, or undefined (also when the cache is off). */
  get(publicKey: string, email: unknown): CachedAffiliate | undefined {
    if (!affiliateCacheEnabled()) return undefined
    const key = this.key(publicKey, email)
    if (key === undefined) return undefined
    const entry = this.lru.get(key)
    if (entry === undefined) return undefined
    if (Date.now() - entry.writtenAt >= AFFILIATE_CACHE_TTL_MS) {
      this.lru.delete(key)
      return undefined
    }
    const found: CachedAffiliate = { id: entry.id, fingerprint: entry.fingerprint }
    if (entry.code !== undefined) found.code = entry.code
    return found
  }

  /**
   * Records the outcome of a successful request (never call it for a failed one). Restarts the entry's 15 minutes.
   * Ignored when the cache is off, or when the public key, email or id is not usable.
   */
  remember(publicKey: string, email: unknown, entry: CachedAffiliate): void {
    if (!affiliateCacheEnabled()) return
    const key = this.key(publicKey, email)
    if (key === undefined || !isSafeId(entry.id) || typeof entry.fingerprint !== 'string') return
    const idKey = this.idKey(publicKey, entry.id)
    const previous = this.byId.get(idKey)
    if (previous !== undefined && previous !== key) this.lru.delete(previous)
    const code = text(entry.code)
    const value: StoredAffiliate = { id: entry.id, fingerprint: entry.fingerprint, writtenAt: Date.now() }
    if (code !== undefined) value.code = code
    this.lru.set(key, value)
    // After set: an overwrite's dispose has already removed the old id's index entry.
    this.byId.set(idKey, key)
  }

  /**
   * Records an affiliate's id found by a lookup that sent no profile (a credit). An entry already holding that id
   * keeps its code and fingerprint; otherwise the fingerprint is empty, which no profile matches, so the next
   * identify for the email still sends its edit (by this id, one request).
   */
  rememberId(publicKey: string, email: unknown, id: number): void {
    const current = this.get(publicKey, email)
    if (current?.id === id) return
    this.remember(publicKey, email, { id, fingerprint: '' })
  }

  /** Drops the entry for this account and email, whatever REFERSION_CACHE says. */
  forget(publicKey: string, email: unknown): void {
    const key = this.key(publicKey, email)
    if (key !== undefined) this.lru.delete(key)
  }

  /** Drops the entry for this account's affiliate id (a delete by id), whatever REFERSION_CACHE says. */
  forgetId(publicKey: string, id: number): void {
    if (!isSafeId(id) || !PUBLIC_KEY.test(publicKey)) return
    const key = this.byId.get(this.idKey(publicKey, id))
    if (key !== undefined) this.lru.delete(key)
  }

  /** Drops every entry (tests). */
  clear(): void {
    this.lru.clear()
    this.byId.clear()
  }

  private key(publicKey: string, email: unknown): string | undefined {
    if (typeof publicKey !== 'string' || !PUBLIC_KEY.test(publicKey)) return undefined
    const address = text(email)
    if (address === undefined || typeof email !== 'string') return undefined
    return `${publicKey} ${address.toLowerCase()}`
  }

  private idKey(publicKey: string, id: number): string {
    return `${publicKey} ${id}`
  }
}

/** The process's cache, shared by every event and batch this process handles. */
export const affiliateCache = new AffiliateCache()

/** Where the cache keeps an account's affiliates: the public key (never the secret), and when REFERSION_BASE_URL
 * points away from Refersion (sandbox, tests) a digest of that URL too, so two sandboxes never share ids. */
export function cacheAccountOf(settings: { apiKey?: unknown } | undefined): string | undefined {
  let publicKey: string
  try {
    publicKey = parseApiKey(settings?.apiKey).publicKey
  } catch {
    return undefined // the request path reports the bad setting
  }
  const base = baseUrl()
  if (base === DEFAULT_BASE_URL) return publicKey
  return `${publicKey}@${createHash('sha256').update(base).digest('hex').slice(0, 12)}`
}

/** Upserts in flight per cache key (account and lower-cased email); an entry lives only while one runs. */
const inFlight = new Map<string, { started: number; running: number }>()

const turnKey = (account: string, email: string) => `${account} ${email.trim().toLowerCase()}`

/** Registers an upsert in flight; the returned function ends it and says whether no other upsert for the same
 * email (or delete naming it) started in the meantime. */
export function startTurn(account: string, email: string): () => boolean {
  const key = turnKey(account, email)
  let entry = inFlight.get(key)
  if (!entry) inFlight.set(key, (entry = { started: 0, running: 0 }))
  const turn = entry
  const ticket = ++turn.started
  let ended = false
  turn.running++
  return () => {
    if (!ended) {
      ended = true
      if (--turn.running === 0 && inFlight.get(key) === turn) inFlight.delete(key)
    }
    return turn.started === ticket
  }
}

/** Upserts for this email in flight now will not remember what they sent (a delete started meanwhile). */
export function supersedeTurns(account: string, email: string): void {
  const turn = inFlight.get(turnKey(account, email))
  if (turn) turn.started++
}
