/**
 * The request bodies Refersion publishes for each operation the sandbox serves, as the project's own JSON
 * schemas: operation paths, field names, JSON types and required fields, taken from Refersion's OpenAPI
 * reference (REST v2) and from its developer notes on the order-tracking webhook (which the OpenAPI does not
 * cover). Only names and types live here; the rules about values (allowed statuses, countries, the password
 * policy, lengths) are checked by the handlers after a body has passed its schema.
 *
 * Strict on purpose, like the contract: no type coercion (a number where a string is documented is wrong,
 * and the other way round), no `null` for an absent value, and no field the operation does not document.
 */
import Ajv from 'ajv'
import type { ErrorObject, SchemaObject, ValidateFunction } from 'ajv'

const text = { type: 'string' } as const
const integer = { type: 'integer' } as const
const number = { type: 'number' } as const
const boolean = { type: 'boolean' } as const

function object(properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject {
  return { type: 'object', properties, required, additionalProperties: false }
}

function list(items: SchemaObject): SchemaObject {
  return { type: 'array', items }
}

const AFFILIATE_PROFILE = {
  first_name: text,
  last_name: text,
  email: text,
  paypal_email: text,
  company: text,
  address1: text,
  address2: text,
  city: text,
  state: text,
  zip: text,
  country: text,
  phone: text
}

/** Custom signup-form answers: a list of objects mapping a field id to its text. */
const CUSTOM_FIELDS = list({ type: 'object', additionalProperties: text })

/** The tracking webhook's path (served at the host's root, not under `/v2`). */
export const TRACKING_PATH = '/tracker/orders/paid'

/**
 * One schema per operation, keyed by its path (REST paths relative to `/v2`). Notes on choices the published
 * facts leave open:
 * - `/affiliate/edit` lists no required top-level field, but a body without `affiliates` is either empty (404)
 *   or carries an undocumented field, so `affiliates` is required here;
 * - `/affiliate/get` takes `id` or `affiliate_code` and documents neither's type: `id` may be an integer or a
 *   string, and "one of the two" is checked by `checkRequest` (see ONE_OF_REQUIRED);
 * - the two manual credits take the affiliate's numeric id as `id` (an integer); `commission` is any number
 *   (negative: a clawback); `currency` is documented with a 3-character limit, which the handler checks with
 *   the other value rules;
 * - the webhook has no published schema: its fields and types come from Refersion's tracking notes, with the
 *   value limits it states (cart id length, three-letter currency) and non-negative amounts.
 */
export const REQUEST_SCHEMAS: Readonly<Record<string, SchemaObject>> = {
  '/affiliate/new': object(
    {
      ...AFFILIATE_PROFILE,
      password: text,
      status: text,
      offer: text,
      send_welcome: text,
      conversion_trigger_coupon: text,
      unique_merchant_id: text
    },
    ['first_name', 'last_name', 'email', 'password', 'status']
  ),
  '/affiliate/edit': object(
    {
      affiliates: list(
        object({ id: integer, offer: number, ...AFFILIATE_PROFILE, custom_fields: CUSTOM_FIELDS }, ['id'])
      )
    },
    ['affiliates']
  ),
  '/affiliate/get': object({ id: { type: ['integer', 'string'] }, affiliate_code: text }),
  '/affiliate/search': object({ keyword: text, first_name: text, last_name: text, page: text }, ['keyword']),
  '/affiliate/list': object({ limit: text, page: text }),
  '/affiliate/status_change': object({ ids: list(integer), status: text }, ['ids', 'status']),
  '/affiliate/trigger': object({ affiliate_code: text, type: text, trigger: text }, [
    'affiliate_code',
    'type',
    'trigger'
  ]),
  '/trigger/delete': object(
    { affiliates: list(object({ id: integer, trigger: text, type: text }, ['id', 'trigger', 'type'])) },
    ['affiliates']
  ),
  '/conversion/cancel': object(
    { order_id: text, items: list(object({ sku: text, price: number, quantity: integer }, ['sku'])) },
    ['order_id', 'items']
  ),
  '/conversion/manual_credit': object({ id: integer, commission: number, status: text, currency: text, notes: text }, [
    'id',
    'commission',
    'status'
  ]),
  '/conversion/manual_credit_order_id': object({ id: integer, order_id: text, status: text, notes: text }, [
    'id',
    'order_id'
  ]),
  [TRACKING_PATH]: object(
    {
      cart_id: { type: 'string', maxLength: 255 },
      order_id: text,
      currency_code: { type: 'string', pattern: '^[A-Za-z]{3}$' },
      items: {
        type: 'array',
        minItems: 1,
        items: object(
          { sku: text, quantity: { type: 'integer', minimum: 1 }, price: { type: 'number', minimum: 0 }, name: text },
          ['sku', 'quantity', 'price']
        )
      },
      shipping: { type: 'number', minimum: 0 },
      tax: { type: 'number', minimum: 0 },
      discount: { type: 'number', minimum: 0 },
      discount_code: text,
      customer: object({ first_name: text, last_name: text, email: text, ip_address: text }),
      is_subscription: boolean,
      subscription_id: text,
      auto_credit_affiliate_id: { type: ['string', 'integer'] }
    },
    ['cart_id', 'order_id', 'currency_code', 'items']
  )
}

/** Operations that need at least one of several fields. */
const ONE_OF_REQUIRED: Readonly<Record<string, readonly string[]>> = { '/affiliate/get': ['id', 'affiliate_code'] }

export type ContractCheck =
  | { ok: true }
  | {
      ok: false
      /** `invalid_field`: undocumented field or wrong type; `missing_field`; `unknown_operation`. */
      kind: 'invalid_field' | 'missing_field' | 'unknown_operation'
      /** The field at fault, e.g. `affiliates[0].unique_merchant_id` (empty for the body itself). */
      field: string
      /** A sentence for people reading test failures. */
      reason: string
    }

const ajv = new Ajv({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false
})
const validators = new Map<string, ValidateFunction>(
  Object.entries(REQUEST_SCHEMAS).map(([path, schema]) => [path, ajv.compile(schema)])
)

/** The operation a request path names: `/v2/affiliate/new` and `/affiliate/new` are the same operation. */
export function operationOf(path: string): string {
  const bare = path.split('?')[0].replace(/\/+$/, '')
  return bare.startsWith('/v2/') ? bare.slice(3) : bare
}

/** `/affiliates/0/id` → `affiliates[0].id` */
function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}

