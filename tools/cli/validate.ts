import { defaultValues, isDirective } from '@segment/actions-core'
import type { DestinationDefinition, InputField } from '@segment/actions-core'
import validateMapping from '@segment/actions-core/mapping-kit/validate'
import { parseFql } from '@segment/destination-subscriptions'

const SLUG = /^actions-[a-z0-9]+(-[a-z0-9]+)*$/
const KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/
const FIELD_TYPES = new Set(['string', 'text', 'number', 'integer', 'datetime', 'boolean', 'password', 'object'])
const SETTING_TYPES = new Set(['string', 'text', 'number', 'boolean', 'password'])
const SCHEMES = new Set(['basic', 'custom', 'oauth2', 'oauth-managed'])
const MODES = new Set(['cloud', 'device', 'warehouse'])

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== ''

/** mapping-kit's own validation of a mapping: one message per problem, each starting with its path (`/email …`). */
export function mappingErrors(mapping: unknown): string[] {
  try {
    validateMapping(mapping)
    return []
  } catch (error) {
    // mapping-kit throws an AggregateError (the aggregate-error package): iterable, one ValidationError each.
    const iterable = error as { [Symbol.iterator]?: () => Iterator<unknown> }
    const errors =
      typeof iterable?.[Symbol.iterator] === 'function' ? Array.from(iterable as Iterable<unknown>) : [error]
    return errors.map((e) => (e instanceof Error ? e.message : String(e)).trim())
  }
}

/** The message of a mapping-kit validation failure, or undefined when the mapping is valid. */
function mappingProblem(mapping: unknown): string | undefined {
  const errors = mappingErrors(mapping)
  return errors.length ? errors.join('; ') : undefined
}

