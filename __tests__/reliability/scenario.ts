/**
 * Seeded workloads for the fault-injection suite: people whose identifies repeat with changed traits and who
 * are then deleted (by email, by userId, through onDelete), mixed with deliberately invalid events, and an
 * independent model of what Refersion must hold afterwards (written from SPEC.md, not from the destination).
 */
import type { JSONObject } from '@segment/actions-core'
import { mulberry32 } from '../../tools/sandbox/prng'
import type { SandboxAffiliate } from '../../tools/sandbox'
import type { Final } from './helpers'

export type Rng = () => number

export const rngOf = (seed: number): Rng => mulberry32(seed)
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]
const chance = (rng: Rng, p: number) => rng() < p

/** The profile fields the suite checks on every affiliate (sandbox store names). */
export const PROFILE_KEYS = [
  'first_name',
  'last_name',
  'company_name',
  'phone',
  'address1',
  'city',
  'state',
  'zip',
  'country',
  'paypal_email',
  'unique_merchant_id'
] as const
export type ProfileKey = typeof PROFILE_KEYS[number]
export type Profile = Partial<Record<ProfileKey, string>>

/** What traits carry → what Refersion must store (SPEC: two-letter codes of the 90 accepted, else left out). */
const COUNTRIES: [string, string | undefined][] = [
  ['USA', 'US'],
  ['us', 'US'],
  ['United States', 'US'],
  ['United Kingdom', 'GB'],
  ['de', 'DE'],
  ['Germany', 'DE'],
  ['France', 'FR'],
  ['JPN', 'JP'],
  ['South Korea', 'KR'],
  ['Narnia', undefined],
  ['Antarctica', undefined]
]
const FIRSTS = ['Peter', 'Joanna', 'Michael', 'Samir', 'José', 'Zoë', '李', "Ren'ee", 'Ann-Marie', 'Bill']
const LASTS = ['Gibbons', 'Bolton', 'Nagheenanajar', 'Lumbergh', "O'Brien", 'García Márquez', '王', 'Smykowski']
const MIDDLES = ['van', 'de la', 'Mary', 'J.']
const CITIES = ['San Francisco', 'Austin', 'Zürich', 'München', 'Lyon']

export interface Person {
  key: string
  /** The email as the first identify sends it (case kept by Refersion). */
  email: string
  /** Unique merchant id (Segment userId); undefined for people only known by anonymousId. */
  userId?: string
}

export type Expect = { kind: 'success' } | { kind: 'failed'; status: number }

export interface Step {
  action: 'createAffiliate' | 'deleteAffiliate' | 'onDelete'
  event: JSONObject
  /** The person whose affiliate the step concerns, when there is one. */
  person?: Person
  /** What the step does to the model when it is delivered (in phase order). */
  effect:
    | { type: 'identify'; email: string; fields: Profile; status: 'ACTIVE' | 'PENDING' }
    | { type: 'invalid'; status: number; noRequest: boolean }
    | { type: 'rejected' }
    | { type: 'delete'; by: 'email' | 'userId'; key: string; status: 'DISABLED' | 'DENIED' }
  label: string
}

/** Mappings a workspace owner could configure: status, password and PayPal email from traits too. */
export const CREATE_OVERRIDES: JSONObject = {
  password: { '@path': '$.traits.password' },
  status: { '@path': '$.traits.affiliateStatus' },
  paypalEmail: { '@path': '$.traits.paypalEmail' }
}
export const DELETE_OVERRIDES: JSONObject = {
  status: { '@path': '$.properties.removalStatus' },
  affiliateId: { '@path': '$.properties.affiliateId' }
}

let messageCounter = 0
const messageId = (label: string) => `rel-${label}-${++messageCounter}`

function emailVariant(rng: Rng, email: string): string {
  if (!chance(rng, 0.3)) return email
  return chance(rng, 0.5) ? email.toUpperCase() : email[0].toUpperCase() + email.slice(1)
}

