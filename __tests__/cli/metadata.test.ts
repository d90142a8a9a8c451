import fs from 'node:fs'
import path from 'node:path'
import type { DestinationDefinition } from '@segment/actions-core'
import destination from '../../src'
import { choicesOf, publicMetadata, renderMetadata } from '../../tools/cli/metadata'
import rules from './fixtures/metadata-rules'

type Json = Record<string, unknown>

const noop = () => undefined

/** The metadata of a definition given loosely (only what a rule needs). */
const metadataOf = (definition: object) => publicMetadata(definition as DestinationDefinition<unknown>)

const actionOf = (action: object) => (metadataOf({ name: 'D', actions: { a: action } }).actions as Json).a as Json

const fieldOf = (field: object) => (actionOf({ fields: { f: field } }).fields as Json).f as Json

describe("renderMetadata: Segment's generate:metadata-payload output", () => {
  it('is, for a definition using every rule, what Segment’s own generatePublicMetadata made of it', () => {
    const expected = fs.readFileSync(path.join(__dirname, 'fixtures', 'metadata-rules.expected.txt'), 'utf8')
    expect(renderMetadata(rules as unknown as DestinationDefinition<unknown>)).toBe(expected)
  })

  it('is JSON.stringify(payload, null, 2) and a newline: Segment’s Prettier run skips metadata.json', () => {
    const text = renderMetadata(destination)
    expect(text).toBe(`${JSON.stringify(publicMetadata(destination), null, 2)}\n`)
    const rendered = renderMetadata(rules as unknown as DestinationDefinition<unknown>)
    expect(rendered).toContain('"disabledInputMethods": [\n            "literal",\n')
  })

  it('names the destination by its slug, else by its directory in Segment’s monorepo', () => {
    expect(publicMetadata(destination).slug).toBe('actions-refersion')
    expect(metadataOf({ name: 'D', actions: {} })).toMatchObject({ slug: 'refersion', mode: 'cloud' })
    expect(() => metadataOf({ name: 'D', slug: '', actions: {} })).toThrow(/requires a slug/)
  })
})

describe('choices', () => {
  it('become { label, value }; { label, value } objects are kept as they are (extra keys too)', () => {
    const kept = { label: 'Three', value: 3, extra: 'kept' }
    expect(choicesOf(['one', 2, kept, { label: 'no value' }])).toEqual([
      { label: 'one', value: 'one' },
      { label: '2', value: 2 },
      kept,
      { label: '[object Object]', value: { label: 'no value' } }
    ])
  })

  it.each([[undefined], [[]], ['a,b']])('%p: null', (choices) => {
    expect(choicesOf(choices)).toBeNull()
    expect(fieldOf({ type: 'string', choices }).choices).toBeNull()
  })
})

describe('action fields', () => {
  it('defaults: null when absent (or null), falsy values kept', () => {
    expect(fieldOf({ type: 'string' })).toMatchObject({ default: null, placeholder: null, format: null })
    expect(fieldOf({ type: 'string', default: null }).default).toBeNull()
    for (const value of [0, false, '']) expect(fieldOf({ type: 'string', default: value }).default).toBe(value)
    const mapping = { '@path': '$.traits.email' }
    expect(fieldOf({ type: 'string', default: mapping }).default).toEqual(mapping)
  })

  it('hidden is unsafe_hidden (null when absent)', () => {
    expect(fieldOf({ type: 'number', unsafe_hidden: true }).hidden).toBe(true)
    expect(fieldOf({ type: 'number', unsafe_hidden: false }).hidden).toBe(false)
    expect(fieldOf({ type: 'number' }).hidden).toBeNull()
    expect(fieldOf({ type: 'number', unsafe_hidden: true })).not.toHaveProperty('unsafe_hidden')
  })

  it('nested properties of an object field, serialised as fields; none for other types', () => {
    const deep = { label: 'Deep', type: 'integer', minimum: 1 }
    const object = fieldOf({ type: 'object', properties: { inner: { type: 'object', properties: { deep } } } })
    const inner = (object.properties as Record<string, Json>).inner
    expect((inner.properties as Record<string, Json>).deep).toEqual(fieldOf(deep))
    expect(fieldOf(deep)).toMatchObject({ label: 'Deep', minimum: 1, maximum: null, properties: null })
    expect(fieldOf({ type: 'string', properties: { x: { type: 'string' } } }).properties).toBeNull()
    expect(fieldOf({ type: 'object' }).properties).toBeNull()
  })

  it('additionalProperties: false unless given', () => {
    expect(fieldOf({ type: 'object' }).additionalProperties).toBe(false)
    expect(fieldOf({ type: 'object', additionalProperties: true }).additionalProperties).toBe(true)
  })

  it('required: conditions as given, otherwise whether it is exactly true', () => {
    const conditions = { conditions: [{ fieldKey: 'kind', operator: 'is', value: 'a' }] }
    expect(fieldOf({ type: 'string', required: conditions }).required).toEqual(conditions)
    expect(fieldOf({ type: 'string', required: true }).required).toBe(true)
    expect(fieldOf({ type: 'string', required: 'yes' }).required).toBe(false)
    expect(fieldOf({ type: 'string' }).required).toBe(false)
  })

  it('a dynamic function is true; multiple and allowNull default to false', () => {
    expect(fieldOf({ type: 'string', dynamic: noop })).toMatchObject({
      dynamic: true,
      multiple: false,
      allowNull: false
    })
  })

  it('keeps Segment’s key order; an absent label or description is left out of the JSON', () => {
    expect(Object.keys(JSON.parse(JSON.stringify(fieldOf({ type: 'string' }))))).toEqual([
      'type',
      'required',
      'multiple',
      'allowNull',
      'dynamic',
      'default',
      'choices',
      'placeholder',
      'properties',
      'category',
      'depends_on',
      'readOnly',
      'hidden',
      'minimum',
      'maximum',
      'defaultObjectUI',
      'disabledInputMethods',
      'displayMode',
      'format',
      'additionalProperties'
    ])
  })
})

