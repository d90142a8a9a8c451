/**
 * Refersion's operations, framework-free: `answer` takes an operation, the sandbox state and the parsed
 * body and returns a status and a body.
 *
 * Every body first meets the published contract (`contract.ts`): an undocumented field or a wrong type is
 * answered 204 with no body and changes nothing (Refersion documents 204 as "there is an invalid field in the
 * request"); a missing required field is a 400 `{"error":"Missing required field <name>"}`. Only then do the
 * handlers apply Refersion's rules about values (422 `{"errors":[…]}`) and change state.
 */
import { checkRequest, TRACKING_PATH } from './contract'
import { CREDIT_STATUSES } from './conversions'
import type { ConversionLedger, CreditStatus, TrackedOrder } from './conversions'
import { ACCEPTED_COUNTRIES, isValidEmail, passwordProblem } from './rules'
import {
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
  /** undefined: no body at all (the 204). */
  body: unknown
  headers?: Record<string, string>
  /** Set when the contract check refused the body: why. */
  rejection?: string
}

export type ApiBody = Record<string, unknown>

/** What the handlers work on. */
export interface ApiContext {
  store: SandboxStore
  ledger: ConversionLedger
  /** Search also matches (and returns) `unique_merchant_id`: the undocumented reading, off by default. */
  searchMerchantId: boolean
  /**
   * How many manual credit attempts per order id are answered "This order ID is being process (error 5)."
   * before one is processed (default 0: none). Models a credit still in flight.
   */
  orderProcessingAttempts: number
}

export type ApiHandler = (ctx: ApiContext, body: ApiBody) => ApiResult

/** Search results per page (Refersion does not document its page size; 25 here). */
export const SEARCH_PAGE_SIZE = 25
/** Default `limit` of /affiliate/list when the body has none. */
export const LIST_DEFAULT_LIMIT = 10
/** Most ids per /affiliate/status_change and most entries per /affiliate/edit and /trigger/delete. */
export const MAX_ELEMENTS = 50
export const MAX_ELEMENTS_MESSAGE = `Max number of elements on attribute (${MAX_ELEMENTS}) reached.`
const MAX_FIELD_LENGTH = 255

export const NO_BODY: ApiResult = { status: 404, body: { error: 'Bad request, no body' } }
export const UNAUTHORIZED: ApiResult = { status: 401, body: { error: 'Invalid API credentials (error 2).' } }
export const NOT_FOUND: ApiResult = { status: 404, body: { error: 'Not found' } }
/**
 * Refersion's text when `/conversion/cancel` names an order no conversion has; the sandbox also answers it when
 * `/conversion/manual_credit_order_id` names an order it never saw tracked (Refersion documents no text for that).
 */
export const INVALID_ORDER_MESSAGE = 'Invalid order ID (error 5)'
export const TRIGGER_EXISTS_MESSAGE = 'Conversion trigger already exists for this or another affiliate.'
export const AFFILIATE_NOT_FOUND_MESSAGE = 'Affiliate not found.'
/** Refersion's text when a manual credit names an affiliate id it does not have. */
export const INVALID_AFFILIATE_MESSAGE = 'Invalid affiliate ID (error 2).'
export const ORDER_BEING_PROCESSED_MESSAGE = 'This order ID is being process (error 5).'
export const ALREADY_CREDITED_MESSAGE =
  'The affiliate you provided has already been manually credited for this order ID. (Error 6)'
export const REPROCESSING_MESSAGE = 'Order(s) are re-processing. Changes may take a couple of minutes to appear.'
/** The account's currency, which `/conversion/manual_credit` uses when the request names none. */
export const ACCOUNT_CURRENCY = 'USD'
/** The status `/conversion/manual_credit_order_id` documents as its default. */
const DEFAULT_CREDIT_STATUS: CreditStatus = 'APPROVED'

function unprocessable(...errors: string[]): ApiResult {
  return { status: 422, body: { errors } }
}

