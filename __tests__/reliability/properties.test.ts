/**
 * Property-based tests (fast-check, seeded and bounded): arbitrary, hostile event shapes through the actions
 * against a healthy sandbox only ever end in success or a typed, readable, final error; the pure helpers
 * (password generation, country conversion, name splitting) keep their contracts for any input.
 */
import fc from 'fast-check'
import {
  IntegrationError,
  InvalidAuthenticationError,
  PayloadValidationError,
  RetryableError
} from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import countries from 'i18n-iso-countries'
import { startSandbox } from '../../tools/sandbox'
import type { RunningSandbox } from '../../tools/sandbox'
import { resolveNames } from '../../src/createAffiliate/plan'
import { toRefersionCountry, REFERSION_COUNTRIES } from '../../src/createAffiliate/countries'
import { isRetryable } from '../../src/lib/errors'
import { fingerprintOf } from '../../src/lib/affiliate-cache'
import {
  generatePassword,
  passwordPolicyViolation,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH
} from '../../src/createAffiliate/password'
import { destination, mappingOf, SECRET_KEY, SETTINGS, useSandboxEnv } from './helpers'
import { CREATE_OVERRIDES, DELETE_OVERRIDES } from './scenario'

const SEED = 424242
let sandbox: RunningSandbox
beforeAll(async () => {
  sandbox = await startSandbox({ seed: SEED })
})
useSandboxEnv(() => sandbox, 5000)

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries: hostile values in every field.

const WHITESPACE = [' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028']
const huge = fc.integer({ min: 256, max: 120_000 }).map((n) => 'Ω'.repeat(n))
const strings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '   ', 'null', 'undefined', '[object Object]', '💩💩', 'ǅungla Ǆ', 'a\u0000b', '\ud800')
)
/** A value of any type, including the wrong one for whatever field it lands in. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: strings },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, [], {}) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 3 }) }
)
/** Mostly a plausible value of the right type (unicode, huge, blank included), sometimes anything at all. */
const field = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: plausible }, { weight: 1, arbitrary: weird })
const text = fc.oneof({ weight: 6, arbitrary: strings }, { weight: 1, arbitrary: huge })
const localPart = fc.stringMatching(/^[a-z0-9]{1,8}([._+-][a-z0-9]{1,8}){0,2}$/)
const email = field(
  fc.oneof(
    // A small pool, so that identifies repeat and take the find-and-update path.
    // 'eeper' and 'keeper2' only partly match the keeper of the deletion property: they must never reach it.
    {
      weight: 8,
      arbitrary: fc.constantFrom('ann', 'bob', 'carl', 'dora', 'eeper', 'keeper2').map((l) => `${l}@rel.test`)
    },
    { weight: 4, arbitrary: localPart.map((l) => `${l}@rel.test`) },
    { weight: 2, arbitrary: localPart.map((l) => `${l.toUpperCase()}@Rel.Test`) },
    { weight: 2, arbitrary: fc.emailAddress() },
    { weight: 1, arbitrary: fc.constantFrom('not-an-email', ' a@b.co ', 'ü@ü.de', `${'x'.repeat(300)}@rel.test`) }
  )
)
const countryInput = field(
  fc.oneof(
    fc.constantFrom('US', 'usa', 'United States', 'Germany', 'de', 'XX', 'Antarctica', 'U.S.A.', '840', 'GBR'),
    strings
  )
)
const words = fc.array(strings, { minLength: 1, maxLength: 4 }).map((list) => list.join(' '))
const traitsModel = {
  email,
  name: field(fc.oneof(words, fc.constantFrom('Peter Gibbons', 'Cher', ' ', 'Ann  Marie\tSmith'))),
  firstName: field(text),
  lastName: field(text),
  first_name: field(text),
  last_name: field(text),
  company: field(fc.oneof(text, fc.record({ name: field(text) }, { requiredKeys: [] }))),
  phone: field(fc.oneof(text, fc.integer())),
  address: field(
    fc.record(
      {
        street: field(text),
        city: field(text),
        state: field(text),
        postalCode: field(fc.oneof(text, fc.integer())),
        postal_code: field(text),
        country: countryInput
      },
      { requiredKeys: [] }
    )
  ),
  password: field(fc.oneof(text, fc.constantFrom('Val1d-Pass!', 'aaaaA1!aaaa', 'short'))),
  affiliateStatus: field(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('ACTIVE', 'PENDING') },
      { weight: 1, arbitrary: fc.constantFrom('active', 'DISABLED', '') }
    )
  ),
  paypalEmail: email
}
/** Usually with an email and a name (so the event gets past validation), sometimes with any subset. */
const traits = fc.oneof(
  { weight: 3, arbitrary: fc.record(traitsModel, { requiredKeys: ['email', 'name'] }) },
  { weight: 1, arbitrary: fc.record(traitsModel, { requiredKeys: [] }) }
)
const event = fc.record(
  {
    type: field(fc.constantFrom('identify', 'delete', 'track')),
    userId: field(fc.oneof(text, fc.constantFrom('keep', 'keeper2', 'eeper', 'bob'))),
    anonymousId: field(text),
    email,
    traits: field(traits),
    // An object, as Segment always delivers it: actions-core itself (not the destination) crashes on
    // `context: null` while resolving audience membership, before any destination code runs.
    context: fc.record({ traits: field(traits), ip: weird, library: weird }, { requiredKeys: [] }),
    properties: field(
      fc.record(
        {
          affiliateId: field(fc.oneof(text, fc.integer({ min: 1 }).map(String), fc.constant('37569297'))),
          removalStatus: field(fc.constantFrom('DISABLED', 'DENIED', 'deleted'))
        },
        { requiredKeys: [] }
      )
    ),
    messageId: weird,
    timestamp: weird
  },
  { requiredKeys: [] }
)

