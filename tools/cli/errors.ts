import { HTTPError, PayloadValidationError } from '@segment/actions-core'
import type { Exchange } from './exchanges'

/** The Segment CLI's failure entry: `[{"statusCode","message","stack","requestError":true}]` (+ `fields`). */
export interface ErrorOutput {
  statusCode: number
  message: string
  stack: string[]
  requestError: true
  /** Field key → message, for validation errors. */
  fields?: Record<string, string>
  /** Exchanges made before the failure (an addition to the Segment CLI's shape, only when there are any). */
  exchanges?: Exchange[]
}

interface AjvFieldError {
  path?: unknown
  message?: unknown
}

/** actions-core's AJV errors (AggregateAjvError) and mapping-kit's ValidationError are input problems: 400. */
export function isValidationError(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name
  return name === 'AggregateAjvError' || name === 'ValidationError' || error instanceof PayloadValidationError
}

export function statusCodeOf(error: unknown): number {
  if (error instanceof HTTPError) return error.response?.status ?? 500
  const status = (error as { status?: unknown })?.status
  if (typeof status === 'number' && status >= 100 && status < 600) return status
  return isValidationError(error) ? 400 : 500
}

/**
 * Field key → message for an AJV error: `$.email` → `email`, `$.address.city` → `address.city`, and a missing
 * required field (reported on its parent, e.g. `$`) → the missing field's own path.
 */
function ajvFields(error: unknown): Record<string, string> | undefined {
  const list = (error as { errors?: unknown }).errors
  if (!Array.isArray(list)) return undefined
  const fields: Record<string, string> = {}
  for (const item of list as AjvFieldError[]) {
    const message = typeof item?.message === 'string' ? item.message : ''
    const path = typeof item?.path === 'string' ? item.path : '$'
    const parent = path.replace(/^\$\.?/, '')
    const missing = /required field '([^']+)'/.exec(message)?.[1]
    const key = missing ? (parent ? `${parent}.${missing}` : missing) : parent || '$'
    fields[key] = fields[key] ? `${fields[key]} ${message}` : message
  }
  return Object.keys(fields).length ? fields : undefined
}

/**
 * Field key → message for a destination's PayloadValidationError: every field whose label the message quotes
 * (the destination names fields by label, e.g. `map "Email" (traits.email)`).
 */
function labelledFields(message: string, labels: Record<string, string>): Record<string, string> | undefined {
  const fields: Record<string, string> = {}
  for (const [key, label] of Object.entries(labels)) {
    if (label && message.includes(`"${label}"`)) fields[key] = message
  }
  return Object.keys(fields).length ? fields : undefined
}

/**
 * Turns anything thrown by actions-core or the destination into the Segment CLI's failure entry.
 * `labels` (field key → label) lets a destination's own validation errors name their fields.
 */
export function marshalError(error: unknown, labels: Record<string, string> = {}): ErrorOutput {
  const err = error instanceof Error ? error : new Error(String(error))
  const output: ErrorOutput = {
    statusCode: statusCodeOf(error),
    message: err.message,
    stack: (err.stack ?? `${err.name}: ${err.message}`).split('\n'),
    requestError: true
  }
  const fields =
    err.name === 'AggregateAjvError'
      ? ajvFields(err)
      : error instanceof PayloadValidationError
        ? labelledFields(err.message, labels)
        : undefined
  if (fields) output.fields = fields
  return output
}
