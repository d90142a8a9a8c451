/**
 * Refersion REST API v2 semantics, framework-free: each handler takes the store and the parsed JSON
 * body and returns a status and a body, following /work/shared/REFERSION-API.md.
 */
import { REFERSION_COUNTRIES } from '../../src/lib/countries'
import { passwordPolicyViolation } from '../../src/lib/password'
import {
  AFFILIATE_STATUSES,
  AffiliatePatch,
  AffiliateStatus,
  EmailTakenError,
  SandboxAffiliate,
  SandboxStore,
  TRIGGER_TYPES,
  TriggerType
} from './store'

export interface ApiResult {
  status: number
  body: unknown
  headers?: Record<string, string>
}

export type ApiBody = Record<string, unknown>
export type ApiHandler = (store: SandboxStore, body: ApiBody) => ApiResult

/** Search results per page (Refersion does not document its page size; 25 here). */
export const SEARCH_PAGE_SIZE = 25
/** Default `limit` of /affiliate/list when the body has none. */
export const LIST_DEFAULT_LIMIT = 10
/** Most ids per /affiliate/status_change and most entries per /affiliate/edit. */
export const MAX_ELEMENTS = 50
export const MAX_ELEMENTS_MESSAGE = `Max number of elements on attribute (${MAX_ELEMENTS}) reached.`
const MAX_FIELD_LENGTH = 255

export const NO_BODY: ApiResult = { status: 404, body: { error: 'Bad request, no body' } }
export const UNAUTHORIZED: ApiResult = { status: 401, body: { error: 'Invalid API credentials (error 2).' } }
export const NOT_FOUND: ApiResult = { status: 404, body: { error: 'Not found' } }

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function unprocessable(...errors: string[]): ApiResult {
  return { status: 422, body: { errors } }
}

function ok(body: unknown): ApiResult {
  return { status: 200, body }
}

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value)
}

function notAllowed(value: unknown, field: string): string {
  return `${typeof value === 'string' ? value : JSON.stringify(value)} is not a allowed value for field ${field}`
}

const INVALID = Symbol('invalid')

/** A text field: strings are trimmed, numbers become strings, null/'' are "absent"; other types are invalid. */
function text(value: unknown): string | undefined | typeof INVALID {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') return INVALID
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** A numeric affiliate id: a positive safe integer, or a string of digits. */
export function parseNumericId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) {
    const n = Number(value)
    return n > 0 ? n : undefined
  }
  return undefined
}

/** A positive integer given as a number or a numeric string (Refersion documents strings). */
function parsePositiveInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined
  if (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)) {
    const n = Number(value)
    return n > 0 ? n : undefined
  }
  return undefined
}

type Reader = (key: string, label: string) => string | undefined

/** Reads text fields, collecting "must be a string" / too-long errors. */
function reader(body: ApiBody, errors: string[]): Reader {
  return (key, label) => {
    const v = text(body[key])
    if (v === INVALID) {
      errors.push(`The ${label} field must be a string.`)
      return undefined
    }
    if (v !== undefined && v.length > MAX_FIELD_LENGTH) {
      errors.push(`The ${label} field may not be greater than ${MAX_FIELD_LENGTH} characters.`)
      return undefined
    }
    return v
  }
}

const OPTIONAL_TEXT: [key: string, label: string, target: keyof SandboxAffiliate][] = [
  ['address1', 'address1', 'address1'],
  ['address2', 'address2', 'address2'],
  ['city', 'city', 'city'],
  ['state', 'state', 'state'],
  ['zip', 'zip', 'zip'],
  ['phone', 'phone', 'phone'],
  ['conversion_trigger_coupon', 'conversion trigger coupon', 'conversion_trigger_coupon'],
  ['unique_merchant_id', 'unique merchant id', 'unique_merchant_id']
]