// ---------------------------------------------------------------------------------------------------------------
// What counts as a typed, user-readable error.

function problemWith(error: unknown): string | undefined {
  if (!(error instanceof Error)) return `threw a non-Error: ${String(error)}`
  const typed =
    error instanceof PayloadValidationError ||
    error instanceof IntegrationError ||
    error instanceof InvalidAuthenticationError ||
    error instanceof RetryableError ||
    (error.name === 'AggregateAjvError' && Array.isArray((error as { errors?: unknown }).errors))
  if (!typed) return `untyped ${error.name}: ${error.message}\n${error.stack}`
  const message = error.message
  if (typeof message !== 'string' || message.trim() === '') return `${error.name} without a message`
  if (message === 'undefined' || /\bundefined\b|\[object Object\]|\bNaN\b/.test(message)) {
    return `${error.name} with an unreadable message: ${message}`
  }
  if (message.includes(SECRET_KEY)) return `${error.name} repeats the secret key`
  // Refersion is healthy here: a retryable error would be redelivered for ever.
  if (isRetryable(error)) return `${error.name} is retryable against a healthy Refersion: ${message}`
  return undefined
}

/** The message must not print `undefined` etc. unless the input itself carried that text. */
function readable(error: unknown, input: unknown): string | undefined {
  const problem = problemWith(error)
  if (!problem?.includes('unreadable message')) return problem
  const text = JSON.stringify(input) ?? ''
  return /undefined|\[object Object\]|NaN/.test(text) ? undefined : problem
}

const createMapping = mappingOf('createAffiliate', CREATE_OVERRIDES)
const deleteMapping = mappingOf('deleteAffiliate', DELETE_OVERRIDES)
const RUNS = 150
/** Outcome kinds per action, so that a property cannot pass by never getting past validation. */
const seen: Record<string, Record<string, number>> = { createAffiliate: {}, deleteAffiliate: {} }
const tally = (slug: string, error: unknown) => {
  const key = error === undefined ? 'success' : (error as Error).name
  seen[slug][key] = (seen[slug][key] ?? 0) + 1
}