/** One identify for `person` with freshly drawn traits, and the profile fields it must leave in Refersion. */
export function identify(rng: Rng, person: Person, version: number, label = 'identify'): Step {
  const traits: Record<string, unknown> = {}
  const fields: Profile = {}
  const first = `${pick(rng, FIRSTS)}${version > 1 ? version : ''}`
  const last = pick(rng, LASTS)
  switch (pick(rng, ['pair', 'snake', 'name2', 'name3', 'mixed'] as const)) {
    case 'pair':
      Object.assign(traits, { firstName: first, lastName: last })
      Object.assign(fields, { first_name: first, last_name: last })
      break
    case 'snake':
      Object.assign(traits, { first_name: first, last_name: last })
      Object.assign(fields, { first_name: first, last_name: last })
      break
    case 'name2':
      traits.name = `  ${first}   ${last} `
      Object.assign(fields, { first_name: first, last_name: last.split(/\s+/).join(' ') })
      break
    case 'name3': {
      const middle = pick(rng, MIDDLES)
      traits.name = `${first} ${middle}\t${last}`
      Object.assign(fields, { first_name: first, last_name: `${middle} ${last}` })
      break
    }
    case 'mixed':
      // First name mapped, last name derived from `name` (everything after its first word).
      traits.firstName = first
      traits.name = `Whoever ${last}`
      Object.assign(fields, { first_name: first, last_name: last })
      break
  }
  const company = rng()
  if (company < 0.45) {
    traits.company = `Initech ${version}-${Math.floor(rng() * 100)}`
    fields.company_name = traits.company as string
  } else if (company < 0.65) {
    const name = `Initrode ${version}`
    traits.company = { name, id: 7 }
    fields.company_name = name
  }
  if (chance(rng, 0.6)) {
    const phone = chance(rng, 0.2) ? 4155550100 + version : `+1 415 555 ${String(1000 + version)}`
    traits.phone = phone
    fields.phone = String(phone)
  }
  if (chance(rng, 0.6)) {
    const address: Record<string, unknown> = {}
    if (chance(rng, 0.8)) address.street = fields.address1 = `${version} Main St`
    if (chance(rng, 0.8)) address.city = fields.city = pick(rng, CITIES)
    if (chance(rng, 0.5)) address.state = fields.state = 'CA'
    if (chance(rng, 0.7)) {
      const zip = chance(rng, 0.3) ? 94100 + version : `9410${version}`
      address[chance(rng, 0.5) ? 'postalCode' : 'postal_code'] = zip
      fields.zip = String(zip)
    }
    if (chance(rng, 0.7)) {
      const [given, code] = pick(rng, COUNTRIES)
      address.country = given
      if (code) fields.country = code
    }
    traits.address = address
  }
  if (chance(rng, 0.2)) traits.paypalEmail = fields.paypal_email = `pay.${person.key}.${version}@pay.test`
  const status = version === 1 && chance(rng, 0.4) ? 'ACTIVE' : 'PENDING'
  if (status === 'ACTIVE' || chance(rng, 0.2)) traits.affiliateStatus = status
  if (chance(rng, 0.1)) traits.password = `Val1d-Pass-${version}!`
  if (person.userId) fields.unique_merchant_id = person.userId

  const email = emailVariant(rng, person.email)
  const event: Record<string, unknown> = {
    type: 'identify',
    messageId: messageId(label),
    timestamp: '2026-01-01T00:00:00.000Z',
    traits
  }
  if (person.userId) event.userId = person.userId
  else event.anonymousId = `anon-${person.key}`
  const where = rng()
  if (where < 0.7) traits.email = email
  else if (where < 0.85) event.email = email
  else event.context = { traits: { email } }
  return {
    action: 'createAffiliate',
    event: event as JSONObject,
    person,
    effect: { type: 'identify', email, fields, status },
    label
  }
}

/** A repeated identify whose PayPal email Refersion rejects: a final 422, and nothing changes. */
export function rejectedIdentify(rng: Rng, person: Person): Step {
  const step = identify(rng, person, 9, 'rejected')
  const event = step.event as { traits: Record<string, unknown> }
  event.traits.paypalEmail = 'not-a-paypal-address'
  return { ...step, effect: { type: 'rejected' }, label: 'rejected' }
}