/** POST /affiliate/new */
export function createAffiliate(store: SandboxStore, body: ApiBody): ApiResult {
  const errors: string[] = []
  const read = reader(body, errors)
  const required = (key: string, label: string): string | undefined => {
    const present = text(body[key]) !== undefined
    const v = read(key, label)
    if (!present) errors.push(`The ${label} field is required.`)
    return v
  }
  const firstName = required('first_name', 'first name')
  const lastName = required('last_name', 'last name')
  const email = required('email', 'email')
  if (email !== undefined && !isValidEmail(email)) errors.push('The email field must contain a valid email address.')

  // The password is not trimmed: spaces are characters like any other.
  const password = body.password
  if (password === undefined || password === null || password === '') {
    errors.push('The password field is required.')
  } else if (typeof password !== 'string') {
    errors.push('The password field must be a string.')
  } else {
    const violation = passwordPolicyViolation(password, email)
    if (violation) errors.push(`The password ${violation}.`)
  }

  const status = required('status', 'status')
  if (status !== undefined && status !== 'ACTIVE' && status !== 'PENDING') errors.push(notAllowed(status, 'status'))

  const fields: Partial<SandboxAffiliate> = {}
  for (const [key, label, target] of OPTIONAL_TEXT) {
    const v = read(key, label)
    if (v !== undefined) (fields as Record<string, unknown>)[target] = v
  }
  const offer = read('offer', 'offer')
  const company = read('company', 'company')
  const paypal = read('paypal_email', 'paypal email')
  if (paypal !== undefined && !isValidEmail(paypal)) {
    errors.push('The paypal email field must contain a valid email address.')
  }
  const country = body.country === undefined || body.country === null || body.country === '' ? undefined : body.country
  if (country !== undefined && (typeof country !== 'string' || !REFERSION_COUNTRIES.has(country))) {
    errors.push(notAllowed(country, 'country'))
  }
  const sendWelcome = body.send_welcome
  if (sendWelcome !== undefined && sendWelcome !== null && sendWelcome !== 'TRUE' && sendWelcome !== 'FALSE') {
    errors.push(notAllowed(sendWelcome, 'send_welcome'))
  }

  if (email !== undefined && isValidEmail(email) && store.emailTaken(email)) {
    errors.push('The email you have entered is taken by another Affiliate.')
  }
  if (errors.length > 0 || !firstName || !lastName || !email || !status) return unprocessable(...errors)

  try {
    const affiliate = store.create({
      ...fields,
      first_name: firstName,
      last_name: lastName,
      email,
      status: status as AffiliateStatus,
      offer_id: offer,
      company_name: company,
      paypal_email: paypal,
      country: country as string | undefined,
      send_welcome: sendWelcome === 'TRUE' ? true : sendWelcome === 'FALSE' ? false : undefined
    })
    return ok({
      id: affiliate.code,
      link: affiliate.link,
      message: `The affiliate ${affiliate.id} has been created with the status of ${affiliate.status}.`
    })
  } catch (err) {
    if (err instanceof EmailTakenError) return unprocessable(err.message)
    throw err
  }
}

/** Validates one /affiliate/edit entry (without its id); returns the patch or undefined when invalid. */
function editPatch(store: SandboxStore, id: number, entry: ApiBody): AffiliatePatch | undefined {
  const errors: string[] = []
  const read = reader(entry, errors)
  const patch: AffiliatePatch = {}
  let fields = 0
  const has = (key: string): boolean => entry[key] !== undefined && entry[key] !== null

  for (const [key, label] of [
    ['first_name', 'first name'],
    ['last_name', 'last name'],
    ['email', 'email']
  ] as const) {
    if (!has(key)) continue
    fields++
    const v = read(key, label)
    if (v === undefined) return undefined // present but empty or invalid: these cannot be cleared
    patch[key] = v
  }
  if (patch.email !== undefined && (!isValidEmail(patch.email) || store.emailTaken(patch.email, id))) return undefined

  for (const [key, label, target] of OPTIONAL_TEXT) {
    if (!(key in entry)) continue
    fields++
    ;(patch as Record<string, unknown>)[target] = read(key, label)
  }
  for (const key of ['company', 'company_name'] as const) {
    if (!(key in entry)) continue
    fields++
    patch.company_name = read(key, 'company')
  }
  if ('paypal_email' in entry) {
    fields++
    patch.paypal_email = read('paypal_email', 'paypal email')
    if (patch.paypal_email !== undefined && !isValidEmail(patch.paypal_email)) return undefined
  }
  if ('country' in entry) {
    fields++
    const country = entry.country
    if (country === null || country === '') patch.country = undefined
    else if (typeof country === 'string' && REFERSION_COUNTRIES.has(country)) patch.country = country
    else return undefined
  }
  if (has('offer')) {
    fields++
    const offer = read('offer', 'offer')
    if (offer === undefined) return undefined
    patch.offer_id = offer
  }
  if (has('status')) {
    fields++
    if (!AFFILIATE_STATUSES.includes(entry.status as AffiliateStatus)) return undefined
    patch.status = entry.status as AffiliateStatus
  }
  if (errors.length > 0 || fields === 0) return undefined
  return patch
}

