import { createHash } from 'node:crypto'
import type { Payload } from '../createAffiliate/generated-types'
import { affiliateCache, affiliateCacheEnabled, CachedAffiliate, fingerprintOf } from './affiliate-cache'
import { parseApiKey } from './auth'
import { AffiliateRecord, AffiliateStatus, baseUrl, DEFAULT_BASE_URL, RefersionClient, TriggerResult } from './client'
import { toRefersionCountry } from './countries'
import {
  AffiliateNotFoundError,
  FieldValidationError,
  notChangedError,
  RefersionApiError,
  RefersionRetryableError
} from './errors'
import { numericId, sameEmail, text } from './normalise'
import { generatePassword, passwordPolicyViolation } from './password'

/** What the createAffiliate mapping produces: the action's generated Payload (`address` also admits `postal_code`). */
export type AffiliateInput = Payload

/** The snake_case body of `POST /affiliate/new`; empty values are never present. */
export type NewAffiliateBody = Record<string, string>

/** The fields of one `/affiliate/edit` entry besides `id`: text, and `offer` as a JSON number. */
export type EditFields = Record<string, string | number>

/**
 * The fields a repeated identify may send to `/affiliate/edit`: exactly those Refersion documents for edit (its
 * `email` and `custom_fields` aside — the email is how we found the affiliate). Creation-only, never edited:
 * `password`, `status` and `send_welcome` (re-sending them would reset a login, undo a merchant's approval or
 * e-mail the affiliate again) and `unique_merchant_id` and `conversion_trigger_coupon` (edit does not document
 * them, and Refersion answers an undocumented field with 204 "invalid field"; a coupon is added as a trigger).
 */
export const EDIT_FIELDS = [
  'first_name',
  'last_name',
  'company',
  'paypal_email',
  'address1',
  'address2',
  'city',
  'state',
  'zip',
  'country',
  'phone',
  'offer'
] as const

/** Where a search/get record shows the current value of an edit field, when it shows it at all. Search results
 * document `first_name`, `last_name` and `offer_id`; get adds `company_name`. */
const RECORD_KEYS: Partial<Record<typeof EDIT_FIELDS[number], string>> = {
  first_name: 'first_name',
  last_name: 'last_name',
  company: 'company_name',
  offer: 'offer_id'
}

const NAME_FIELDS = ['firstName', 'lastName', 'name'] as const

export { sameEmail }

/** First and last name as far as the mapping gives them: `firstName`/`lastName`, a missing half from `name`. */
function namesOf(input: Pick<AffiliateInput, 'firstName' | 'lastName' | 'name'>): {
  first?: string
  last?: string
} {
  let first = text(input.firstName)
  let last = text(input.lastName)
  if (!first || !last) {
    const [derivedFirst, ...rest] = (text(input.name) ?? '').split(/\s+/).filter(Boolean)
    first ??= derivedFirst
    last ??= rest.length ? rest.join(' ') : undefined
  }
  return { first, last }
}

function missingNamesError(input: Pick<AffiliateInput, 'name'>, first?: string, last?: string) {
  const missing = !first && !last ? 'a first and last name' : !first ? 'a first name' : 'a last name'
  return new FieldValidationError(
    `Refersion requires ${missing}: map "First Name" and "Last Name" (traits.firstName/first_name, ` +
      `traits.lastName/last_name), or "Name" (traits.name) with at least two words` +
      (text(input.name) ? ` (the name given has only one word)` : '') +
      '.',
    [...NAME_FIELDS]
  )
}

/**
 * First and last name: `firstName`/`lastName` when mapped; whichever is missing comes from `name`
 * (first word → first name, the rest → last name). Whitespace is collapsed, no other character is lost.
 */
export function resolveNames(input: Pick<AffiliateInput, 'firstName' | 'lastName' | 'name'>): {
  first_name: string
  last_name: string
} {
  const { first, last } = namesOf(input)
  if (!first || !last) throw missingNamesError(input, first, last)
  return { first_name: first, last_name: last }
}

