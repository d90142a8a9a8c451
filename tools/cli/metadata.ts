import type { DestinationDefinition } from '@segment/actions-core'
import { hookTypeStrings } from '@segment/actions-core/destination-kit'

// The text of the metadata.json Segment's `generate:metadata-payload` writes for a destination: the definition's
// public description (no functions), as JSON.stringify(payload, null, 2) plus a newline. Segment's command then runs
// `npx prettier --write` on the file from the monorepo root, whose .prettierignore lists `**/metadata.json`, so
// Prettier leaves it untouched: the JSON.stringify text is the committed text (Prettier's JSON style would differ,
// e.g. a short array of strings on one line).
//
// Values the definition gives are passed through as they are; `??` defaults apply to undefined and null alike;
// JSON.stringify drops what is still undefined (a field's label or description, a preset's partnerAction...).

/** A field of an action or of a hook, or a setting, as this serialiser reads it: anything may be missing. */
interface Field {
  label?: unknown
  description?: unknown
  type?: unknown
  required?: unknown
  multiple?: unknown
  allowNull?: unknown
  dynamic?: unknown
  default?: unknown
  choices?: unknown
  placeholder?: unknown
  properties?: unknown
  category?: unknown
  depends_on?: unknown
  readOnly?: unknown
  unsafe_hidden?: unknown
  minimum?: unknown
  maximum?: unknown
  defaultObjectUI?: unknown
  disabledInputMethods?: unknown
  displayMode?: unknown
  format?: unknown
  additionalProperties?: unknown
}

type Fields = Record<string, Field>

interface Hook {
  label?: unknown
  description?: unknown
  inputFields?: Fields
  outputTypes?: Fields
  outputFields?: Fields
}

interface SyncMode {
  default?: unknown
  label?: unknown
  description?: unknown
  choices?: Array<{ value?: unknown; label?: unknown }>
}

interface Action {
  title?: unknown
  description?: unknown
  platform?: unknown
  defaultSubscription?: unknown
  hidden?: unknown
  performBatch?: unknown
  syncMode?: SyncMode
  hooks?: Record<string, Hook>
  dynamicFields?: unknown
  fields?: Fields
}

interface Preset {
  name?: unknown
  type?: unknown
  partnerAction?: unknown
  subscribe?: unknown
  mapping?: unknown
  eventSlug?: unknown
}

interface Definition {
  slug?: string
  name?: unknown
  mode?: unknown
  description?: unknown
  authentication?: { scheme?: unknown; fields?: Fields }
  settings?: Fields
  audienceConfig?: {
    mode: { type?: unknown; full_audience_sync?: unknown }
    createAudience?: unknown
    getAudience?: unknown
  }
  audienceFields?: Fields
  actions: Record<string, Action>
  presets?: Preset[]
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null

function mapValues<T>(
  record: Record<string, T> | undefined,
  map: (value: T, key: string) => Json
): Record<string, Json> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, map(value, key)]))
}

/** `{ label, value }` objects as they are, anything else as `{ label: String(choice), value: choice }`; none: null. */
export function choicesOf(choices: unknown): unknown[] | null {
  if (!Array.isArray(choices) || choices.length === 0) return null
  return choices.map((choice: unknown) =>
    isObject(choice) && 'label' in choice && 'value' in choice ? choice : { label: String(choice), value: choice }
  )
}

/** Conditions (`{ conditions: [...] }`) as they are; otherwise whether it is exactly `true`. */
const requiredOf = (required: unknown) => (isObject(required) ? required : required === true)

function settingField(field: Field): Json {
  return {
    label: field.label,
    description: field.description,
    type: field.type,
    required: requiredOf(field.required),
    multiple: field.multiple ?? false,
    choices: choicesOf(field.choices),
    default: field.default ?? null,
    depends_on: field.depends_on ?? null
  }
}

function actionField(field: Field): Json {
  return {
    label: field.label,
    description: field.description,
    type: field.type,
    required: requiredOf(field.required),
    multiple: field.multiple ?? false,
    allowNull: field.allowNull ?? false,
    dynamic: typeof field.dynamic === 'function' ? true : field.dynamic ?? false,
    default: field.default ?? null,
    choices: choicesOf(field.choices),
    placeholder: field.placeholder ?? null,
    properties:
      field.type === 'object' && isObject(field.properties) ? mapValues(field.properties as Fields, actionField) : null,
    category: field.category ?? null,
    depends_on: field.depends_on ?? null,
    readOnly: field.readOnly ?? null,
    hidden: field.unsafe_hidden ?? null,
    minimum: field.minimum ?? null,
    maximum: field.maximum ?? null,
    defaultObjectUI: field.defaultObjectUI ?? null,
    disabledInputMethods: field.disabledInputMethods ?? null,
    displayMode: field.displayMode ?? null,
    format: field.format ?? null,
    additionalProperties: field.additionalProperties ?? false
  }
}