/** POST /affiliate/edit */
export function editAffiliates(store: SandboxStore, body: ApiBody): ApiResult {
  const list = body.affiliates
  if (list === undefined || list === null) return unprocessable('The affiliates field is required.')
  if (!Array.isArray(list)) return unprocessable('The affiliates field must be an array.')
  if (list.length === 0) return unprocessable('The affiliates field is required.')
  if (list.length > MAX_ELEMENTS) return unprocessable(MAX_ELEMENTS_MESSAGE)
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || entry.id === undefined) {
      return unprocessable('Each element of the affiliates field must be an object with an id.')
    }
  }
  const changed: unknown[] = []
  const notChanged: unknown[] = []
  for (const entry of list as ApiBody[]) {
    const { id: rawId, ...rest } = entry
    const id = parseNumericId(rawId)
    const patch = id !== undefined && store.getById(id) ? editPatch(store, id, rest) : undefined
    if (id === undefined || patch === undefined) {
      pushUnique(notChanged, id ?? rawId)
      continue
    }
    try {
      store.update(id, patch)
      pushUnique(changed, id)
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err
      pushUnique(notChanged, id)
    }
  }
  return ok({ ids_changed: changed, ids_not_changed: notChanged })
}

function pushUnique(list: unknown[], value: unknown): void {
  if (!list.includes(value)) list.push(value)
}

/** The affiliate as /affiliate/get answers it. */
export function affiliateView(a: Readonly<SandboxAffiliate>): Record<string, unknown> {
  return {
    id: a.id,
    affiliate_code: a.code,
    offer_id: a.offer_id,
    status: a.status,
    first_name: a.first_name,
    last_name: a.last_name,
    company_name: a.company_name ?? null,
    email: a.email,
    link: a.link,
    unique_merchant_id: a.unique_merchant_id ?? null,
    custom_fields: []
  }
}

/** An affiliate as a search or list result: `id` is the CODE, as in Refersion. */
export function resultView(a: Readonly<SandboxAffiliate>): Record<string, unknown> {
  return {
    id: a.code,
    offer_id: a.offer_id,
    status: a.status,
    first_name: a.first_name,
    last_name: a.last_name,
    email: a.email,
    unique_merchant_id: a.unique_merchant_id ?? null,
    custom_fields: []
  }
}

/** POST /affiliate/get */
export function getAffiliate(store: SandboxStore, body: ApiBody): ApiResult {
  const hasId = body.id !== undefined && body.id !== null && body.id !== ''
  const code = text(body.affiliate_code)
  if (!hasId && (code === undefined || code === INVALID)) {
    return unprocessable('The id or affiliate_code field is required.')
  }
  let affiliate: Readonly<SandboxAffiliate> | undefined
  if (hasId) {
    const id = parseNumericId(body.id)
    affiliate = id === undefined ? undefined : store.getById(id)
  } else if (typeof code === 'string') {
    affiliate = store.getByCode(code)
  }
  return affiliate ? ok(affiliateView(affiliate)) : unprocessable('Affiliate not found.')
}

function pageOf(value: unknown): number | undefined | typeof INVALID {
  if (value === undefined || value === null || value === '') return undefined
  return parsePositiveInt(value) ?? INVALID
}

/** POST /affiliate/search */
export function searchAffiliates(store: SandboxStore, body: ApiBody): ApiResult {
  const keyword = text(body.keyword)
  if (keyword === INVALID) return unprocessable('The keyword field must be a string.')
  if (keyword === undefined) return unprocessable('The keyword field is required.')
  const page = pageOf(body.page)
  if (page === INVALID) return unprocessable('The page field must be a positive integer.')
  const first = text(body.first_name)
  const last = text(body.last_name)
  const matches = store.search(keyword, {
    first_name: typeof first === 'string' ? first : undefined,
    last_name: typeof last === 'string' ? last : undefined
  })
  if (matches.length === 0) return unprocessable('Could not find affiliates with this keyword.')
  const start = ((page ?? 1) - 1) * SEARCH_PAGE_SIZE
  return ok({ total: matches.length, results: matches.slice(start, start + SEARCH_PAGE_SIZE).map(resultView) })
}