/** Events the destination must refuse before sending anything: a final 400 on the first attempt. */
export function invalidIdentifies(tag: string): Step[] {
  const base = { type: 'identify', timestamp: '2026-01-01T00:00:00.000Z', userId: `invalid-${tag}` }
  const step = (label: string, traits: Record<string, unknown>, noRequest = true): Step => ({
    action: 'createAffiliate',
    event: { ...base, messageId: messageId(label), traits } as JSONObject,
    effect: { type: 'invalid', status: 400, noRequest },
    label
  })
  return [
    step('missing-email', { name: 'Nora Email' }),
    step('bad-email', { name: 'Bad Email', email: 'not-an-email' }),
    step('bad-password', { name: 'Weak Password', email: `weak.${tag}@rel.test`, password: 'short' }),
    step('password-is-email', {
      name: 'Same Password',
      email: `Same.Pass1!${tag}@rel.test`,
      password: `Same.Pass1!${tag}@rel.test`
    }),
    // Names are required only to create: an identify without a usable name looks the email up first (one search),
    // then fails for an email no affiliate has.
    step('one-word-name', { name: 'Cher', email: `cher.${tag}@rel.test` }, false),
    step('no-name', { email: `noname.${tag}@rel.test` }, false),
    step('bad-status', { name: 'Bad Status', email: `status.${tag}@rel.test`, affiliateStatus: 'DISABLED' })
  ]
}

/** A delete of `person` by email (top-level, as in Refersion's docs, or in traits) or by userId. */
export function deletion(
  rng: Rng,
  person: Person,
  by: 'email' | 'userId' | 'onDelete',
  status: 'DISABLED' | 'DENIED' = 'DISABLED'
): Step {
  const event: Record<string, unknown> = { type: 'delete', messageId: messageId('delete') }
  if (status === 'DENIED') event.properties = { removalStatus: 'DENIED' }
  if (by === 'onDelete') {
    return {
      action: 'onDelete',
      event: { type: 'delete', userId: person.userId! } as JSONObject,
      person,
      effect: { type: 'delete', by: 'userId', key: person.userId!, status: 'DISABLED' },
      label: 'onDelete'
    }
  }
  if (by === 'email') {
    const email = emailVariant(rng, person.email)
    if (chance(rng, 0.5)) event.email = email
    else event.traits = { email }
    if (person.userId) event.userId = person.userId
    return {
      action: 'deleteAffiliate',
      event: event as JSONObject,
      person,
      effect: { type: 'delete', by: 'email', key: person.email, status },
      label: 'delete-email'
    }
  }
  event.userId = person.userId
  return {
    action: 'deleteAffiliate',
    event: event as JSONObject,
    person,
    effect: { type: 'delete', by: 'userId', key: person.userId!, status },
    label: 'delete-userId'
  }
}

/** Deletes that must end as a final 404 (no such affiliate, or only partial matches) or 400 (nothing to go by). */
export function invalidDeletes(tag: string): Step[] {
  const step = (label: string, event: Record<string, unknown>, status: number, noRequest: boolean): Step => ({
    action: 'deleteAffiliate',
    event: { type: 'delete', messageId: messageId(label), ...event } as JSONObject,
    effect: { type: 'invalid', status, noRequest },
    label
  })
  return [
    step('unknown-email', { email: `nobody.${tag}@rel.test` }, 404, false),
    step('partial-email', { email: 'nn@rel.test' }, 404, false),
    step('unknown-userId', { userId: `ghost-${tag}` }, 404, false),
    step('unknown-code', { properties: { affiliateId: `zz${tag}` } }, 404, false),
    step('nothing', { anonymousId: `anon-${tag}` }, 400, true)
  ]
}

/** People of a run: mixed-case emails, emails that contain one another (search is partial), some anonymous. */
export function people(rng: Rng, tag: string, count: number): Person[] {
  const out: Person[] = [
    { key: `${tag}-ann`, email: `ann@rel.test`, userId: `${tag}-u-ann` },
    { key: `${tag}-joann`, email: `joann@rel.test`, userId: `${tag}-u-joann` },
    { key: `${tag}-maryann`, email: `Mary.Ann.${tag}@Rel.Test`, userId: `${tag}-u-maryann` }
  ]
  // The partial-match trio only once per sandbox: their emails carry no tag.
  if (tag !== 'single') out.splice(0, 2)
  for (let i = out.length; i < count; i++) {
    const anonymous = chance(rng, 0.1)
    out.push({
      key: `${tag}-${i}`,
      email: chance(rng, 0.15) ? `Person.${tag}.${i}@Rel.Test` : `person.${tag}.${i}@rel.test`,
      userId: anonymous ? undefined : `${tag}-user-${String(i).padStart(4, '0')}`
    })
  }
  return out
}

