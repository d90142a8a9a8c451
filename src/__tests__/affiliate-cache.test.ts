import {
  AFFILIATE_CACHE_MAX,
  AFFILIATE_CACHE_TTL_MS,
  AffiliateCache,
  affiliateCache,
  affiliateCacheEnabled,
  fingerprintOf
} from '../lib/affiliate-cache'
import type { CachedAffiliate } from '../lib/affiliate-cache'
import { parseApiKey } from '../lib/auth'
import { API_KEY, PETER_EMAIL, PUBLIC_KEY, SECRET_KEY, useRefersionEnv } from './__helpers__/refersion'

const OTHER_PUBLIC_KEY = 'pub_other_account'
const entry = (id: number, code = `code${id}`): CachedAffiliate => ({ id, code, fingerprint: fingerprintOf({ id }) })

/** Every key and value the cache holds, as text (reads the private LRU without touching recency or age). */
function storedText(cache: AffiliateCache): string {
  const lru = cache['lru']
  return JSON.stringify([...lru.dump(), ...cache['byId'].entries()])
}

// REFERSION_CACHE unset before each test (the cache on), as it was after the file.
useRefersionEnv()

beforeEach(() => {
  affiliateCache.clear()
})

afterEach(() => {
  jest.useRealTimers()
})

describe('affiliate cache: limits', () => {
  it('exports the bounds the contract names', () => {
    expect(AFFILIATE_CACHE_MAX).toBe(10_000)
    expect(AFFILIATE_CACHE_TTL_MS).toBe(900_000)
  })

  it('refuses a test bound outside 1..AFFILIATE_CACHE_MAX', () => {
    for (const max of [0, -1, 1.5, AFFILIATE_CACHE_MAX + 1])
      expect(() => new AffiliateCache({ max })).toThrow(RangeError)
  })
})

describe('affiliate cache: keys', () => {
  it('keeps one account apart from another for the same email', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    expect(cache.get(OTHER_PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()

    cache.remember(OTHER_PUBLIC_KEY, PETER_EMAIL, entry(2))
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
    expect(cache.get(OTHER_PUBLIC_KEY, PETER_EMAIL)?.id).toBe(2)

    cache.forget(OTHER_PUBLIC_KEY, PETER_EMAIL)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
    expect(cache.get(OTHER_PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })

  it('keeps the same numeric id in two accounts apart (forgetId is per account)', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(7))
    cache.remember(OTHER_PUBLIC_KEY, PETER_EMAIL, entry(7))
    cache.forgetId(OTHER_PUBLIC_KEY, 7)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(7)
    expect(cache.get(OTHER_PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })

  it('matches emails ignoring case and surrounding space', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, '  Peter@Initech.COM\t', entry(1))
    expect(cache.get(PUBLIC_KEY, 'peter@initech.com')?.id).toBe(1)
    expect(cache.get(PUBLIC_KEY, 'PETER@INITECH.COM ')?.id).toBe(1)
    expect(cache.get(PUBLIC_KEY, 'peter@initech.co')).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'peter.gibbons@initech.com')).toBeUndefined()

    cache.remember(PUBLIC_KEY, 'PETER@initech.com', entry(1, 'newcode'))
    expect(cache.size).toBe(1)
    cache.forget(PUBLIC_KEY, ' peter@INITECH.com')
    expect(cache.size).toBe(0)
  })

  it('ignores unusable emails, ids and public keys', () => {
    const cache = new AffiliateCache()
    for (const email of ['', '   ', undefined, null, 42, {}]) cache.remember(PUBLIC_KEY, email, entry(1))
    for (const id of [0, -3, 1.5, Number.NaN, 2 ** 60]) cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(id))
    for (const publicKey of ['', 'has space', API_KEY]) cache.remember(publicKey, PETER_EMAIL, entry(1))
    expect(cache.size).toBe(0)
    expect(cache.get(PUBLIC_KEY, '')).toBeUndefined()
  })
})

