import type { DestinationDefinition } from '@segment/actions-core'
import destination from '../../src'
import { validateDefinition } from '../../tools/cli/validate'

type Definition = DestinationDefinition<unknown>
type Loose = Record<string, unknown>

/** A deep copy of the real definition (functions kept) to break one thing at a time. */
function broken(change: (d: Definition) => void): Definition {
  const copy = {
    ...destination,
    authentication: { ...destination.authentication!, fields: { ...destination.authentication!.fields } },
    presets: destination.presets?.map((p) => ({ ...p })),
    actions: Object.fromEntries(
      Object.entries(destination.actions).map(([slug, action]) => [
        slug,
        {
          ...action,
          fields: Object.fromEntries(Object.entries(action.fields).map(([key, field]) => [key, { ...field }]))
        }
      ])
    )
  } as unknown as Definition
  change(copy)
  return copy
}

test('the real definition has no problems', () => {
  expect(validateDefinition(destination)).toEqual([])
})

test.each<[string, (d: Definition) => void, RegExp]>([
  ['a field without a label', (d) => void (d.actions.createAffiliate.fields.phone.label = ''), /"phone": has no label/],
  [
    'a field without a description',
    (d) => void delete (d.actions.deleteAffiliate.fields.status as unknown as Loose).description,
    /"status": has no description/
  ],
  [
    'an auth field without a description',
    (d) => void (d.authentication!.fields.apiKey = { label: 'API Key', type: 'password', description: '' }),
    /authentication field "apiKey": has no description/
  ],
  [
    'an invalid mapping directive',
    (d) => void (d.actions.createAffiliate.fields.phone.default = { '@pathx': '$.traits.phone' } as never),
    /"phone": default mapping is not a valid mapping-kit directive/
  ],
  [
    'a directive with a wrong argument',
    (d) => void (d.actions.createAffiliate.fields.name.default = { '@path': 42 } as never),
    /"name": default mapping is not a valid mapping-kit directive: .*@path should be a string/
  ],
  [
    'a default outside the choices',
    (d) => void (d.actions.createAffiliate.fields.status.default = 'APPROVED'),
    /"status": default "APPROVED" is not one of its choices/
  ],
  [
    'a literal default of the wrong type',
    (d) => void (d.actions.createAffiliate.fields.sendWelcome.default = 'yes'),
    /"sendWelcome": default "yes" does not match its type "boolean"/
  ],
  [
    'a required field with neither default nor description',
    (d) =>
      void (d.actions.deleteAffiliate.fields.affiliateId = {
        label: 'Affiliate ID',
        type: 'string',
        required: true
      } as never),
    /"affiliateId": is required but has neither a default mapping nor a description/
  ],
  [
    'a preset for a missing action',
    (d) => void (d.presets![0] = { ...d.presets![0], partnerAction: 'createPartner' } as never),
    /partnerAction "createPartner" is not an action/
  ],
  [
    'a preset whose subscription does not parse',
    (d) => void (d.presets![0] = { ...d.presets![0], subscribe: '' } as never),
    /preset "Create Affiliate": subscribe does not parse/
  ],
  [
    'a preset that maps a field the action does not have',
    (d) => void (d.presets![0] = { ...d.presets![0], mapping: { nickname: { '@path': '$.traits.nick' } } } as never),
    /maps "nickname", which is not a field/
  ],
  [
    'a bad slug',
    (d) => void ((d as { slug?: string }).slug = 'Refersion'),
    /slug "Refersion" must look like actions-<product>/
  ],
  ['no name', (d) => void ((d as { name: string }).name = ''), /name is missing/],
  ['a wrong mode', (d) => void ((d as { mode: string }).mode = 'server'), /mode must be "cloud"/],
  [
    'performBatch without enable_batching',
    (d) => void delete d.actions.createAffiliate.fields.enable_batching,
    /"createAffiliate": has performBatch but no enable_batching field/
  ],
  [
    'an unparsable defaultSubscription',
    (d) => void (d.actions.createAffiliate.defaultSubscription = ''),
    /defaultSubscription does not parse/
  ]
])('catches %s', (_name, change, expected) => {
  const problems = validateDefinition(broken(change))
  expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]))
})

test('reports every problem, not just the first', () => {
  const problems = validateDefinition(
    broken((d) => {
      d.actions.createAffiliate.fields.phone.label = ''
      d.actions.deleteAffiliate.fields.userId.description = ''
    })
  )
  expect(problems).toHaveLength(2)
})