function ok(body: unknown): ApiResult {
  return { status: 200, body }
}

function notAllowed(value: unknown, field: string): string {
  return `${typeof value === 'string' ? value : JSON.stringify(value)} is not a allowed value for field ${field}`
}

/** A trimmed string, or undefined for an absent or blank one (bodies are schema-checked: strings are strings). */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** A count written as a string of digits (`limit`, `page`), as Refersion documents them. */
function countOf(value: unknown): number | undefined {
  return typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) && Number(value) > 0 ? Number(value) : undefined
}

/** Length errors for the text fields present, in field order. */
function tooLong(body: ApiBody, labels: Record<string, string>): string[] {
  const errors: string[] = []
  for (const [key, label] of Object.entries(labels)) {
    const value = body[key]
    if (typeof value === 'string' && value.trim().length > MAX_FIELD_LENGTH) {
      errors.push(`The ${label} field may not be greater than ${MAX_FIELD_LENGTH} characters.`)
    }
  }
  return errors
}

const PROFILE_LABELS: Record<string, string> = {
  first_name: 'first name',
  last_name: 'last name',
  email: 'email',
  paypal_email: 'paypal email',
  company: 'company',
  address1: 'address1',
  address2: 'address2',
  city: 'city',
  state: 'state',
  zip: 'zip',
  phone: 'phone'
}

/** Optional profile fields stored under the same name. */
const PLAIN_FIELDS = ['address1', 'address2', 'city', 'state', 'zip', 'phone'] as const

