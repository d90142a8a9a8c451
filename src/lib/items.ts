import { fallback } from './mapping'
import { text } from './normalise'
import { amount, Problem, quantity } from './problems'

const at = (path: string) => ({ '@path': path })

/** Each of `properties.products`: `sku`, else `product_id`, plus the given properties read as they are. */
export function productsDefault(properties: string[]) {
  const shape: Record<string, unknown> = { sku: fallback('$.sku', '$.product_id') }
  for (const key of properties) shape[key] = at(`$.${key}`)
  return { '@arrayPath': ['$.properties.products', shape] }
}

interface ItemInput {
  sku?: unknown
  name?: unknown
  price?: unknown
  quantity?: unknown
}

/** The order's items as Refersion wants them; `priceRequired` for the tracking webhook (it needs unit prices). */
export function buildItems(
  input: unknown,
  priceRequired: boolean,
  problems: Problem[]
): { sku: string; price?: number; quantity: number; name?: string }[] {
  const list: unknown[] = Array.isArray(input) ? input : input && typeof input === 'object' ? [input] : []
  if (!list.length) {
    problems.push({
      field: 'items',
      message:
        '"Items" (items) is empty: Refersion needs at least one item (each of properties.products, with a SKU or product ID)'
    })
    return []
  }
  return list.map((raw, i) => {
    const item = (raw && typeof raw === 'object' ? raw : {}) as ItemInput
    const where = `items[${i}]`
    const sku = text(item.sku)
    if (!sku) {
      problems.push({
        field: `${where}.sku`,
        message: `"Items" ${where}.sku is missing: each item needs a SKU or a product ID`
      })
    }
    const before = problems.length
    const price = amount(item.price, `${where}.price`, `"Items" ${where}.price (the unit price)`, problems)
    if (price === undefined && priceRequired && problems.length === before) {
      problems.push({ field: `${where}.price`, message: `"Items" ${where}.price (the unit price) is missing` })
    }
    const count = quantity(item.quantity, `${where}.quantity`, `"Items" ${where}.quantity`, problems)
    const name = text(item.name)
    const priced = price !== undefined ? { price } : {}
    // The documented key orders: sku, quantity, price, name (tracking webhook); sku, price, quantity (cancel).
    return priceRequired
      ? { sku: sku ?? '', quantity: count, ...priced, ...(name ? { name } : {}) }
      : { sku: sku ?? '', ...priced, quantity: count }
  })
}