/**
 * The mapped Offer ID, checked: Refersion offer IDs are numeric (edit takes a JSON number), so anything but
 * digits is a validation error naming the field, before any request.
 */
export function offerOf(value: unknown): string | undefined {
  const offer = text(value)
  if (offer === undefined) return undefined
  if (!/^\d+$/.test(offer) || !Number.isSafeInteger(Number(offer))) {
    throw new FieldValidationError(
      `"Offer ID" must be a numeric Refersion offer ID (digits only, as shown in Refersion's offer settings); ` +
        `got "${offer}". Leave it empty to keep the account's default offer.`,
      ['offer']
    )
  }
  return offer
}

function requireEmail(input: AffiliateInput): string {
  const email = text(input.email)
  if (!email) {
    throw new FieldValidationError('Refersion requires an email: map "Email" (traits.email) to a non-empty address.', [
      'email'
    ])
  }
  return email
}

/** A mapped password, checked against Refersion's policy (undefined when none is mapped). */
function mappedPassword(input: AffiliateInput, email: string): string | undefined {
  const mapped = typeof input.password === 'string' && input.password !== '' ? input.password : undefined
  if (mapped !== undefined) {
    const violation = passwordPolicyViolation(mapped, email)
    if (violation) {
      throw new FieldValidationError(
        `The mapped "Password" does not meet Refersion's password policy: it ${violation}. ` +
          'Map a compliant password or leave "Password" unmapped to have one generated.',
        ['password']
      )
    }
  }
  return mapped
}

function newStatus(input: AffiliateInput): string {
  const status = text(input.status)?.toUpperCase() ?? 'PENDING'
  if (status !== 'ACTIVE' && status !== 'PENDING') {
    throw new FieldValidationError(`"Status" must be ACTIVE or PENDING for a new affiliate (got "${status}").`, [
      'status'
    ])
  }
  return status
}

/** The profile fields both create and edit carry (text; offer as its digit string), absent values as undefined. */
function profileOf(input: AffiliateInput) {
  const address = input.address && typeof input.address === 'object' ? input.address : {}
  return {
    offer: offerOf(input.offer),
    company: text(input.company),
    paypal_email: text(input.paypalEmail),
    address1: text(address.street),
    city: text(address.city),
    state: text(address.state),
    zip: text(address.postalCode) ?? text(address.postal_code),
    country: toRefersionCountry(address.country),
    phone: text(input.phone)
  }
}

function compact(body: Record<string, string | undefined>): NewAffiliateBody {
  const out: NewAffiliateBody = {}
  for (const key in body) if (body[key] !== undefined) out[key] = body[key]
  return out
}

/**
 * Builds the `/affiliate/new` body from a mapped event, validating before anything is sent:
 * names, email, password policy (or a fresh policy-valid password), offer ID, country code, `"TRUE"`/`"FALSE"`.
 */
export function buildNewAffiliate(input: AffiliateInput): NewAffiliateBody {
  const email = requireEmail(input)
  const names = resolveNames(input)
  const password = mappedPassword(input, email) ?? generatePassword()
  return newBody(input, email, names.first_name, names.last_name, password, newStatus(input), profileOf(input))
}

function newBody(
  input: AffiliateInput,
  email: string,
  first: string,
  last: string,
  password: string,
  status: string,
  profile: ReturnType<typeof profileOf>
): NewAffiliateBody {
  // Property by property, no object spread: V8 makes a fresh hidden class for `{ ...a, b, c }` on every call,
  // which made this function 25× slower (measured by `npm run bench`'s CPU comparison).
  return compact({
    first_name: first,
    last_name: last,
    email,
    password,
    status,
    offer: profile.offer,
    company: profile.company,
    paypal_email: profile.paypal_email,
    address1: profile.address1,
    city: profile.city,
    state: profile.state,
    zip: profile.zip,
    country: profile.country,
    phone: profile.phone,
    send_welcome: input.sendWelcome === true ? 'TRUE' : 'FALSE',
    conversion_trigger_coupon: text(input.conversionTriggerCoupon),
    unique_merchant_id: text(input.uniqueMerchantId)
  })
}