function describe(error: ErrorObject): { kind: 'invalid_field' | 'missing_field'; field: string; reason: string } {
  if (error.keyword === 'required') {
    const field = fieldName(`${error.instancePath}/${String(error.params.missingProperty)}`)
    return { kind: 'missing_field', field, reason: `missing required field ${field}` }
  }
  if (error.keyword === 'additionalProperties') {
    const field = fieldName(`${error.instancePath}/${String(error.params.additionalProperty)}`)
    return { kind: 'invalid_field', field, reason: `${field} is not a documented field of this operation` }
  }
  const field = fieldName(error.instancePath)
  return { kind: 'invalid_field', field, reason: `${field || 'the body'} ${error.message ?? 'is invalid'}` }
}

/** A required string that is empty or only spaces counts as missing. */
function blankRequired(schema: SchemaObject, data: unknown, pointer = ''): string | undefined {
  if (Array.isArray(data) && schema.items) {
    for (let i = 0; i < data.length; i++) {
      const found = blankRequired(schema.items as SchemaObject, data[i], `${pointer}/${i}`)
      if (found) return found
    }
    return undefined
  }
  if (typeof data !== 'object' || data === null || !schema.properties) return undefined
  const record = data as Record<string, unknown>
  for (const key of (schema.required as string[] | undefined) ?? []) {
    const value = record[key]
    if (typeof value === 'string' && value.trim() === '') return fieldName(`${pointer}/${key}`)
  }
  for (const [key, sub] of Object.entries(schema.properties as Record<string, SchemaObject>)) {
    if (record[key] === undefined) continue
    const found = blankRequired(sub, record[key], `${pointer}/${key}`)
    if (found) return found
  }
  return undefined
}

/**
 * Checks a request body against the published contract of the operation at `path` (`/v2/...`, `/...` or the
 * tracking webhook's path). An undocumented field or a wrong type wins over a missing field (Refersion's 204
 * "invalid field" before its 400 "missing required field").
 */
export function checkRequest(path: string, body: unknown): ContractCheck {
  const operation = operationOf(path)
  const validate = validators.get(operation)
  if (!validate) {
    return { ok: false, kind: 'unknown_operation', field: '', reason: `${operation} is not a documented operation` }
  }
  if (!validate(body)) {
    const problems = (validate.errors ?? []).map(describe)
    return { ok: false, ...(problems.find((p) => p.kind === 'invalid_field') ?? problems[0]) }
  }
  const blank = blankRequired(REQUEST_SCHEMAS[operation], body)
  if (blank) return { ok: false, kind: 'missing_field', field: blank, reason: `missing required field ${blank}` }
  const oneOf = ONE_OF_REQUIRED[operation]
  if (oneOf) {
    const record = body as Record<string, unknown>
    const given = oneOf.some((key) => record[key] !== undefined && String(record[key]).trim() !== '')
    if (!given) {
      const field = oneOf.join(' or ')
      return { ok: false, kind: 'missing_field', field, reason: `missing required field ${field}` }
    }
  }
  return { ok: true }
}