interface ModelAffiliate extends Profile {
  email: string
  status: string
}

/** The expected Refersion state, driven by the steps in delivery order. */
export class Model {
  readonly affiliates = new Map<string, ModelAffiliate>()

  /** Applies a step and says how its delivery must end. */
  apply(step: Step): Expect {
    const effect = step.effect
    switch (effect.type) {
      case 'invalid':
        return { kind: 'failed', status: effect.status }
      case 'rejected':
        return { kind: 'failed', status: 422 }
      case 'identify': {
        const key = step.person!.email.toLowerCase()
        const existing = this.affiliates.get(key)
        if (!existing) {
          // Refersion keeps the email as the creating identify wrote it.
          this.affiliates.set(key, { email: effect.email, status: effect.status, ...effect.fields })
        } else {
          // A repeated identify updates the profile fields it carries; status stays (creation only).
          Object.assign(existing, effect.fields)
        }
        return { kind: 'success' }
      }
      case 'delete': {
        const target =
          effect.by === 'email'
            ? this.affiliates.get(effect.key.toLowerCase())
            : [...this.affiliates.values()].find((a) => a.unique_merchant_id === effect.key)
        // A Segment deletion request (onDelete) for someone who is not an affiliate is a success that changed nothing.
        if (!target) return step.action === 'onDelete' ? { kind: 'success' } : { kind: 'failed', status: 404 }
        target.status = effect.status
        return { kind: 'success' }
      }
    }
  }
}

export interface Check {
  duplicated: number
  missing: string[]
  extra: string[]
  mismatched: string[]
}

/** Compares the sandbox's affiliates with the model: exactly the expected emails, once each, with their fields. */
export function compareState(actual: readonly SandboxAffiliate[], model: Model): Check {
  const byEmail = new Map<string, SandboxAffiliate[]>()
  for (const a of actual) {
    const key = a.email.toLowerCase()
    byEmail.set(key, [...(byEmail.get(key) ?? []), a])
  }
  let duplicated = 0
  for (const list of byEmail.values()) duplicated += list.length - 1
  const missing = [...model.affiliates.keys()].filter((key) => !byEmail.has(key))
  const extra = [...byEmail.keys()].filter((key) => !model.affiliates.has(key))
  const mismatched: string[] = []
  for (const [key, expected] of model.affiliates) {
    const found = byEmail.get(key)?.[0]
    if (!found) continue
    const problems: string[] = []
    if (found.email !== expected.email) problems.push(`email ${found.email} ≠ ${expected.email}`)
    if (found.status !== expected.status) problems.push(`status ${found.status} ≠ ${expected.status}`)
    for (const field of PROFILE_KEYS) {
      const value = (found as unknown as Record<string, unknown>)[field]
      if (value !== expected[field])
        problems.push(`${field} ${JSON.stringify(value)} ≠ ${JSON.stringify(expected[field])}`)
    }
    if (problems.length) mismatched.push(`${key}: ${problems.join('; ')}`)
  }
  return { duplicated, missing, extra, mismatched }
}

/** An outcome that is not what the model says: a lost event, a wrong classification, a retried final error. */
export function wrongOutcome(step: Step, expected: Expect, final: Final): string | undefined {
  const what = `${step.label} ${JSON.stringify(step.event).slice(0, 160)}`
  if (final.kind === 'exhausted') return `${what}: still failing after ${final.attempts} attempts (${final.message})`
  if (expected.kind === 'success') {
    return final.kind === 'success' ? undefined : `${what}: failed ${final.status} (${final.message})`
  }
  if (final.kind === 'success') return `${what}: succeeded, expected a final ${expected.status}`
  if (final.status !== expected.status)
    return `${what}: failed ${final.status}, expected ${expected.status} (${final.message})`
  if (step.effect.type === 'invalid' && step.effect.noRequest && final.attempts !== 1) {
    return `${what}: refused only after ${final.attempts} attempts`
  }
  return undefined
}