describe('actions', () => {
  it('hasPerformBatch: whether performBatch is a function', () => {
    expect(actionOf({ perform: noop, performBatch: noop }).hasPerformBatch).toBe(true)
    expect(actionOf({ perform: noop }).hasPerformBatch).toBe(false)
    const actions = publicMetadata(destination).actions as Record<string, Json>
    for (const [key, action] of Object.entries(destination.actions))
      expect(actions[key].hasPerformBatch).toBe(typeof action.performBatch === 'function')
  })

  it('title, description, platform and the optional parts fall back', () => {
    expect(actionOf({})).toEqual({
      title: 'a',
      description: '',
      platform: 'cloud',
      defaultSubscription: null,
      hidden: false,
      hasPerformBatch: false,
      syncMode: null,
      hooks: null,
      dynamicFields: null,
      fields: {}
    })
  })

  it('hooks: only those actions-core knows, outputs from outputTypes', () => {
    const hooks = { onMappingSave: { outputTypes: { id: { type: 'string' } } }, other: { label: 'x' } }
    expect(actionOf({ hooks }).hooks).toEqual({
      onMappingSave: {
        label: 'onMappingSave',
        description: '',
        inputFields: {},
        outputFields: { id: fieldOf({ type: 'string' }) }
      }
    })
  })

  it('dynamicFields: the __keys__ / __values__ handlers per field', () => {
    const dynamicFields = { f: noop, g: { __values__: noop, x: noop }, h: { x: noop } }
    expect(actionOf({ dynamicFields }).dynamicFields).toEqual({ g: ['__values__'] })
    expect(actionOf({ dynamicFields: { f: noop } }).dynamicFields).toBeNull()
  })
})

describe('presets, authentication, audiences', () => {
  it('presets: eventSlug null and mapping {} when absent', () => {
    const presets = [{ name: 'P', subscribe: 'type = "track"', partnerAction: 'a', type: 'automatic' }]
    expect(metadataOf({ name: 'D', actions: {}, presets }).presets).toEqual([
      { ...presets[0], mapping: {}, eventSlug: null }
    ])
    const ours = publicMetadata(destination).presets as Json[]
    expect(ours).toHaveLength(destination.presets?.length ?? 0)
    for (const preset of ours) expect(preset.eventSlug).toBeNull()
  })

  it('authentication: null without it or settings; the scheme defaults to custom', () => {
    expect(metadataOf({ name: 'D', actions: {} }).authentication).toBeNull()
    const settings = { region: { label: 'Region', type: 'string', choices: ['eu'] } }
    expect(metadataOf({ name: 'D', actions: {}, settings }).authentication).toEqual({
      scheme: 'custom',
      fields: {
        region: {
          label: 'Region',
          type: 'string',
          required: false,
          multiple: false,
          choices: [{ label: 'eu', value: 'eu' }],
          default: null,
          depends_on: null
        }
      }
    })
    expect(publicMetadata(destination).authentication).toMatchObject({ scheme: 'custom' })
  })

  it('audienceConfig: null without one; its mode, fields and whether it has audience functions', () => {
    expect(publicMetadata(destination).audienceConfig).toBeNull()
    const audienceConfig = { mode: { type: 'realtime' }, createAudience: noop }
    expect(metadataOf({ name: 'D', actions: {}, audienceConfig }).audienceConfig).toEqual({
      mode: { type: 'realtime' },
      audienceFields: {},
      supportsAudienceFunctions: false
    })
  })
})
