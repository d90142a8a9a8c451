import { isDeepStrictEqual } from 'node:util'
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { DestinationDefinition, JSONObject, SegmentEvent } from '@segment/actions-core'
import type { Settings } from '../../generated-types'
import { passwordPolicyViolation } from '../../createAffiliate/password'
import identifyFixture from './refersion-identify.json'
import deleteFixture from './refersion-delete.json'

/** Production origin and path prefix: `useRefersionEnv` leaves REFERSION_BASE_URL unset. */
export const ORIGIN = 'https://api.refersion.com'
export const BASE_PATH = '/v2'

export const PUBLIC_KEY = 'pub_5a1e9f0c3b'
export const SECRET_KEY = 'sec_Zx8Qv2Lm7Tk4'
export const API_KEY = `${PUBLIC_KEY}.${SECRET_KEY}`
export const settings = { apiKey: API_KEY }

export const PETER_EMAIL = 'peter@initech.com'

/** The Refersion docs' identify example (classic Segment destination docs). */
export const docsIdentify = () => JSON.parse(JSON.stringify(identifyFixture)) as Partial<SegmentEvent>
/** The Refersion docs' delete example. */
export const docsDelete = () => JSON.parse(JSON.stringify(deleteFixture)) as Partial<SegmentEvent>

/** The exact /affiliate/new body expected for the docs identify (password checked separately). */
export const PETER_BODY = {
  first_name: 'Peter',
  last_name: 'Gibbons',
  email: PETER_EMAIL,
  status: 'PENDING',
  address1: '6th St',
  city: 'San Francisco',
  state: 'CA',
  zip: '94103',
  country: 'US',
  send_welcome: 'FALSE',
  unique_merchant_id: 'test-user-t0zpx'
}

/**
 * A nock scope for Refersion's API that only matches requests carrying the key pair and a JSON content type,
 * so a request without the headers fails the test as "no match".
 */
export function refersion(
  keys: { publicKey: string; secretKey: string } = { publicKey: PUBLIC_KEY, secretKey: SECRET_KEY }
) {
  return nock(ORIGIN)
    .matchHeader('Refersion-Public-Key', keys.publicKey)
    .matchHeader('Refersion-Secret-Key', keys.secretKey)
    .matchHeader('content-type', /application\/json/)
}

/**
 * Every request nock could not match (no interceptor, wrong body or headers). Each test file empties it in
 * afterEach and fails the test if anything is in it, so a stray or malformed request can never pass unnoticed,
 * even when the code under test would turn the resulting network error into a "retryable" error.
 */
const unmatched: string[] = []
nock.emitter.on('no match', (req: { method?: string; path?: string; href?: string }) => {
  unmatched.push(`${req.method ?? '?'} ${req.path ?? req.href ?? '?'}`)
})
export function takeUnmatched(): string[] {
  return unmatched.splice(0, unmatched.length)
}

/** Counts the requests a scope answers (testBatchAction does not record responses). */
export function counted(scope: nock.Scope): { readonly requests: number } {
  const counter = { requests: 0 }
  scope.on('request', () => counter.requests++)
  return counter
}

/** Paths under the v2 base. */
export const p = (path: string) => `${BASE_PATH}${path}`

/**
 * A body matcher for /affiliate/new: the password must satisfy Refersion's policy (generated or mapped), the
 * rest must equal `expected` exactly. Every body it sees is kept in `seen` for later assertions and snapshots.
 */
export function newAffiliateBody(expected: Record<string, string>, seen: Record<string, string>[] = []) {
  return (body: Record<string, string>) => {
    seen.push(body)
    const { password, ...rest } = body
    return (
      typeof password === 'string' &&
      passwordPolicyViolation(password, body.email) === undefined &&
      isDeepStrictEqual(rest, expected)
    )
  }
}

/** A catch-all interceptor: any request to Refersion hits it. Tests assert it stayed unused. */
export function trap() {
  return nock(ORIGIN).post(/.*/).reply(500, { error: 'this request should not have been sent' }).persist()
}