/** Why an FQL subscription does not parse, or undefined when it does. */
function subscriptionProblem(fql: unknown): string | undefined {
  if (!nonEmpty(fql)) return 'is empty'
  try {
    const parsed = parseFql(fql)
    return 'error' in parsed ? parsed.error.message : undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

const LITERAL_TYPES: Record<string, string[]> = {
  string: ['string'],
  text: ['string'],
  password: ['string'],
  datetime: ['string', 'number'],
  number: ['number'],
  integer: ['number'],
  boolean: ['boolean'],
  object: ['object']
}

function checkField(where: string, key: string, field: InputField, problems: string[]): void {
  const at = `${where} field "${key}"`
  if (!KEY.test(key)) problems.push(`${at}: key must be letters, digits and _ and start with a letter`)
  if (!nonEmpty(field.label)) problems.push(`${at}: has no label`)
  if (!nonEmpty(field.description)) {
    problems.push(
      field.required && field.default === undefined
        ? `${at}: is required but has neither a default mapping nor a description telling users what to map`
        : `${at}: has no description`
    )
  }
  if (!FIELD_TYPES.has(field.type)) problems.push(`${at}: unknown type "${String(field.type)}"`)
  if (field.required && field.default === undefined && field.unsafe_hidden) {
    problems.push(`${at}: is required and hidden but has no default, so users cannot fill it in`)
  }

  const choices = field.choices as unknown
  const values: unknown[] = []
  if (choices !== undefined) {
    if (!Array.isArray(choices) || choices.length === 0) problems.push(`${at}: choices must be a non-empty array`)
    else
      for (const choice of choices) {
        if (typeof choice === 'string') values.push(choice)
        else if (
          choice &&
          typeof choice === 'object' &&
          'value' in choice &&
          nonEmpty((choice as { label?: unknown }).label)
        )
          values.push((choice as { value: unknown }).value)
        else problems.push(`${at}: every choice must be a string or {label, value}`)
      }
  }

  if (field.properties) {
    for (const [name, property] of Object.entries(field.properties)) {
      if (!nonEmpty((property as { label?: unknown }).label)) problems.push(`${at}: property "${name}" has no label`)
    }
  }

  const value = field.default as unknown
  if (value === undefined) return
  const problem = mappingProblem({ [key]: value })
  if (problem) {
    problems.push(`${at}: default mapping is not a valid mapping-kit directive: ${problem}`)
    return
  }
  if (isDirective(value as never)) return
  const literal = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  const accepted = LITERAL_TYPES[field.type] ?? []
  if (field.type === 'object' && literal === 'object') return
  if (!accepted.includes(literal) && !(field.multiple && literal === 'array')) {
    problems.push(`${at}: default ${JSON.stringify(value)} does not match its type "${field.type}"`)
    return
  }
  if (values.length && !values.includes(value)) {
    problems.push(`${at}: default ${JSON.stringify(value)} is not one of its choices`)
  }
  if (typeof value === 'number') {
    if (typeof field.minimum === 'number' && value < field.minimum)
      problems.push(`${at}: default ${value} is below its minimum ${field.minimum}`)
    if (typeof field.maximum === 'number' && value > field.maximum)
      problems.push(`${at}: default ${value} is above its maximum ${field.maximum}`)
  }
}

/**
 * Checks a destination definition the way Segment's tooling and reviewers would, returning one message per
 * problem ([] when it is fine): name/slug/mode/description; a label and a description on every auth setting and
 * action field; default mappings that are valid mapping-kit directives and match their field's type and choices;
 * required fields that have a default or are documented; parseable subscriptions; presets that name real actions
 * and map only that action's fields; batch actions with the `enable_batching` field.
 */
export function validateDefinition<Settings>(definition: DestinationDefinition<Settings>): string[] {
  const problems: string[] = []
  const def = definition as unknown as Record<string, unknown>
  if (!def || typeof def !== 'object') return ['the definition is not an object']

  if (!nonEmpty(def.name)) problems.push('definition: name is missing')
  if (!nonEmpty(def.slug)) problems.push('definition: slug is missing')
  else if (!SLUG.test(def.slug))
    problems.push(`definition: slug "${def.slug}" must look like actions-<product> (lower case, digits, dashes)`)
  if (!nonEmpty(def.mode) || !MODES.has(def.mode)) problems.push(`definition: mode must be "cloud"`)
  if (!nonEmpty(def.description)) problems.push('definition: description is missing')
  if (def.extendRequest !== undefined && typeof def.extendRequest !== 'function')
    problems.push('definition: extendRequest must be a function')
  if (def.onDelete !== undefined && typeof def.onDelete !== 'function')
    problems.push('definition: onDelete must be a function')

  const auth = definition.authentication
  if (auth) {
    if (!SCHEMES.has(auth.scheme)) problems.push(`authentication: unknown scheme "${String(auth.scheme)}"`)
    if (auth.testAuthentication !== undefined && typeof auth.testAuthentication !== 'function')
      problems.push('authentication: testAuthentication must be a function')
    for (const [key, setting] of Object.entries(auth.fields ?? {})) {
      const at = `authentication field "${key}"`
      if (!KEY.test(key)) problems.push(`${at}: key must be letters, digits and _ and start with a letter`)
      if (!nonEmpty(setting.label)) problems.push(`${at}: has no label`)
      if (!nonEmpty(setting.description)) problems.push(`${at}: has no description`)
      if (!SETTING_TYPES.has(setting.type)) problems.push(`${at}: unknown type "${String(setting.type)}"`)
    }
  }

  const actions = (definition.actions ?? {}) as Record<string, unknown>
  if (!Object.keys(actions).length) problems.push('definition: has no actions')
  for (const [slug, raw] of Object.entries(actions)) {
    const action = raw as DestinationDefinition<Settings>['actions'][string]
    const at = `action "${slug}"`
    if (!KEY.test(slug)) problems.push(`${at}: key must be letters, digits and _ and start with a letter`)
    if (!nonEmpty(action?.title)) problems.push(`${at}: has no title`)
    if (!nonEmpty(action?.description)) problems.push(`${at}: has no description`)
    if (typeof action?.perform !== 'function') problems.push(`${at}: perform is not a function`)
    if (action?.defaultSubscription !== undefined) {
      const problem = subscriptionProblem(action.defaultSubscription)
      if (problem) problems.push(`${at}: defaultSubscription does not parse: ${problem}`)
    }
    const fields = (action?.fields ?? {}) as Record<string, InputField>
    if (typeof action?.performBatch === 'function' && !fields.enable_batching)
      problems.push(`${at}: has performBatch but no enable_batching field`)
    for (const [key, field] of Object.entries(fields)) checkField(at, key, field, problems)
    const problem = mappingProblem(defaultValues(fields))
    if (problem) problems.push(`${at}: default mapping is invalid: ${problem}`)
  }

  const presets = def.presets
  if (presets !== undefined && !Array.isArray(presets)) problems.push('definition: presets must be an array')
  const names = new Set<string>()
  for (const [index, raw] of (Array.isArray(presets) ? presets : []).entries()) {
    const preset = (raw ?? {}) as Record<string, unknown>
    const at = `preset ${nonEmpty(preset.name) ? `"${preset.name}"` : `#${index + 1}`}`
    if (!nonEmpty(preset.name)) problems.push(`${at}: has no name`)
    else if (names.has(preset.name)) problems.push(`${at}: name is used by another preset`)
    else names.add(preset.name)
    const action = nonEmpty(preset.partnerAction) ? actions[preset.partnerAction] : undefined
    if (!action)
      problems.push(`${at}: partnerAction "${String(preset.partnerAction)}" is not an action of this destination`)
    if (preset.type === 'automatic' || preset.type === undefined) {
      const problem = subscriptionProblem(preset.subscribe)
      if (problem) problems.push(`${at}: subscribe does not parse: ${problem}`)
    } else if (preset.type === 'specificEvent') {
      if (!nonEmpty(preset.eventSlug)) problems.push(`${at}: specificEvent preset has no eventSlug`)
    } else problems.push(`${at}: unknown type "${String(preset.type)}"`)
    if (preset.mapping !== undefined) {
      const problem = mappingProblem(preset.mapping)
      if (problem) problems.push(`${at}: mapping is invalid: ${problem}`)
      const fields = ((action as { fields?: Record<string, unknown> } | undefined)?.fields ?? {}) as object
      if (action && preset.mapping && typeof preset.mapping === 'object') {
        for (const key of Object.keys(preset.mapping)) {
          if (!(key in fields))
            problems.push(`${at}: maps "${key}", which is not a field of "${String(preset.partnerAction)}"`)
        }
      }
    }
  }
  return problems
}