describe('affiliate cache: values', () => {
  it('returns the id, the code and the fingerprint, and a copy that cannot alter the entry', () => {
    const cache = new AffiliateCache()
    const fingerprint = fingerprintOf({ first_name: 'Peter' })
    cache.remember(PUBLIC_KEY, PETER_EMAIL, { id: 12, code: ' abc12 ', fingerprint })
    const got = cache.get(PUBLIC_KEY, PETER_EMAIL) as CachedAffiliate
    expect(got).toEqual({ id: 12, code: 'abc12', fingerprint })
    got.id = 99
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(12)

    cache.remember(PUBLIC_KEY, 'nocode@initech.com', { id: 13, fingerprint })
    expect(cache.get(PUBLIC_KEY, 'nocode@initech.com')).toEqual({ id: 13, fingerprint })
  })

  it('stores no secret key and no password, even when handed extra properties', () => {
    const cache = new AffiliateCache()
    const password = 'Pw-0123456789-secret'
    const { publicKey } = parseApiKey(API_KEY)
    const fields = { first_name: 'Peter', email: PETER_EMAIL, password }
    const sneaky = { ...entry(5), fingerprint: fingerprintOf(fields), password, secretKey: SECRET_KEY, apiKey: API_KEY }
    cache.remember(publicKey, PETER_EMAIL, sneaky as CachedAffiliate)
    cache.remember(API_KEY, 'other@initech.com', entry(6)) // the whole setting by mistake: refused

    expect(cache.size).toBe(1)
    expect(Object.keys(cache.get(publicKey, PETER_EMAIL) ?? {}).sort()).toEqual(['code', 'fingerprint', 'id'])
    const stored = storedText(cache)
    expect(stored).toContain(PUBLIC_KEY)
    expect(stored).not.toContain(SECRET_KEY)
    expect(stored).not.toContain(password)
    expect(stored).not.toMatch(/password/i)
  })

  it('gives an id to one email per account: remembering it under a new email drops the old one', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, 'old@initech.com', entry(3))
    cache.remember(PUBLIC_KEY, 'new@initech.com', entry(3))
    expect(cache.get(PUBLIC_KEY, 'old@initech.com')).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'new@initech.com')?.id).toBe(3)
    expect(cache.size).toBe(1)
    expect(cache.idIndexSize).toBe(1)
  })
})

describe('affiliate cache: ids found by a credit (rememberId)', () => {
  it('keeps an entry that already holds the id as it is (code and fingerprint)', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    cache.rememberId(PUBLIC_KEY, PETER_EMAIL, 1)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toEqual(entry(1))
  })

  it('otherwise holds the id with an empty fingerprint, which no profile matches', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    cache.rememberId(PUBLIC_KEY, PETER_EMAIL, 2)
    cache.rememberId(PUBLIC_KEY, 'samir@initech.com', 3)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toEqual({ id: 2, fingerprint: '' })
    expect(cache.get(PUBLIC_KEY, 'samir@initech.com')).toEqual({ id: 3, fingerprint: '' })
  })

  it('remembers nothing while REFERSION_CACHE is off', () => {
    const cache = new AffiliateCache()
    process.env.REFERSION_CACHE = 'off'
    cache.rememberId(PUBLIC_KEY, PETER_EMAIL, 2)
    delete process.env.REFERSION_CACHE
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })
})