describe('hostile events through the actions (healthy sandbox)', () => {
  it('createAffiliate.execute: success or a typed, readable, final error', async () => {
    await fc.assert(
      fc.asyncProperty(event, async (data) => {
        const error = await destination.actions.createAffiliate
          .execute({ data: data as JSONObject, settings: SETTINGS, mapping: createMapping, auth: undefined })
          .then(
            () => undefined,
            (e: unknown) => e
          )
        tally('createAffiliate', error)
        if (error !== undefined) {
          const problem = readable(error, data)
          if (problem) throw new Error(problem)
        }
      }),
      { seed: SEED, numRuns: RUNS }
    )
    // The run reached every layer: schema validation, the destination's own checks, Refersion, success.
    expect(Object.keys(seen.createAffiliate).sort()).toEqual(
      expect.arrayContaining(['AggregateAjvError', 'PayloadValidationError', 'RefersionApiError', 'success'])
    )
  })

  it('deleteAffiliate.execute: success or a typed, readable, final error; never a different affiliate', async () => {
    sandbox.store.create({
      first_name: 'Keep',
      last_name: 'Me',
      email: 'keeper@rel.test',
      status: 'ACTIVE',
      unique_merchant_id: 'keeper'
    })
    const keeper = sandbox.store.getByEmail('keeper@rel.test')!
    await fc.assert(
      fc.asyncProperty(event, async (data) => {
        const error = await destination.actions.deleteAffiliate
          .execute({ data: data as JSONObject, settings: SETTINGS, mapping: deleteMapping, auth: undefined })
          .then(
            () => undefined,
            (e: unknown) => e
          )
        tally('deleteAffiliate', error)
        if (error !== undefined) {
          const problem = readable(error, data)
          if (problem) throw new Error(problem)
        }
        // Only an event that names the keeper exactly (id, code, email or userId) may change it.
        const names = JSON.stringify(data ?? null).toLowerCase()
        const targeted = [String(keeper.id), keeper.code, 'keeper@rel.test', '"keeper"'].some((n) => names.includes(n))
        if (!targeted && sandbox.store.getById(keeper.id)?.status !== 'ACTIVE') {
          throw new Error(`the keeper was changed by ${names.slice(0, 300)}`)
        }
      }),
      { seed: SEED + 1, numRuns: RUNS }
    )
    expect(Object.keys(seen.deleteAffiliate)).toEqual(expect.arrayContaining(['AffiliateNotFoundError', 'success']))
    expect(sandbox.store.getById(keeper.id)?.status).toBe('ACTIVE')
  })

  it('onDelete and testAuthentication: success or a typed, readable, final error for any input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ userId: weird, anonymousId: weird }, { requiredKeys: [] }), async (data) => {
        const error = await destination.onDelete!(data as SegmentEvent, SETTINGS).then(
          () => undefined,
          (e: unknown) => e
        )
        const problem = error === undefined ? undefined : readable(error, data)
        if (problem) throw new Error(problem)
      }),
      { seed: SEED + 9, numRuns: 60 }
    )
    const apiKey = fc.oneof(
      weird,
      fc.tuple(strings, strings).map(([pub, sec]) => `${pub}.${sec}`),
      fc.constantFrom('pub.sec', '.', 'a.', '.b', ' pub . sec ', 'pub.sec.more')
    )
    await fc.assert(
      fc.asyncProperty(apiKey, async (key) => {
        const error = await destination.testAuthentication({ apiKey: key } as { apiKey: string }).then(
          () => undefined,
          (e: unknown) => e
        )
        if (error === undefined) return
        // actions-core wraps what testAuthentication throws into a plain Error('Credentials are invalid: …'):
        // the destination's own words follow, and they must be readable.
        const wrapped = error instanceof Error && error.name === 'Error'
        const message = error instanceof Error ? error.message.replace(/^Credentials are invalid:\s*\d*\s*/, '') : ''
        if (wrapped && message.length > 10 && !/\bundefined\b|\[object Object\]/.test(message)) {
          if (message.includes(SECRET_KEY)) throw new Error('secret in a testAuthentication error')
          if (/rejected/.test(message)) {
            // The sandbox accepts any well-formed pair: a "rejected" here means a half never reached it.
            throw new Error(`key ${JSON.stringify(key)} was sent incomplete: ${message}`)
          }
          return
        }
        const problem = readable(error, key)
        if (problem) throw new Error(problem)
      }),
      { seed: SEED + 10, numRuns: 120 }
    )
  })

  it('executeBatch: one readable status per event, never a throw', async () => {
    for (const [slug, mapping] of [
      ['createAffiliate', createMapping],
      ['deleteAffiliate', deleteMapping]
    ] as const) {
      await fc.assert(
        fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 6 }), async (data) => {
          const results = await destination.actions[slug].executeBatch({
            data: data as JSONObject[],
            settings: SETTINGS,
            mapping,
            auth: undefined
          })
          if (results.length !== data.length) throw new Error(`${results.length} results for ${data.length} events`)
          for (const result of results) {
            const entry = result as { status?: unknown; errormessage?: unknown }
            if (typeof entry.status !== 'number') throw new Error(`no status: ${JSON.stringify(entry)}`)
            if (entry.status >= 200 && entry.status < 300) continue
            if (typeof entry.errormessage !== 'string' || entry.errormessage.trim() === '') {
              throw new Error(`no error message: ${JSON.stringify(entry)}`)
            }
            if (entry.status >= 500 || entry.status === 429) {
              throw new Error(`retryable status against a healthy Refersion: ${JSON.stringify(entry)}`)
            }
            if (entry.errormessage.includes(SECRET_KEY)) throw new Error('secret in a multistatus entry')
          }
        }),
        { seed: SEED + 2, numRuns: 40 }
      )
    }
  })
})

