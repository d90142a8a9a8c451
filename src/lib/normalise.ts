/**
 * A mapped value as text: trimmed strings, finite numbers as their decimal string; empty, blank and every other
 * type are "absent" (undefined).
 */
export function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** Two emails are the same affiliate's when equal ignoring case and surrounding space (never a partial match). */
export function sameEmail(a: unknown, b: unknown): boolean {
  const left = text(a)
  const right = text(b)
  return left !== undefined && right !== undefined && left.toLowerCase() === right.toLowerCase()
}

/** A numeric Refersion id (number or digit string), or undefined for a code or anything else. */
export function numericId(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) {
    const n = Number(value.trim())
    return n > 0 ? n : undefined
  }
  return undefined
}