describe('affiliate cache: forgetting', () => {
  it('forgetId drops the entry found through the id index', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(41))
    cache.remember(PUBLIC_KEY, 'samir@initech.com', entry(42))
    cache.forgetId(PUBLIC_KEY, 41)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'samir@initech.com')?.id).toBe(42)
    cache.forgetId(PUBLIC_KEY, 41) // already gone: nothing else is touched
    cache.forgetId(PUBLIC_KEY, 999)
    expect(cache.size).toBe(1)
    expect(cache.idIndexSize).toBe(1)
  })

  it('forgetId follows an entry whose id changed under the same email', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(2)) // deleted and re-created in Refersion
    cache.forgetId(PUBLIC_KEY, 1)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(2)
    cache.forgetId(PUBLIC_KEY, 2)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    expect(cache.idIndexSize).toBe(0)
  })

  it('keeps the id index exactly as large as the cache through evictions, expiries and overwrites', () => {
    jest.useFakeTimers()
    const cache = new AffiliateCache({ max: 5 })
    for (let i = 1; i <= 200; i++) {
      cache.remember(PUBLIC_KEY, `a${i % 37}@initech.com`, entry(i))
      expect(cache.size).toBeLessThanOrEqual(5)
      expect(cache.idIndexSize).toBe(cache.size)
    }
    // Evicted ids are no longer indexed; forgetting one leaves the survivors alone.
    cache.forgetId(PUBLIC_KEY, 1)
    expect(cache.size).toBe(5)

    jest.advanceTimersByTime(AFFILIATE_CACHE_TTL_MS + 1)
    for (let i = 0; i < 37; i++) cache.get(PUBLIC_KEY, `a${i}@initech.com`) // expired entries are dropped on read
    expect(cache.size).toBe(0)
    expect(cache.idIndexSize).toBe(0)
  })

  it('forget and forgetId work while REFERSION_CACHE is off, so a delete is never lost', () => {
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    cache.remember(PUBLIC_KEY, 'samir@initech.com', entry(2))
    process.env.REFERSION_CACHE = 'off'
    cache.forget(PUBLIC_KEY, PETER_EMAIL)
    cache.forgetId(PUBLIC_KEY, 2)
    delete process.env.REFERSION_CACHE
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'samir@initech.com')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('clear drops everything', () => {
    affiliateCache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    affiliateCache.clear()
    expect(affiliateCache.size).toBe(0)
    expect(affiliateCache.idIndexSize).toBe(0)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })
})

describe('affiliate cache: expiry (fake timers)', () => {
  it('expires an entry 15 minutes after it was written', () => {
    jest.useFakeTimers()
    affiliateCache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    jest.advanceTimersByTime(AFFILIATE_CACHE_TTL_MS - 1)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
    jest.advanceTimersByTime(2)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })

  it('does not extend an entry when it is read, only when it is written again', () => {
    jest.useFakeTimers()
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    cache.remember(PUBLIC_KEY, 'samir@initech.com', entry(2))
    jest.advanceTimersByTime(10 * 60_000)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
    cache.remember(PUBLIC_KEY, 'samir@initech.com', entry(2))
    jest.advanceTimersByTime(5 * 60_000 + 1)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'samir@initech.com')?.id).toBe(2)
    jest.advanceTimersByTime(10 * 60_000)
    expect(cache.get(PUBLIC_KEY, 'samir@initech.com')).toBeUndefined()
  })

  it('expires an entry written at the very start of a fake clock', () => {
    jest.useFakeTimers()
    expect(performance.now()).toBe(0)
    const cache = new AffiliateCache()
    cache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    jest.advanceTimersByTime(AFFILIATE_CACHE_TTL_MS + 1)
    expect(cache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
  })
})