function syncModeOf(syncMode: SyncMode | undefined): Json | null {
  if (!syncMode) return null
  return {
    default: syncMode.default,
    label: syncMode.label ?? 'Sync Mode',
    description: syncMode.description ?? '',
    choices: (syncMode.choices ?? []).map(({ value, label }) => ({ value, label }))
  }
}

/** The hooks actions-core knows (others are left out); null when there are none. */
function hooksOf(hooks: Record<string, Hook> | undefined): Record<string, Json> | null {
  const known = Object.entries(hooks ?? {}).filter(([key]) => (hookTypeStrings as readonly string[]).includes(key))
  if (!known.length) return null
  return mapValues(Object.fromEntries(known), (hook, key) => ({
    label: hook.label ?? key,
    description: hook.description ?? '',
    inputFields: mapValues(hook.inputFields, actionField),
    outputFields: mapValues(hook.outputTypes ?? hook.outputFields, actionField)
  }))
}

/** Per field, which of `__keys__` / `__values__` have dynamic handlers (function-valued entries are left out). */
function dynamicFieldsOf(dynamicFields: unknown): Record<string, string[]> | null {
  if (!isObject(dynamicFields)) return null
  const listed = Object.entries(dynamicFields).flatMap(([key, handlers]: [string, unknown]) => {
    const keys = isObject(handlers) ? Object.keys(handlers).filter((k) => k === '__keys__' || k === '__values__') : []
    return keys.length ? [[key, keys] as const] : []
  })
  return listed.length ? Object.fromEntries(listed) : null
}

function actionOf(action: Action, key: string): Json {
  return {
    title: action.title ?? key,
    description: action.description ?? '',
    platform: action.platform === 'web' ? 'web' : 'cloud',
    defaultSubscription: action.defaultSubscription ?? null,
    hidden: action.hidden ?? false,
    hasPerformBatch: typeof action.performBatch === 'function',
    syncMode: syncModeOf(action.syncMode),
    hooks: hooksOf(action.hooks),
    dynamicFields: dynamicFieldsOf(action.dynamicFields),
    fields: mapValues(action.fields, actionField)
  }
}

/** Present when the definition has `authentication` or any settings (`settings`, as browser destinations name them). */
function authenticationOf(definition: Definition): Json | null {
  const fields = definition.authentication?.fields ?? definition.settings
  if (!definition.authentication && !(fields && Object.keys(fields).length > 0)) return null
  return { scheme: definition.authentication?.scheme ?? 'custom', fields: mapValues(fields, settingField) }
}

function audienceConfigOf(definition: Definition): Json | null {
  const config = definition.audienceConfig
  if (!config) return null
  const { type, full_audience_sync } = config.mode
  return {
    mode: type === 'synced' ? { type, full_audience_sync: full_audience_sync ?? false } : { type: 'realtime' },
    audienceFields: mapValues(definition.audienceFields, settingField),
    supportsAudienceFunctions: typeof config.createAudience === 'function' && typeof config.getAudience === 'function'
  }
}

const presetOf = (preset: Preset): Json => ({
  name: preset.name,
  type: preset.type,
  partnerAction: preset.partnerAction,
  subscribe: preset.subscribe,
  mapping: preset.mapping ?? {},
  eventSlug: preset.eventSlug ?? null
})

/**
 * The directory the destination has in Segment's monorepo (packages/destination-actions/src/destinations/refersion),
 * which Segment's command names it by when the definition has no slug.
 */
export const MONOREPO_DIRECTORY = 'refersion'

/** The payload Segment's generate:metadata-payload serialises for the definition. */
export function publicMetadata<Settings>(destination: DestinationDefinition<Settings>): Json {
  const definition = destination as unknown as Definition
  const slug = definition.slug ?? MONOREPO_DIRECTORY
  if (!slug) throw new Error(`metadata.json generation requires a slug but received: "${slug}"`)
  return {
    slug,
    name: definition.name,
    mode: definition.mode ?? 'cloud',
    description: definition.description,
    authentication: authenticationOf(definition),
    audienceConfig: audienceConfigOf(definition),
    actions: mapValues(definition.actions, actionOf),
    presets: (definition.presets ?? []).map(presetOf)
  }
}

/** metadata.json's text, byte for byte as Segment's generate:metadata-payload leaves it. */
export function renderMetadata<Settings>(definition: DestinationDefinition<Settings>): string {
  return `${JSON.stringify(publicMetadata(definition), null, 2)}\n`
}