/** POST /affiliate/new */
export function createAffiliate({ store }: ApiContext, body: ApiBody): ApiResult {
  const errors = tooLong(body, {
    ...PROFILE_LABELS,
    offer: 'offer',
    conversion_trigger_coupon: 'conversion trigger coupon',
    unique_merchant_id: 'unique merchant id'
  })
  const email = text(body.email) as string
  if (!isValidEmail(email)) errors.push('The email field must contain a valid email address.')
  const problem = passwordProblem(body.password as string, email)
  if (problem) errors.push(`The password ${problem}.`)
  if (body.status !== 'ACTIVE' && body.status !== 'PENDING') errors.push(notAllowed(body.status, 'status'))
  const paypal = text(body.paypal_email)
  if (paypal !== undefined && !isValidEmail(paypal)) {
    errors.push('The paypal email field must contain a valid email address.')
  }
  const country = text(body.country)
  if (country !== undefined && !ACCEPTED_COUNTRIES.has(country)) errors.push(notAllowed(body.country, 'country'))
  const sendWelcome = body.send_welcome
  if (sendWelcome !== undefined && sendWelcome !== 'TRUE' && sendWelcome !== 'FALSE') {
    errors.push(notAllowed(sendWelcome, 'send_welcome'))
  }
  if (isValidEmail(email) && store.emailTaken(email)) {
    errors.push('The email you have entered is taken by another Affiliate.')
  }
  if (errors.length > 0) return unprocessable(...errors)

  const fields: Partial<SandboxAffiliate> = {}
  for (const key of PLAIN_FIELDS) if (text(body[key]) !== undefined) fields[key] = text(body[key])
  try {
    const affiliate = store.create({
      ...fields,
      first_name: text(body.first_name) as string,
      last_name: text(body.last_name) as string,
      email,
      status: body.status as AffiliateStatus,
      offer_id: text(body.offer),
      company_name: text(body.company),
      paypal_email: paypal,
      country,
      send_welcome: sendWelcome === undefined ? undefined : sendWelcome === 'TRUE',
      conversion_trigger_coupon: text(body.conversion_trigger_coupon),
      unique_merchant_id: text(body.unique_merchant_id)
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

/** One /affiliate/edit entry (without its id) as a patch, or undefined when a value is not acceptable. */
function editPatch(store: SandboxStore, id: number, entry: ApiBody): AffiliatePatch | undefined {
  if (Object.keys(entry).length === 0) return undefined // nothing to change
  if (tooLong(entry, PROFILE_LABELS).length > 0) return undefined
  const patch: AffiliatePatch = {}
  for (const key of ['first_name', 'last_name', 'email'] as const) {
    if (entry[key] === undefined) continue
    const value = text(entry[key])
    if (value === undefined) return undefined // these cannot be cleared
    patch[key] = value
  }
  if (patch.email !== undefined && (!isValidEmail(patch.email) || store.emailTaken(patch.email, id))) return undefined
  for (const key of PLAIN_FIELDS) if (key in entry) patch[key] = text(entry[key])
  if ('company' in entry) patch.company_name = text(entry.company)
  if ('paypal_email' in entry) {
    patch.paypal_email = text(entry.paypal_email)
    if (patch.paypal_email !== undefined && !isValidEmail(patch.paypal_email)) return undefined
  }
  if ('country' in entry) {
    patch.country = text(entry.country)
    if (patch.country !== undefined && !ACCEPTED_COUNTRIES.has(patch.country)) return undefined
  }
  if (entry.offer !== undefined) {
    const offer = entry.offer as number
    if (!Number.isSafeInteger(offer) || offer < 1) return undefined
    patch.offer_id = String(offer)
  }
  // custom_fields are accepted; the sandbox has no signup form to store them against.
  return patch
}

/** POST /affiliate/edit */
export function editAffiliates({ store }: ApiContext, body: ApiBody): ApiResult {
  const list = body.affiliates as ApiBody[]
  if (list.length === 0) return unprocessable('The affiliates field must list at least one affiliate.')
  if (list.length > MAX_ELEMENTS) return unprocessable(MAX_ELEMENTS_MESSAGE)
  const changed: number[] = []
  const notChanged: number[] = []
  for (const { id, ...rest } of list) {
    const numericId = id as number
    const patch = store.getById(numericId) ? editPatch(store, numericId, rest) : undefined
    if (patch === undefined) {
      pushUnique(notChanged, numericId)
      continue
    }
    try {
      store.update(numericId, patch)
      pushUnique(changed, numericId)
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err
      pushUnique(notChanged, numericId)
    }
  }
  return ok({ ids_changed: changed, ids_not_changed: notChanged })
}

function pushUnique<T>(list: T[], value: T): void {
  if (!list.includes(value)) list.push(value)
}

/** The affiliate as /affiliate/get answers it: exactly the documented fields, absent text as "". */
export function affiliateView(a: Readonly<SandboxAffiliate>): Record<string, unknown> {
  return {
    id: a.id,
    offer_id: a.offer_id,
    status: a.status,
    first_name: a.first_name,
    last_name: a.last_name,
    company_name: a.company_name ?? '',
    email: a.email,
    link: a.link,
    custom_fields: []
  }
}

/** An affiliate as a search or list result: the documented fields, `id` being the CODE, as in Refersion. */
export function resultView(a: Readonly<SandboxAffiliate>): Record<string, unknown> {
  return {
    id: a.code,
    offer_id: a.offer_id,
    status: a.status,
    first_name: a.first_name,
    last_name: a.last_name,
    email: a.email,
    custom_fields: []
  }
}

/** POST /affiliate/get */
export function getAffiliate({ store }: ApiContext, body: ApiBody): ApiResult {
  let affiliate: Readonly<SandboxAffiliate> | undefined
  if (body.id !== undefined) {
    const raw = String(body.id).trim()
    affiliate = /^\d{1,15}$/.test(raw) ? store.getById(Number(raw)) : undefined
  } else {
    affiliate = store.getByCode(text(body.affiliate_code) as string)
  }
  return affiliate ? ok(affiliateView(affiliate)) : unprocessable(AFFILIATE_NOT_FOUND_MESSAGE)
}

/** POST /affiliate/search */
export function searchAffiliates({ store, searchMerchantId }: ApiContext, body: ApiBody): ApiResult {
  const keyword = text(body.keyword) as string
  if (keyword.length > MAX_FIELD_LENGTH)
    return unprocessable('The keyword field may not be greater than 255 characters.')
  const page = body.page === undefined ? 1 : countOf(body.page)
  if (page === undefined) return unprocessable(notAllowed(body.page, 'page'))
  const matches = store.search(
    keyword,
    { first_name: text(body.first_name), last_name: text(body.last_name) },
    { matchMerchantId: searchMerchantId }
  )
  if (matches.length === 0) return unprocessable('Could not find affiliates with this keyword.')
  const start = (page - 1) * SEARCH_PAGE_SIZE
  const view = searchMerchantId
    ? (a: Readonly<SandboxAffiliate>) => ({ ...resultView(a), unique_merchant_id: a.unique_merchant_id ?? '' })
    : resultView
  return ok({ total: matches.length, results: matches.slice(start, start + SEARCH_PAGE_SIZE).map(view) })
}

/** POST /affiliate/list */
export function listAffiliates({ store }: ApiContext, body: ApiBody): ApiResult {
  const limit = body.limit === undefined ? LIST_DEFAULT_LIMIT : countOf(body.limit)
  if (limit === undefined || limit > 100) return unprocessable('The limit field must be a number between 1 and 100.')
  const page = body.page === undefined ? 1 : countOf(body.page)
  if (page === undefined) return unprocessable(notAllowed(body.page, 'page'))
  return ok({ total: store.size, results: store.page(limit, page).map(resultView) })
}

/** POST /affiliate/status_change */
export function changeStatus({ store }: ApiContext, body: ApiBody): ApiResult {
  const ids = body.ids as number[]
  if (ids.length === 0) return unprocessable('The ids field must list at least one id.')
  // Refersion answers this size error with a 429 although retrying can never fix it; no Retry-After.
  if (ids.length > MAX_ELEMENTS) return { status: 429, body: { error: MAX_ELEMENTS_MESSAGE } }
  const status = body.status
  if (status !== 'ACTIVE' && status !== 'DENIED' && status !== 'DISABLED') {
    return unprocessable(notAllowed(status, 'status'))
  }
  const changed: number[] = []
  const notChanged: number[] = []
  for (const id of ids) {
    if (store.setStatus(id, status)) pushUnique(changed, id)
    else pushUnique(notChanged, id)
  }
  return ok({ ids_changed: changed, ids_not_changed: notChanged })
}

function isTriggerType(value: unknown): value is TriggerType {
  return TRIGGER_TYPES.includes(value as TriggerType)
}

/** POST /affiliate/trigger */
export function addTrigger({ store }: ApiContext, body: ApiBody): ApiResult {
  const errors = tooLong(body, { affiliate_code: 'affiliate code', trigger: 'trigger' })
  if (!isTriggerType(body.type)) errors.push(notAllowed(body.type, 'type'))
  if (errors.length > 0) return unprocessable(...errors)
  const result = store.addTrigger(
    text(body.affiliate_code) as string,
    body.type as TriggerType,
    text(body.trigger) as string
  )
  if (result === 'not_found') return unprocessable(AFFILIATE_NOT_FOUND_MESSAGE)
  if (result === 'duplicate') return unprocessable(TRIGGER_EXISTS_MESSAGE)
  return ok({ trigger_id: result.trigger_id, trigger: result.trigger })
}

/** POST /trigger/delete: all or nothing; answers the deleted triggers' ids. */
export function deleteTriggers({ store }: ApiContext, body: ApiBody): ApiResult {
  const list = body.affiliates as { id: number; trigger: string; type: string }[]
  if (list.length === 0) return unprocessable('The affiliates field must list at least one trigger.')
  if (list.length > MAX_ELEMENTS) return { status: 429, body: { error: MAX_ELEMENTS_MESSAGE } }
  const badTypes = list.filter((entry) => !isTriggerType(entry.type)).map((entry) => notAllowed(entry.type, 'type'))
  if (badTypes.length > 0) return unprocessable(...badTypes)
  const unknownAffiliates = list.filter((entry) => !store.getById(entry.id)).map((entry) => entry.id)
  if (unknownAffiliates.length > 0) {
    return unprocessable(`These affiliates are not on record: ${unknownAffiliates.join(', ')}.`)
  }
  const unknownTriggers = list
    .filter((entry) => store.findTrigger(entry.type as TriggerType, entry.trigger)?.affiliate_id !== entry.id)
    .map((entry) => entry.trigger)
  if (unknownTriggers.length > 0) {
    return unprocessable(`These conversion triggers are not on record: ${unknownTriggers.join(', ')}.`)
  }
  const deleted: number[] = []
  for (const entry of list) {
    const removed = store.deleteTrigger(entry.id, entry.type as TriggerType, entry.trigger)
    if (removed) deleted.push(removed.trigger_id)
  }
  return ok(deleted)
}

/** POST /conversion/cancel */
export function cancelConversion({ ledger }: ApiContext, body: ApiBody): ApiResult {
  const items = body.items as { sku: string; price?: number; quantity?: number }[]
  if (items.length === 0) return unprocessable('The items field must list at least one item.')
  const errors: string[] = []
  for (const item of items) {
    if (item.price !== undefined && item.price < 0) errors.push(notAllowed(item.price, 'price'))
    if (item.quantity !== undefined && item.quantity < 1) errors.push(notAllowed(item.quantity, 'quantity'))
  }
  if (errors.length > 0) return unprocessable(...errors)
  const order = ledger.cancel((body.order_id as string).trim(), items)
  return order ? ok({ conversion_id: order.conversion_id }) : unprocessable(INVALID_ORDER_MESSAGE)
}

function isCreditStatus(value: unknown): value is CreditStatus {
  return CREDIT_STATUSES.includes(value as CreditStatus)
}

/**
 * POST /conversion/manual_credit: a new conversion of type MANUAL_CREDIT_BY_CLIENT on every call, twice when
 * called twice (Refersion has no idempotency key here). Any number is a commission: negative is a clawback,
 * and 0 is accepted because the reference does not forbid it (refusing it is the client's choice). The
 * documented 3-character limit of `currency` and "not a valid currency" are one rule here: three letters,
 * any case, stored upper case; a blank or absent currency is the account's.
 */
export function creditCommission({ store, ledger }: ApiContext, body: ApiBody): ApiResult {
  const errors: string[] = []
  if (!isCreditStatus(body.status)) errors.push(notAllowed(body.status, 'status'))
  const currency = text(body.currency) ?? ACCOUNT_CURRENCY
  if (!/^[A-Za-z]{3}$/.test(currency)) errors.push(`${body.currency as string} is not a valid currency`)
  const affiliate = store.getById(body.id as number)
  if (!affiliate) errors.push(INVALID_AFFILIATE_MESSAGE)
  if (errors.length > 0 || !affiliate) return unprocessable(...errors)
  const credit = ledger.addManualCredit(affiliate, {
    commission: body.commission as number,
    status: body.status as CreditStatus,
    currency: currency.toUpperCase(),
    notes: text(body.notes)
  })
  return ok({ conversion_id: credit.conversion_id })
}

/**
 * POST /conversion/manual_credit_order_id: credits an order the tracking webhook received to the affiliate.
 * An order id never tracked is Refersion's "Invalid order ID (error 5)", as for /conversion/cancel (an order
 * tracked but credited to no one can be credited: that is what this operation is for). The first credit of an
 * order for an affiliate moves the order to it, with a warning naming the other affiliate that held it; a
 * repeat for the same affiliate and order is Error 6 and changes nothing. With `orderProcessingAttempts` set,
 * that many attempts per order are first answered "being process (error 5)" and change nothing.
 */
export function creditOrder({ store, ledger, orderProcessingAttempts }: ApiContext, body: ApiBody): ApiResult {
  const status = body.status ?? DEFAULT_CREDIT_STATUS
  const errors: string[] = []
  if (!isCreditStatus(status)) errors.push(notAllowed(status, 'status'))
  const affiliate = store.getById(body.id as number)
  if (!affiliate) errors.push(INVALID_AFFILIATE_MESSAGE)
  if (errors.length > 0 || !affiliate) return unprocessable(...errors)
  const orderId = (body.order_id as string).trim()
  const attempt = ledger.countCreditAttempt(orderId)
  if (attempt === undefined) return unprocessable(INVALID_ORDER_MESSAGE)
  if (attempt <= orderProcessingAttempts) return unprocessable(ORDER_BEING_PROCESSED_MESSAGE)
  const result = ledger.creditOrder(orderId, affiliate, { status: status as CreditStatus, notes: text(body.notes) })
  if (result === 'already_credited') return unprocessable(ALREADY_CREDITED_MESSAGE)
  const answer = { message: REPROCESSING_MESSAGE }
  if (result.replaced === null) return ok(answer)
  return ok({ ...answer, warning: `Order ID is already credited to affiliate ${result.replaced}` })
}

/**
 * POST /tracker/orders/paid (the webhook, at the host's root). Refersion documents no answer for it; the
 * sandbox says 200 `{"status":"received","order_id":…}` for a new order and for a redelivered one alike.
 */
export function trackOrder({ ledger }: ApiContext, body: ApiBody): ApiResult {
  const { order } = ledger.record(body as unknown as TrackedOrder)
  return ok({ status: 'received', order_id: order.order_id })
}

/** The REST operations, relative to `/v2`. */
export const API_ROUTES: Readonly<Record<string, ApiHandler>> = {
  '/affiliate/new': createAffiliate,
  '/affiliate/edit': editAffiliates,
  '/affiliate/get': getAffiliate,
  '/affiliate/search': searchAffiliates,
  '/affiliate/list': listAffiliates,
  '/affiliate/status_change': changeStatus,
  '/affiliate/trigger': addTrigger,
  '/trigger/delete': deleteTriggers,
  '/conversion/cancel': cancelConversion,
  '/conversion/manual_credit': creditCommission,
  '/conversion/manual_credit_order_id': creditOrder
}

/**
 * Answers one REST operation: contract first (204 with no body for an invalid field, 400 for a missing
 * one), then the handler.
 */
export function answerApi(operation: string, handler: ApiHandler, ctx: ApiContext, body: ApiBody): ApiResult {
  const check = checkRequest(operation, body)
  if (!check.ok) {
    if (check.kind === 'missing_field') {
      return { status: 400, body: { error: `Missing required field ${check.field}` }, rejection: check.reason }
    }
    return { status: 204, body: undefined, rejection: check.reason }
  }
  return handler(ctx, body)
}

/**
 * Answers the tracking webhook. Its errors are undocumented, so the sandbox picks plain ones: any contract
 * problem is a 400 `{"error":"Invalid field <name>"}` or `{"error":"Missing required field <name>"}`.
 */
export function answerTracking(ctx: ApiContext, body: ApiBody): ApiResult {
  const check = checkRequest(TRACKING_PATH, body)
  if (!check.ok) {
    const error =
      check.kind === 'missing_field' ? `Missing required field ${check.field}` : `Invalid field ${check.field}`
    return { status: 400, body: { error }, rejection: check.reason }
  }
  return trackOrder(ctx, body)
}

/** Parses a raw body as JSON; the raw text when it is not JSON, undefined when there is none. */
export function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  try {
    return JSON.parse(raw) as unknown
  } catch {
    return raw
  }
}

/**
 * The JSON object a handler takes; undefined means "no body" (absent, empty, not JSON, not an object, or an
 * empty object — Refersion's 404 "Bad request, no body").
 */
export function parseBody(raw: unknown): ApiBody | undefined {
  const parsed = parseJson(raw)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  return Object.keys(parsed).length === 0 ? undefined : (parsed as ApiBody)
}