describe('pure helpers keep their contracts for any input', () => {
  it('generatePassword() always satisfies the policy, for every allowed length and any email', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH }),
        fc.emailAddress(),
        (length, email) => {
          const password = generatePassword(length)
          return password.length === length && passwordPolicyViolation(password, email) === undefined
        }
      ),
      { seed: SEED + 3, numRuns: 500 }
    )
    for (let i = 0; i < 500; i++) expect(passwordPolicyViolation(generatePassword())).toBeUndefined()
    expect(() => generatePassword(PASSWORD_MIN_LENGTH - 1)).toThrow(RangeError)
    expect(() => generatePassword(PASSWORD_MAX_LENGTH + 1)).toThrow(RangeError)
  })

  it('passwordPolicyViolation agrees with an independent reading of the policy, and never throws', () => {
    const policyHolds = (p: string, e: string) =>
      p.length >= 9 &&
      p.length <= 72 &&
      /[A-Z]/.test(p) &&
      /[a-z]/.test(p) &&
      /\d/.test(p) &&
      /[^A-Za-z0-9]/.test(p) &&
      ![...p].some((_, i, chars) => i >= 3 && chars.slice(i - 3, i + 1).every((c) => c === chars[i])) &&
      p.toLowerCase() !== e.trim().toLowerCase()
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 })),
        fc.emailAddress(),
        (password, email) => {
          const violation = passwordPolicyViolation(password, email)
          if (violation !== undefined && typeof violation !== 'string') return false
          // The sentence is shown to users: it never repeats the password (short ones may be common words).
          if (violation !== undefined && password.trim().length >= 6 && violation.includes(password)) return false
          return (violation === undefined) === policyHolds(password, email)
        }
      ),
      { seed: SEED + 4, numRuns: 1000 }
    )
  })

  it('toRefersionCountry never throws and only yields one of the 90 accepted codes or undefined', () => {
    const allowed = (value: unknown) =>
      value === undefined || (typeof value === 'string' && REFERSION_COUNTRIES.has(value))
    fc.assert(
      fc.property(fc.oneof(fc.anything(), strings, huge, countryInput), (input) => allowed(toRefersionCountry(input))),
      { seed: SEED + 5, numRuns: 2000 }
    )
    // Every country name and code the ISO tables know, in any case and with stray spaces.
    const names = Object.entries(countries.getNames('en', { select: 'all' })).flatMap(([code, list]) => [
      code,
      countries.alpha2ToAlpha3(code) ?? code,
      ...(Array.isArray(list) ? list : [list])
    ])
    for (const name of names) {
      for (const variant of [name, name.toLowerCase(), name.toUpperCase(), `  ${name} `]) {
        const code = toRefersionCountry(variant)
        expect(allowed(code)).toBe(true)
        if (code) expect(toRefersionCountry(code)).toBe(code)
      }
    }
    for (const code of REFERSION_COUNTRIES) {
      expect(toRefersionCountry(code)).toBe(code)
      expect(toRefersionCountry(code.toLowerCase())).toBe(code)
    }
  })

  it('resolveNames never loses a character of a name of two or more words', () => {
    const word = fc
      .string({
        unit: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), fc.constant('-')),
        minLength: 1,
        maxLength: 12
      })
      .map((w) => w.replace(/\s/g, ''))
      .filter((w) => w.length > 0)
    const gap = fc.array(fc.constantFrom(...WHITESPACE), { minLength: 1, maxLength: 3 }).map((s) => s.join(''))
    const edge = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 2 }).map((s) => s.join(''))
    fc.assert(
      fc.property(fc.array(fc.tuple(word, gap), { minLength: 2, maxLength: 6 }), edge, edge, (parts, lead, trail) => {
        const name = lead + parts.map(([w, g], i) => (i < parts.length - 1 ? w + g : w)).join('') + trail
        const words = parts.map(([w]) => w)
        const { first_name, last_name } = resolveNames({ name })
        return first_name === words[0] && `${first_name} ${last_name}` === words.join(' ')
      }),
      { seed: SEED + 6, numRuns: 1000 }
    )
  })

  it('resolveNames keeps mapped names (trimmed), fills only the missing half, and refuses one word', () => {
    const nonBlank = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '')
    fc.assert(
      fc.property(nonBlank, nonBlank, fc.option(fc.string(), { nil: undefined }), (first, last, name) => {
        const names = resolveNames({ firstName: first, lastName: last, name })
        return names.first_name === first.trim() && names.last_name === last.trim()
      }),
      { seed: SEED + 7, numRuns: 500 }
    )
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .map((s) => s.replace(/\s/g, ''))
          .filter(Boolean),
        (single) => {
          try {
            resolveNames({ name: ` ${single} ` })
            return false
          } catch (error) {
            return error instanceof PayloadValidationError && error.message.length > 0
          }
        }
      ),
      { seed: SEED + 8, numRuns: 300 }
    )
  })

  // Moved from the unit tests (they travel with src/ into Segment's monorepo, which has no fast-check).
  it('toRefersionCountry only ever returns one of the 90 accepted codes (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (input) => {
        const code = toRefersionCountry(input)
        return code === undefined || REFERSION_COUNTRIES.has(code)
      })
    )
  })

  it('passwordPolicyViolation never repeats the password in its explanation (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 9, maxLength: 80 }), (password) => {
        const why = passwordPolicyViolation(password)
        return why === undefined || !why.includes(password)
      })
    )
  })

  it('fingerprintOf changes with any change of any value, and with an added or removed field', () => {
    const field = fc.constantFrom('first_name', 'last_name', 'email', 'city', 'country', 'paypal_email', 'offer')
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
    fc.assert(
      fc.property(fc.dictionary(field, value), field, value, (fields, key, next) => {
        const before = fingerprintOf(fields)
        const changed = { ...fields, [key]: next }
        const isSame = key in fields && JSON.stringify(fields[key]) === JSON.stringify(next)
        expect(fingerprintOf(changed) === before).toBe(isSame)
        const without = { ...fields }
        delete without[key]
        expect(fingerprintOf(without) === before).toBe(!(key in fields))
      })
    )
  })
})