/** POST /affiliate/list */
export function listAffiliates(store: SandboxStore, body: ApiBody): ApiResult {
  let limit = LIST_DEFAULT_LIMIT
  if (body.limit !== undefined && body.limit !== null && body.limit !== '') {
    const n = parsePositiveInt(body.limit)
    if (n === undefined || n > 100) return unprocessable('The limit field must be a number between 1 and 100.')
    limit = n
  }
  const page = pageOf(body.page)
  if (page === INVALID) return unprocessable('The page field must be a positive integer.')
  return ok({ total: store.size, results: store.page(limit, page ?? 1).map(resultView) })
}

/** POST /affiliate/status_change */
export function changeStatus(store: SandboxStore, body: ApiBody): ApiResult {
  const ids = body.ids
  if (ids === undefined || ids === null || (Array.isArray(ids) && ids.length === 0)) {
    return unprocessable('The ids field is required.')
  }
  if (!Array.isArray(ids)) return unprocessable('The ids field must be an array.')
  // Refersion answers this size error with a 429 although retrying can never fix it; no Retry-After.
  if (ids.length > MAX_ELEMENTS) return { status: 429, body: { error: MAX_ELEMENTS_MESSAGE } }
  const status = body.status
  if (status === undefined || status === null || status === '') return unprocessable('The status field is required.')
  if (status !== 'ACTIVE' && status !== 'DENIED' && status !== 'DISABLED') {
    return unprocessable(notAllowed(status, 'status'))
  }
  const changed: unknown[] = []
  const notChanged: unknown[] = []
  for (const raw of ids) {
    const id = parseNumericId(raw)
    if (id !== undefined && store.setStatus(id, status)) pushUnique(changed, id)
    else pushUnique(notChanged, id ?? raw)
  }
  return ok({ ids_changed: changed, ids_not_changed: notChanged })
}

/** POST /affiliate/trigger */
export function addTrigger(store: SandboxStore, body: ApiBody): ApiResult {
  const errors: string[] = []
  const read = reader(body, errors)
  const code = read('affiliate_code', 'affiliate code')
  const type = read('type', 'type')
  const trigger = read('trigger', 'trigger')
  if (code === undefined && text(body.affiliate_code) === undefined)
    errors.push('The affiliate code field is required.')
  if (type === undefined && text(body.type) === undefined) errors.push('The type field is required.')
  if (type !== undefined && !TRIGGER_TYPES.includes(type as TriggerType)) errors.push(notAllowed(type, 'type'))
  if (trigger === undefined && text(body.trigger) === undefined) errors.push('The trigger field is required.')
  if (errors.length > 0 || !code || !type || !trigger) return unprocessable(...errors)
  const result = store.addTrigger(code, type as TriggerType, trigger)
  if (result === 'not_found') return unprocessable('Affiliate not found.')
  if (result === 'duplicate') return unprocessable('Conversion trigger already exists.')
  return ok({
    trigger_id: result.trigger_id,
    affiliate_code: result.affiliate_code,
    type: result.type,
    trigger: result.trigger
  })
}

/** The API routes, relative to `/v2`. */
export const API_ROUTES: Readonly<Record<string, ApiHandler>> = {
  '/affiliate/new': createAffiliate,
  '/affiliate/edit': editAffiliates,
  '/affiliate/get': getAffiliate,
  '/affiliate/search': searchAffiliates,
  '/affiliate/list': listAffiliates,
  '/affiliate/status_change': changeStatus,
  '/affiliate/trigger': addTrigger
}

/**
 * Turns a raw request body into the JSON object the handlers take; undefined means "no body"
 * (absent, empty, not JSON, not an object, or an empty object — Refersion's 404 "Bad request, no body").
 */
export function parseBody(raw: unknown): ApiBody | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  return Object.keys(parsed).length === 0 ? undefined : (parsed as ApiBody)
}