/**
 * The documented `/affiliate/edit` fields of a body (new-affiliate body or the fields of a partial identify):
 * only EDIT_FIELDS, `offer` as a JSON number.
 */
export function editableFields(body: Record<string, string | undefined>): EditFields {
  const fields: EditFields = {}
  for (const key of EDIT_FIELDS) {
    const value = body[key]
    if (value === undefined) continue
    fields[key] = key === 'offer' ? Number(value) : value
  }
  return fields
}

/** Everything one identify asks for, validated before any request. */
export interface AffiliatePlan {
  email: string
  /** The `/affiliate/new` body; absent for a partial identify (no usable first and last name): it cannot create. */
  create?: NewAffiliateBody
  /** Why this identify cannot create (a partial identify): the validation error naming the name fields. */
  cannotCreate?: FieldValidationError
  /** The fields an update of an existing affiliate sends to `/affiliate/edit` (may be empty). */
  edit: EditFields
  /** A coupon to add as a COUPON conversion trigger when the affiliate already exists. */
  coupon?: string
  /** False ("Update Existing Affiliates" off): an affiliate that already exists is never changed (no edit, no
   * trigger). Absent or true: it is updated. */
  updateExisting?: boolean
}

/**
 * Validates a mapped identify and says what it may do. Names are required only to create: without a usable first
 * and last name the plan has no `create`, and the identify can only update an affiliate that already has the email.
 * Every other input problem (email, password, status, offer) is thrown here, before any request.
 */
export function planAffiliate(input: AffiliateInput): AffiliatePlan {
  const email = requireEmail(input)
  const password = mappedPassword(input, email)
  const status = newStatus(input)
  const profile = profileOf(input)
  const coupon = text(input.conversionTriggerCoupon)
  const { first, last } = namesOf(input)
  const updateExisting = input.updateExisting !== false
  if (first && last) {
    const create = newBody(input, email, first, last, password ?? generatePassword(), status, profile)
    return { email, create, edit: editableFields(create), coupon, updateExisting }
  }
  const partial: Record<string, string | undefined> = profile
  partial.first_name = first
  partial.last_name = last
  return {
    email,
    cannotCreate: missingNamesError(input, first, last),
    edit: editableFields(partial),
    coupon,
    updateExisting
  }
}

/** True when the record visibly holds every value we would send, so an edit would change nothing. Offer IDs are
 * compared as numbers (search documents `offer_id` as a string, edit takes a number). */
export function recordAlreadyMatches(record: AffiliateRecord, fields: EditFields): boolean {
  return Object.entries(fields).every(([key, value]) => {
    const recordKey = RECORD_KEYS[key as keyof typeof RECORD_KEYS]
    if (!recordKey || !(recordKey in record)) return false
    const current = text(record[recordKey])
    if (current === undefined) return false
    return typeof value === 'number' ? /^\d+$/.test(current) && Number(current) === value : current === value
  })
}

