import { FieldValidationError } from './errors'

/** One input problem: the field key(s) it is about (an item's as `items[2].price`) and what is wrong. */
export type Problem = { field: string | string[]; message: string }

export function shownValue(value: unknown): string {
  const raw = typeof value === 'string' ? value : JSON.stringify(value)
  return raw === undefined ? String(value) : raw.length > 40 ? `${raw.slice(0, 40)}…` : raw
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

/** A JSON number, or a decimal numeric string ("19.99", "2"); NaN for anything else. */
export function numberOf(value: unknown): number {
  if (typeof value === 'number') return value
  return typeof value === 'string' && NUMERIC.test(value) ? Number(value) : NaN
}

/**
 * A number as Refersion wants it, from a JSON number or a numeric string ("19.99"); undefined when absent
 * (undefined, null, empty). Anything else, or a negative number, is a problem.
 */
export function amount(value: unknown, field: string, label: string, problems: Problem[]): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined
  const n = numberOf(value)
  if (!Number.isFinite(n) || n < 0) {
    problems.push({ field, message: `${label} must be a number of 0 or more (got ${shownValue(value)})` })
    return undefined
  }
  return n
}

/** A quantity: a whole number of at least 1; 1 when absent. */
export function quantity(value: unknown, field: string, label: string, problems: Problem[]): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return 1
  const n = numberOf(value)
  if (!Number.isSafeInteger(n) || n < 1) {
    problems.push({ field, message: `${label} must be a whole number of at least 1 (got ${shownValue(value)})` })
    return 1
  }
  return n
}

export function fail(action: string, problems: Problem[]): never {
  throw new FieldValidationError(
    `${action}: ${problems.map((p) => p.message).join('; ')}. Nothing was sent to Refersion.`,
    problems.flatMap((p) => p.field)
  )
}