/** Records every JSON body a scope receives, with its path (for snapshots of what was sent). */
export function recordBodies(scope: nock.Scope): { path: string; body: Record<string, unknown> }[] {
  const bodies: { path: string; body: Record<string, unknown> }[] = []
  scope.on('request', (req: { path: string }, _interceptor: unknown, body: string) => {
    bodies.push({ path: req.path, body: JSON.parse(body) as Record<string, unknown> })
  })
  return bodies
}

/** Replaces the generated password so snapshots are deterministic. */
export function normalisePassword<T extends Record<string, unknown>>(body: T): T {
  return typeof body.password === 'string' ? { ...body, password: '<generated>' } : body
}

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn()
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the call to throw, but it resolved')
}

/** Search results as Refersion's /affiliate/search returns them (id = affiliate code). */
export function searchResult(results: Record<string, unknown>[], total = results.length) {
  return { total, results }
}

export const CREATED = (code: string, id: number) => ({
  id: code,
  link: `https://initech.refersion.com/c/${code}`,
  message: `The affiliate ${id} has been created with the status of PENDING.`
})

export const EMAIL_TAKEN = { errors: ['The email you have entered is taken by another Affiliate.'] }
export const SEARCH_MISS = { errors: ['Could not find affiliates with this keyword.'] }

/** The environment variables the destination reads (src/lib/client.ts, src/lib/affiliate-cache.ts). */
export type RefersionEnv = 'REFERSION_BASE_URL' | 'REFERSION_TRACKING_URL' | 'REFERSION_CACHE' | 'REFERSION_TIMEOUT_MS'
const REFERSION_ENV: RefersionEnv[] = [
  'REFERSION_BASE_URL',
  'REFERSION_TRACKING_URL',
  'REFERSION_CACHE',
  'REFERSION_TIMEOUT_MS'
]

/**
 * A test file's environment, whatever runs it (this project's jest or Segment's, which has no setup file of ours):
 * before each test every REFERSION_* variable is unset (production hosts, cache on, default timeout), then `env` is
 * applied; after the file the variables are as they were before it.
 */
export function useRefersionEnv(env: Partial<Record<RefersionEnv, string>> = {}): void {
  const saved: Partial<Record<RefersionEnv, string>> = {}
  beforeAll(() => {
    for (const name of REFERSION_ENV) saved[name] = process.env[name]
  })
  beforeEach(() => {
    for (const name of REFERSION_ENV) delete process.env[name]
    Object.assign(process.env, env)
  })
  afterAll(() => {
    for (const name of REFERSION_ENV) {
      const value = saved[name]
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })
}

/**
 * Every unit test file: the environment of `useRefersionEnv(env)`, no real network, no leftover interceptors, and
 * no request that matched nothing.
 */
export function useOfflineNock(env: Partial<Record<RefersionEnv, string>> = {}): void {
  useRefersionEnv(env)
  beforeAll(() => nock.disableNetConnect())
  afterEach(() => {
    nock.cleanAll()
    expect(takeUnmatched()).toEqual([])
  })
  afterAll(() => nock.enableNetConnect())
}

/** One event's result in a batch, as Segment sees it (performBatch's multistatus entry). */
export interface BatchStatus {
  status: number
  errortype?: string
  errormessage?: string
  sent?: unknown
  body?: unknown
}

/** What `createTestIntegration(destination)` returns for this destination. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is needed
const integrationFor = (definition: DestinationDefinition<Settings>) => createTestIntegration(definition)
type TestDestination = ReturnType<typeof integrationFor>

/** Runs performBatch with the default mappings (plus `mapping`) and returns the per-event statuses. */
export async function batchStatuses(
  testDestination: TestDestination,
  action: string,
  events: Partial<SegmentEvent>[],
  mapping: JSONObject = {}
): Promise<BatchStatus[]> {
  testDestination.results = []
  await testDestination.testBatchAction(action, {
    events: events as SegmentEvent[],
    settings,
    mapping,
    useDefaultMappings: true
  })
  return testDestination.results[0].multistatus as BatchStatus[]
}