export function isEmailTaken(error: unknown): boolean {
  return (
    error instanceof RefersionApiError &&
    error.refersionStatus === 422 &&
    error.messages.some((m) => /e-?mail/i.test(m) && /taken|already|exists|in use/i.test(m))
  )
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'exists'

export interface UpsertResult {
  /** `created`: a new affiliate; `updated`: an existing one was edited and/or given the coupon trigger;
   * `unchanged`: it existed and nothing needed sending (or only a trigger it already had); `exists`: it existed
   * and "Update Existing Affiliates" is off, so it was left as it is. */
  outcome: UpsertOutcome
  /** True when this process's memory of the affiliate decided the path: nothing sent (the profile equals the one
   * last sent successfully), or the edit went straight to the remembered id. */
  cached?: true
  /** For `exists`: why nothing was changed. */
  note?: string
  email: string
  id?: number
  code?: string
  link?: string
  /** The `/affiliate/edit` field keys sent, when an edit was sent. */
  edited?: string[]
  /** The coupon trigger on an existing affiliate: `added`, or `exists` (it already had it — counts as done). */
  coupon?: TriggerResult['outcome']
}

/** The affiliate code of a found record: search's `id` (documented as the code), else `get`'s answer. */
async function affiliateCodeOf(client: RefersionClient, record: AffiliateRecord, knownId?: number): Promise<string> {
  const direct = text(record.affiliate_code) ?? (typeof record.id === 'string' ? text(record.id) : undefined)
  if (direct) return direct
  const id = knownId ?? (await client.numericIdOf(record))
  const full = await client.getAffiliate({ id })
  const code = text(full?.affiliate_code) ?? text(full?.link)?.match(/\/c\/([^/?#]+)\/?$/)?.[1]
  if (code) return code
  throw new RefersionApiError(
    `Refersion did not give the affiliate code of affiliate ${id}, which adding the coupon as a conversion trigger needs`,
    { status: 502, refersionStatus: 200 }
  )
}

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

/** Options of one upsert. */
export interface UpsertOptions {
  /** `cacheAccountOf(settings)`: the cache is used only when given. */
  account?: string
}

/** What the cache compares: everything the changed path would send (edit fields and coupon), never a password. */
export function planFingerprint(plan: Pick<AffiliatePlan, 'edit' | 'coupon'>): string {
  return fingerprintOf({ edit: plan.edit, coupon: plan.coupon })
}

/** True for Refersion's answers to an edit of an id it does not know: the id in `ids_not_changed` (what it answers
 * for an id it cannot change — unknown, or a value it refused: either way the full path decides), or a 422 that
 * says the affiliate is not found / the id is invalid. */
export function isUnknownIdAnswer(error: unknown): boolean {
  if (!(error instanceof RefersionApiError)) return false
  if (error.idsNotChanged) return true
  return (
    error.refersionStatus === 422 &&
    error.messages.some((m) => /not found|does not exist|no (such )?affiliate|(selected|invalid).*\bid\b/i.test(m))
  )
}

const EXISTS_NOTE =
  'An affiliate with this email already exists and "Update Existing Affiliates" is off: it was left unchanged.'

/**
 * Creates the affiliate (one request) when the identify can. When Refersion answers that the email is taken — a
 * repeated identify, or a retry of a create whose answer was lost — or when the identify has no usable name (a
 * partial identify: looked up first, never created), finds that exact affiliate and updates it: search (exact,
 * case-insensitive email), get (only when needed for the numeric id), edit (only the documented edit fields, and
 * only when something is to be sent), then the coupon as a COUPON conversion trigger.
 *
 * With `options.account`, the process's affiliate cache saves requests on repeats (see SPEC "Request economy"):
 * a remembered affiliate whose profile equals the one last sent costs nothing; a changed one goes straight to
 * `/affiliate/edit` by the remembered id (plus the trigger for a coupon). An edit Refersion answers as for an
 * unknown id drops the entry and the event takes the full path; any other failure drops the entry and fails.
 * Only a fully successful event fills the cache. With `updateExisting` false an existing affiliate is never
 * changed: a remembered one costs nothing, else the event ends at "email taken" (or, without a name, at the lookup).
 */
export async function upsertAffiliate(
  client: RefersionClient,
  plan: AffiliatePlan,
  options: UpsertOptions = {}
): Promise<UpsertResult> {
  // REFERSION_CACHE=off (read here, on every event): no lookup, no digest, nothing remembered.
  const account = options.account !== undefined && affiliateCacheEnabled() ? options.account : undefined
  if (account === undefined) {
    return plan.updateExisting === false ? keepExisting(client, plan, '', false, {}) : fullUpsert(client, plan)
  }
  const cached = affiliateCache.get(account, plan.email)
  const fingerprint = planFingerprint(plan)
  const pending: Pending = {}
  const finish = startTurn(account, plan.email)
  let result: UpsertResult | undefined
  try {
    if (plan.updateExisting === false) {
      result = await keepExisting(client, plan, fingerprint, cached !== undefined, pending)
    } else {
      if (cached) result = await cachedUpdate(client, plan, account, cached, fingerprint, pending)
      if (!result) {
        result = await fullUpsert(client, plan)
        if (result.id !== undefined) pending.entry = { id: result.id, code: result.code, fingerprint }
      }
    }
  } catch (error) {
    // A failed request may still have been applied (a 5xx, a lost answer): nothing is remembered, and what was
    // remembered before (maybe by an overlapping event) is dropped.
    finish()
    affiliateCache.forget(account, plan.email)
    throw error
  }
  // Only the latest of overlapping upserts for one email may remember what it sent: the order in which their
  // requests were applied is unknown, so an older one that finishes last drops the entry instead.
  if (!finish()) affiliateCache.forget(account, plan.email)
  else if (pending.entry) affiliateCache.remember(account, plan.email, pending.entry)
  return result
}

/** What a successful upsert would have the cache remember. */
interface Pending {
  entry?: CachedAffiliate
}

/** Upserts in flight per cache key (account and lower-cased email); an entry lives only while one runs. */
const inFlight = new Map<string, { started: number; running: number }>()

const turnKey = (account: string, email: string) => `${account} ${email.trim().toLowerCase()}`

/** Registers an upsert in flight; the returned function ends it and says whether no other upsert for the same
 * email (or delete naming it) started in the meantime. */
function startTurn(account: string, email: string): () => boolean {
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
function supersedeTurns(account: string, email: string): void {
  const turn = inFlight.get(turnKey(account, email))
  if (turn) turn.started++
}

/** The remembered path. Undefined when the event must take the full path (unknown id, or no code for a coupon). */
async function cachedUpdate(
  client: RefersionClient,
  plan: AffiliatePlan,
  account: string,
  cached: CachedAffiliate,
  fingerprint: string,
  pending: Pending
): Promise<UpsertResult | undefined> {
  const base: UpsertResult = { outcome: 'unchanged', email: plan.email, id: cached.id, cached: true }
  if (cached.code !== undefined) base.code = cached.code
  if (cached.fingerprint === fingerprint) return base
  const keys = Object.keys(plan.edit)
  if (plan.coupon && cached.code === undefined) {
    affiliateCache.forget(account, plan.email)
    return undefined
  }
  try {
    if (keys.length > 0) {
      await client.editAffiliate(cached.id, plan.edit)
      base.outcome = 'updated'
      base.edited = keys
    }
    if (plan.coupon && cached.code !== undefined) {
      const trigger = await client.addTrigger(cached.code, 'COUPON', plan.coupon)
      base.coupon = trigger.outcome
      if (trigger.outcome === 'added') base.outcome = 'updated'
    }
  } catch (error) {
    // Refersion does not know the id (or refused a value): drop the entry, and the full path decides. Any other
    // failure fails the event (upsertAffiliate drops the entry).
    if (!isUnknownIdAnswer(error) || base.outcome !== 'unchanged') throw error
    affiliateCache.forget(account, plan.email)
    return undefined
  }
  pending.entry = { id: cached.id, code: cached.code, fingerprint }
  return base
}

/** "Update Existing Affiliates" off: create when the identify can, never change an affiliate that exists. */
async function keepExisting(
  client: RefersionClient,
  plan: AffiliatePlan,
  fingerprint: string,
  isCached: boolean,
  pending: Pending
): Promise<UpsertResult> {
  const exists: UpsertResult = { outcome: 'exists', email: plan.email, note: EXISTS_NOTE }
  if (isCached) return Object.assign(exists, { cached: true as const })
  const created = await tryCreate(client, plan)
  if (created) {
    if (created.id !== undefined) pending.entry = { id: created.id, code: created.code, fingerprint }
    return created
  }
  if (plan.create) return exists
  // Without a name the identify cannot create: it succeeds (changing nothing) only for an affiliate that exists.
  const record = await client.findAffiliate(plan.email, (r) => sameEmail(r.email, plan.email))
  if (!record) throw nothingCreatedError(plan)
  return exists
}

function nothingCreatedError(plan: AffiliatePlan): FieldValidationError {
  const cannotCreate = plan.cannotCreate ?? missingNamesError({})
  return new FieldValidationError(
    `${cannotCreate.message} No affiliate has the email ${plan.email} yet, and an identify without a name can only ` +
      'update an existing affiliate, so nothing was created.',
    cannotCreate.fields
  )
}

/** `POST /affiliate/new` when the identify can create; undefined when Refersion answers that the email is taken. */
async function tryCreate(client: RefersionClient, plan: AffiliatePlan): Promise<UpsertResult | undefined> {
  if (!plan.create) return undefined
  try {
    const created = await client.createAffiliate(plan.create)
    return { outcome: 'created', email: plan.email, id: created.numericId, code: created.code, link: created.link }
  } catch (error) {
    if (!isEmailTaken(error)) throw error
    return undefined
  }
}

/** The uncached path: create, else find by exact email and update. */
async function fullUpsert(client: RefersionClient, plan: AffiliatePlan): Promise<UpsertResult> {
  const { email, create, cannotCreate } = plan
  const created = await tryCreate(client, plan)
  if (created) return created
  const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
  if (!record) {
    if (!create && cannotCreate) throw nothingCreatedError(plan)
    // Refersion says the email is taken but search does not show it yet (its index can lag behind).
    throw new RefersionRetryableError(
      `Refersion reports the email ${email} as taken, but its search finds no affiliate with exactly that email yet`,
      503
    )
  }
  return updateFound(client, plan, record)
}

async function updateFound(
  client: RefersionClient,
  plan: AffiliatePlan,
  record: AffiliateRecord
): Promise<UpsertResult> {
  const result: UpsertResult = { outcome: 'unchanged', email: plan.email }
  const searchCode = typeof record.id === 'string' && !/^\d+$/.test(record.id) ? record.id : undefined
  if (searchCode) result.code = searchCode
  const fields = plan.edit
  const keys = Object.keys(fields)
  let id: number | undefined
  if (keys.length > 0 && !recordAlreadyMatches(record, fields)) {
    id = await client.numericIdOf(record)
    await client.editAffiliate(id, fields)
    result.outcome = 'updated'
    result.id = id
    result.edited = keys
  }
  if (plan.coupon) {
    const code = await affiliateCodeOf(client, record, id)
    const trigger = await client.addTrigger(code, 'COUPON', plan.coupon)
    result.code = code
    result.coupon = trigger.outcome
    if (trigger.outcome === 'added') result.outcome = 'updated'
  }
  // A numeric id the search already gave is reported (and remembered) without spending a request on it.
  if (result.id === undefined && typeof record.id === 'number' && numericId(record.id) !== undefined) {
    result.id = record.id
  }
  return result
}

/** How an event names the affiliate to remove. */
export interface AffiliateTarget {
  affiliateId?: string
  email?: string
  userId?: string
}

/**
 * Finds the numeric id of the affiliate an event names: `affiliateId` (numeric as is, a code through
 * `get`), else the search result whose email equals `email` exactly; with only a `userId`, the result whose
 * `unique_merchant_id` equals it (set on create) or whose email equals it. Anything else is "not found".
 */
export async function resolveAffiliateId(client: RefersionClient, target: AffiliateTarget): Promise<number> {
  const affiliateId = text(target.affiliateId)
  const email = text(target.email)
  const userId = text(target.userId)
  if (affiliateId) {
    if (/^\d+$/.test(affiliateId)) return Number(affiliateId)
    return client.numericIdOf({ id: affiliateId, affiliate_code: affiliateId })
  }
  if (email) {
    const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
    if (!record) {
      throw new AffiliateNotFoundError(
        `Refersion affiliate not found: no affiliate has exactly the email ${email} (nothing was changed)`
      )
    }
    return client.numericIdOf(record)
  }
  if (userId) {
    const record = await client.findAffiliate(
      userId,
      (r) => text(r.unique_merchant_id) === userId || sameEmail(r.email, userId)
    )
    if (!record) {
      throw new AffiliateNotFoundError(
        `Refersion affiliate not found: no affiliate has the unique merchant ID or email "${userId}" (nothing was changed)`
      )
    }
    return client.numericIdOf(record)
  }
  throw new FieldValidationError(
    'To remove an affiliate, map "Affiliate ID" (a Refersion ID or code), "Email" (traits.email) or "User ID" (userId).',
    ['affiliateId', 'email', 'userId']
  )
}

export type RemovalStatus = Extract<AffiliateStatus, 'DISABLED' | 'DENIED'>

export function removalStatus(value: unknown): RemovalStatus {
  const status = text(value)?.toUpperCase() ?? 'DISABLED'
  if (status !== 'DISABLED' && status !== 'DENIED') {
    throw new FieldValidationError(`"Status" must be DISABLED or DENIED to remove an affiliate (got "${status}").`, [
      'status'
    ])
  }
  return status
}

/** Drops what the cache holds about a removed affiliate (by email when the event names one, by id once resolved),
 * whether or not the removal then succeeds: a later identify takes the full path. */
export function forgetRemoved(account: string | undefined, target: AffiliateTarget, id?: number): void {
  if (account === undefined) return
  const email = text(target.email)
  if (email !== undefined) {
    affiliateCache.forget(account, email)
    supersedeTurns(account, email)
  }
  if (id !== undefined) affiliateCache.forgetId(account, id)
}

/** Disables (or denies) one affiliate; an id Refersion reports in `ids_not_changed` is a failure. */
export async function removeAffiliate(
  client: RefersionClient,
  target: AffiliateTarget,
  status: RemovalStatus,
  account?: string
) {
  forgetRemoved(account, target)
  const id = await resolveAffiliateId(client, target)
  forgetRemoved(account, target, id)
  const result = await client.changeStatus([id], status)
  if (result.notChanged.includes(id)) throw notChangedError(`change affiliate ${id} to ${status}`)
  return { id, status }
}

/** What a Segment deletion request (`onDelete`) did. */
export type DeletionRequestResult =
  | { outcome: 'disabled'; changed: true; userId: string; id: number; status: 'DISABLED' }
  | { outcome: 'not_found'; changed: false; userId?: string; reason: string }

/**
 * A Segment user-deletion request: disables the affiliate whose `unique_merchant_id` (when Refersion's search
 * returns it) or email equals the userId. A deletion asks that nothing of the user remain, and most users were never
 * affiliates, so "no such affiliate" (or no userId at all) is a success that changed nothing, said so in the result.
 */
export async function removeDeletedUser(
  client: RefersionClient,
  userIdValue: unknown,
  account?: string
): Promise<DeletionRequestResult> {
  const userId = text(userIdValue)
  if (!userId) {
    return { outcome: 'not_found', changed: false, reason: 'The deletion request has no userId: nothing to remove.' }
  }
  try {
    const { id } = await removeAffiliate(client, { userId }, 'DISABLED', account)
    return { outcome: 'disabled', changed: true, userId, id, status: 'DISABLED' }
  } catch (error) {
    if (!(error instanceof AffiliateNotFoundError)) throw error
    return {
      outcome: 'not_found',
      changed: false,
      userId,
      reason:
        `No Refersion affiliate has the email or unique merchant ID "${userId}" (as far as Refersion's search ` +
        'shows): nothing to remove.'
    }
  }
}
