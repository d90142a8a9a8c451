import type { Payload } from '../createAffiliate/generated-types'
import { AffiliateRecord, AffiliateStatus, RefersionClient } from './client'
import { toRefersionCountry } from './countries'
import {
  AffiliateNotFoundError,
  FieldValidationError,
  notChangedError,
  RefersionApiError,
  RefersionRetryableError
} from './errors'
import { sameEmail, text } from './normalise'
import { generatePassword, passwordPolicyViolation } from './password'

/** What the createAffiliate mapping produces: the action's generated Payload (`address` also admits `postal_code`). */
export type AffiliateInput = Payload

/** The snake_case body of `POST /affiliate/new`; empty values are never present. */
export type NewAffiliateBody = Record<string, string>

/** Fields a repeated identify may change on an existing affiliate. Password, status and welcome e-mail are
 * creation-only: re-sending them would reset a login, undo a merchant's approval or e-mail the affiliate again. */
const EDITABLE_FIELDS = [
  'first_name',
  'last_name',
  'company',
  'paypal_email',
  'address1',
  'city',
  'state',
  'zip',
  'country',
  'phone',
  'offer',
  'conversion_trigger_coupon',
  'unique_merchant_id'
] as const

/** Where a search/get record shows the current value of an editable field, when it shows it at all. */
const RECORD_KEYS: Partial<Record<(typeof EDITABLE_FIELDS)[number], string>> = {
  first_name: 'first_name',
  last_name: 'last_name',
  company: 'company_name',
  offer: 'offer_id',
  unique_merchant_id: 'unique_merchant_id'
}

export { sameEmail }

/**
 * First and last name: `firstName`/`lastName` when mapped; whichever is missing comes from `name`
 * (first word → first name, the rest → last name). Whitespace is collapsed, no other character is lost.
 */
export function resolveNames(input: Pick<AffiliateInput, 'firstName' | 'lastName' | 'name'>): {
  first_name: string
  last_name: string
} {
  let first = text(input.firstName)
  let last = text(input.lastName)
  if (!first || !last) {
    const [derivedFirst, ...rest] = (text(input.name) ?? '').split(/\s+/).filter(Boolean)
    first ??= derivedFirst
    last ??= rest.length ? rest.join(' ') : undefined
  }
  if (!first || !last) {
    const missing = !first && !last ? 'a first and last name' : !first ? 'a first name' : 'a last name'
    throw new FieldValidationError(
      `Refersion requires ${missing}: map "First Name" and "Last Name" (traits.firstName/first_name, ` +
        `traits.lastName/last_name), or "Name" (traits.name) with at least two words` +
        (text(input.name) ? ` (the name given has only one word)` : '') +
        '.',
      ['firstName', 'lastName', 'name']
    )
  }
  return { first_name: first, last_name: last }
}

/**
 * Builds the `/affiliate/new` body from a mapped event, validating before anything is sent:
 * names, email, password policy (or a fresh policy-valid password), country code, `"TRUE"`/`"FALSE"`.
 */
export function buildNewAffiliate(input: AffiliateInput): NewAffiliateBody {
  const email = text(input.email)
  if (!email) {
    throw new FieldValidationError('Refersion requires an email: map "Email" (traits.email) to a non-empty address.', [
      'email'
    ])
  }
  const names = resolveNames(input)
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
  const status = text(input.status)?.toUpperCase() ?? 'PENDING'
  if (status !== 'ACTIVE' && status !== 'PENDING') {
    throw new FieldValidationError(`"Status" must be ACTIVE or PENDING for a new affiliate (got "${status}").`, [
      'status'
    ])
  }
  const address = input.address && typeof input.address === 'object' ? input.address : {}
  // Property by property, no object spread: V8 makes a fresh hidden class for `{ ...a, b, c }` on every call,
  // which made this function 25× slower (measured by `npm run bench`'s CPU comparison).
  const body: Record<string, string | undefined> = {
    first_name: names.first_name,
    last_name: names.last_name,
    email,
    password: mapped ?? generatePassword(),
    status,
    offer: text(input.offer),
    company: text(input.company),
    paypal_email: text(input.paypalEmail),
    address1: text(address.street),
    city: text(address.city),
    state: text(address.state),
    zip: text(address.postalCode) ?? text(address.postal_code),
    country: toRefersionCountry(address.country),
    phone: text(input.phone),
    send_welcome: input.sendWelcome === true ? 'TRUE' : 'FALSE',
    conversion_trigger_coupon: text(input.conversionTriggerCoupon),
    unique_merchant_id: text(input.uniqueMerchantId)
  }
  const out: NewAffiliateBody = {}
  for (const [key, value] of Object.entries(body)) if (value !== undefined) out[key] = value
  return out
}

/** The profile fields a repeated identify sends to `/affiliate/edit`. */
export function editableFields(body: NewAffiliateBody): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const key of EDITABLE_FIELDS) if (body[key] !== undefined) fields[key] = body[key]
  return fields
}

/** True when the record visibly holds every value we would send, so an edit would change nothing. */
export function recordAlreadyMatches(record: AffiliateRecord, fields: Record<string, string>): boolean {
  return Object.entries(fields).every(([key, value]) => {
    const recordKey = RECORD_KEYS[key as keyof typeof RECORD_KEYS]
    if (!recordKey || !(recordKey in record)) return false
    return text(record[recordKey]) === value
  })
}

export function isEmailTaken(error: unknown): boolean {
  return (
    error instanceof RefersionApiError &&
    error.refersionStatus === 422 &&
    error.messages.some((m) => /e-?mail/i.test(m) && /taken|already|exists|in use/i.test(m))
  )
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged'

export interface UpsertResult {
  outcome: UpsertOutcome
  email: string
  id?: number
  code?: string
  link?: string
}

/**
 * Creates the affiliate (one request). When Refersion answers that the email is taken — a repeated
 * identify, or a retry of a create whose answer was lost — finds that exact affiliate and updates its
 * profile instead: search (exact, case-insensitive email), get (only when search gives a code), edit.
 */
export async function upsertAffiliate(client: RefersionClient, body: NewAffiliateBody): Promise<UpsertResult> {
  try {
    const created = await client.createAffiliate(body)
    return { outcome: 'created', email: body.email, id: created.numericId, code: created.code, link: created.link }
  } catch (error) {
    if (!isEmailTaken(error)) throw error
  }
  const record = await client.findAffiliate(body.email, (r) => sameEmail(r.email, body.email))
  if (!record) {
    // Refersion says the email is taken but search does not show it yet (its index can lag behind).
    throw new RefersionRetryableError(
      `Refersion reports the email ${body.email} as taken, but its search finds no affiliate with exactly that email yet`,
      503
    )
  }
  const fields = editableFields(body)
  const code = typeof record.id === 'string' && !/^\d+$/.test(record.id) ? record.id : undefined
  if (recordAlreadyMatches(record, fields)) {
    return { outcome: 'unchanged', email: body.email, code }
  }
  const id = await client.numericIdOf(record)
  await client.editAffiliate(id, fields)
  return { outcome: 'updated', email: body.email, id, code }
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

/** Disables (or denies) one affiliate; an id Refersion reports in `ids_not_changed` is a failure. */
export async function removeAffiliate(client: RefersionClient, target: AffiliateTarget, status: RemovalStatus) {
  const id = await resolveAffiliateId(client, target)
  const result = await client.changeStatus([id], status)
  if (result.notChanged.includes(id)) throw notChangedError(`change affiliate ${id} to ${status}`)
  return { id, status }
}
