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

/** One entry of actions-core's AggregateAjvError (ajv-human-errors' AjvError). */
interface AjvFieldError {
  /** JSON path of the failing value (`$.address.city`), or of the parent for a missing required property. */
  path?: unknown
  /** The same as a JSON pointer (`/address/city`). */
  pointer?: unknown
  message?: unknown
  /** The raw Ajv error, kept only when actions-core asks for it: `params.missingProperty` names a missing field. */
  original?: { params?: { missingProperty?: unknown } }
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

const addField = (fields: Record<string, string>, key: string, message: string) => {
  fields[key] = fields[key] ? `${fields[key]} ${message}` : message
}

/** `/address/city` → `address.city`, `/items/0/sku` → `items[0].sku`, `` → ``. */
function keyOfPointer(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((key, part) => (/^\d+$/.test(part) ? `${key}[${part}]` : key ? `${key}.${part}` : part), '')
}

/**
 * ajv-human-errors keeps the missing property of a `required` error only in `original.params` (when actions-core
 * asks for the original, which 3.170 does not) and in its own fixed wording, `… missing the required field 'x'`.
 * This reads that library wording — never the destination's messages.
 */
function missingProperty(item: AjvFieldError, message: string): string | undefined {
  const structured = item.original?.params?.missingProperty
  if (typeof structured === 'string') return structured
  return /the required field '([^']+)'/.exec(message)?.[1]
}

/** Field key → message for actions-core's schema validation error, from its entries' paths. */
function ajvFields(error: unknown): Record<string, string> | undefined {
  const iterable = error as { [Symbol.iterator]?: unknown; errors?: unknown }
  const list: unknown[] = Array.isArray(iterable.errors)
    ? iterable.errors
    : typeof iterable[Symbol.iterator] === 'function'
    ? Array.from(error as Iterable<unknown>)
    : []
  const fields: Record<string, string> = {}
  for (const item of list as AjvFieldError[]) {
    const message = typeof item?.message === 'string' ? item.message : ''
    const parent =
      typeof item?.pointer === 'string'
        ? keyOfPointer(item.pointer)
        : typeof item?.path === 'string'
        ? item.path.replace(/^\$\.?/, '')
        : ''
    const missing = missingProperty(item, message)
    const key = missing ? (parent ? `${parent}.${missing}` : missing) : parent || '$'
    addField(fields, key, message)
  }
  return Object.keys(fields).length ? fields : undefined
}

/**
 * Field key → message for an error that says which field failed as data: `field` (one field key) and/or
 * `fields` (field keys), as the destination's validation errors carry them.
 */
export function declaredFields(error: unknown): Record<string, string> | undefined {
  const { field, fields: list } = (error ?? {}) as { field?: unknown; fields?: unknown }
  const keys = [
    ...(typeof field === 'string' ? [field] : []),
    ...(Array.isArray(list) ? list.filter((key): key is string => typeof key === 'string') : [])
  ].filter((key) => key !== '')
  if (!keys.length) return undefined
  const message = error instanceof Error ? error.message : String(error)
  const fields: Record<string, string> = {}
  for (const key of keys) fields[key] = message
  return fields
}

/** Which fields an error names, from structured data only: AJV entries, or the error's own `field`/`fields`. */
export function fieldsOf(error: unknown): Record<string, string> | undefined {
  return (error as { name?: unknown })?.name === 'AggregateAjvError' ? ajvFields(error) : declaredFields(error)
}

/** Turns anything thrown by actions-core or the destination into the Segment CLI's failure entry. */
export function marshalError(error: unknown): ErrorOutput {
  const err = error instanceof Error ? error : new Error(String(error))
  const output: ErrorOutput = {
    statusCode: statusCodeOf(error),
    message: err.message,
    stack: (err.stack ?? `${err.name}: ${err.message}`).split('\n'),
    requestError: true
  }
  const fields = fieldsOf(error)
  if (fields) output.fields = fields
  return output
}
