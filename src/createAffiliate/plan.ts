import { FieldValidationError } from '../lib/errors'
import type { AffiliateRecord } from '../lib/client'
import { text } from '../lib/normalise'
import { toRefersionCountry } from './countries'
import { generatePassword, passwordPolicyViolation } from './password'
import type { Payload } from './generated-types'

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

export function missingNamesError(input: Pick<AffiliateInput, 'name'>, first?: string, last?: string) {
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
