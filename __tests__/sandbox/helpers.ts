import type { RunningSandbox } from '../../tools/sandbox'
import { read } from '../support/http'
import type { Answer } from '../support/http'

export { read }
export type { Answer }

export const PUBLIC_KEY = 'pub_test123'
export const SECRET_KEY = 'sec_SuperSecretValue987'
export const PASSWORD = 'Tr0ub4dor&3x'

export const AUTH = {
  'Refersion-Public-Key': PUBLIC_KEY,
  'Refersion-Secret-Key': SECRET_KEY,
  'Content-Type': 'application/json'
}

/** POSTs a JSON body (or a raw string) to `/v2<path>` and reads the whole answer. */
export async function api(
  sandbox: RunningSandbox,
  path: string,
  body?: unknown,
  headers: Record<string, string> = AUTH
): Promise<Answer> {
  const res = await fetch(sandbox.apiBaseUrl + path, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  return read(res)
}

let counter = 0

/** A valid /affiliate/new body; override any field. */
export function newAffiliate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++
  return {
    first_name: 'Peter',
    last_name: 'Gibbons',
    email: `person${counter}@example.com`,
    password: PASSWORD,
    status: 'ACTIVE',
    ...overrides
  }
}

/** Creates an affiliate over HTTP and returns its numeric id and code. */
export async function create(
  sandbox: RunningSandbox,
  overrides: Record<string, unknown> = {}
): Promise<{ id: number; code: string }> {
  const res = await api(sandbox, '/affiliate/new', newAffiliate(overrides))
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${res.text}`)
  const id = Number(/The affiliate (\d+) has been created/.exec(res.json.message)?.[1])
  return { id, code: res.json.id }
}

let orderCounter = 0

/** A valid order-tracking webhook body; override any field (undefined removes it). */
export function order(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  orderCounter++
  return {
    cart_id: `cart-${orderCounter}`,
    order_id: `order-${orderCounter}`,
    currency_code: 'USD',
    items: [{ sku: 'TSHIRT-RED', quantity: 2, price: 19.5, name: 'Red T-shirt' }],
    ...overrides
  }
}

/** POSTs an order (`order(overrides)`, or a raw string) to the tracking webhook at the sandbox's root. */
export async function track(
  sandbox: RunningSandbox,
  overrides: Record<string, unknown> | string = {},
  headers: Record<string, string> = AUTH
): Promise<Answer> {
  const body = typeof overrides === 'string' ? overrides : JSON.stringify(order(overrides))
  const res = await fetch(`${sandbox.trackingUrl}/tracker/orders/paid`, { method: 'POST', headers, body })
  return read(res)
}