describe('affiliate cache: size bound', () => {
  it('evicts the least recently used entry; a recently read one survives', () => {
    const cache = new AffiliateCache({ max: 3 })
    cache.remember(PUBLIC_KEY, 'a@x.com', entry(1))
    cache.remember(PUBLIC_KEY, 'b@x.com', entry(2))
    cache.remember(PUBLIC_KEY, 'c@x.com', entry(3))
    expect(cache.get(PUBLIC_KEY, 'a@x.com')?.id).toBe(1)
    cache.remember(PUBLIC_KEY, 'd@x.com', entry(4))
    expect(cache.size).toBe(3)
    expect(cache.get(PUBLIC_KEY, 'b@x.com')).toBeUndefined()
    expect(cache.get(PUBLIC_KEY, 'a@x.com')?.id).toBe(1)
    expect(cache.get(PUBLIC_KEY, 'c@x.com')?.id).toBe(3)
    expect(cache.get(PUBLIC_KEY, 'd@x.com')?.id).toBe(4)
  })

  it('holds at most AFFILIATE_CACHE_MAX entries by default', () => {
    for (let i = 1; i <= AFFILIATE_CACHE_MAX + 1; i++) {
      affiliateCache.remember(PUBLIC_KEY, `user${i}@initech.com`, { id: i, fingerprint: 'f' })
    }
    expect(affiliateCache.size).toBe(AFFILIATE_CACHE_MAX)
    expect(affiliateCache.idIndexSize).toBe(AFFILIATE_CACHE_MAX)
    expect(affiliateCache.get(PUBLIC_KEY, 'user1@initech.com')).toBeUndefined()
    expect(affiliateCache.get(PUBLIC_KEY, 'user2@initech.com')?.id).toBe(2)
    expect(affiliateCache.get(PUBLIC_KEY, `user${AFFILIATE_CACHE_MAX + 1}@initech.com`)?.id).toBe(
      AFFILIATE_CACHE_MAX + 1
    )
  })
})

describe('affiliate cache: REFERSION_CACHE', () => {
  it.each(['off', 'OFF', 'Off', '0', 'false', 'FALSE', ' off '])('%p turns it off, read on each call', (value) => {
    affiliateCache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    process.env.REFERSION_CACHE = value
    expect(affiliateCacheEnabled()).toBe(false)
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)).toBeUndefined()
    affiliateCache.remember(PUBLIC_KEY, 'samir@initech.com', entry(2))
    affiliateCache.remember(PUBLIC_KEY, PETER_EMAIL, entry(3))
    expect(affiliateCache.size).toBe(1)

    delete process.env.REFERSION_CACHE
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
    expect(affiliateCache.get(PUBLIC_KEY, 'samir@initech.com')).toBeUndefined()
  })

  it.each([undefined, '', 'on', '1', 'true', 'yes'])('%p leaves it on', (value) => {
    if (value === undefined) delete process.env.REFERSION_CACHE
    else process.env.REFERSION_CACHE = value
    expect(affiliateCacheEnabled()).toBe(true)
    affiliateCache.remember(PUBLIC_KEY, PETER_EMAIL, entry(1))
    expect(affiliateCache.get(PUBLIC_KEY, PETER_EMAIL)?.id).toBe(1)
  })
})

describe('fingerprintOf', () => {
  it('is a sha256 hex digest, the same for the same fields in any key order, at any depth', () => {
    const a = fingerprintOf({ first_name: 'Peter', last_name: 'Gibbons', address: { city: 'SF', zip: '94103' } })
    const b = fingerprintOf({ address: { zip: '94103', city: 'SF' }, last_name: 'Gibbons', first_name: 'Peter' })
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(b).toBe(a)
  })

  it('counts an undefined value as absent, and tells null, empty and zero apart from absent', () => {
    const base = fingerprintOf({ first_name: 'Peter' })
    expect(fingerprintOf({ first_name: 'Peter', city: undefined })).toBe(base)
    const others = [
      fingerprintOf({ first_name: 'Peter', city: null }),
      fingerprintOf({ first_name: 'Peter', city: '' }),
      fingerprintOf({ first_name: 'Peter', city: 0 }),
      fingerprintOf({ first_name: 'Peter', city: '0' }),
      fingerprintOf({ first_name: 'Peter', city: false })
    ]
    expect(new Set([base, ...others]).size).toBe(6)
  })

  it('leaves passwords out', () => {
    const base = fingerprintOf({ first_name: 'Peter', nested: { a: 1 } })
    expect(fingerprintOf({ first_name: 'Peter', password: 'x1', nested: { a: 1, Password: 'y' } })).toBe(base)
  })
})
