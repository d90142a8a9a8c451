import { PayloadValidationError } from '@segment/actions-core'
import { marshalError } from '../../tools/cli/errors'
import {
  isRememberable,
  isSecretHeader,
  MAX_REMEMBERED_LENGTH,
  RecentSecrets,
  redactBodyText,
  redactHeaders,
  redactSecretKeys,
  Scrubber,
  secretsOfSettings
} from '../../tools/cli/redact'

test('secret headers', () => {
  for (const name of [
    'Authorization',
    'Refersion-Secret-Key',
    'x-api-key',
    'X-Api_Key',
    'Cookie',
    'set-cookie',
    'x-auth-token',
    'proxy-authorization',
    'x-password'
  ]) {
    expect(isSecretHeader(name)).toBe(true)
  }
  for (const name of ['Refersion-Public-Key', 'content-type', 'user-agent', 'retry-after']) {
    expect(isSecretHeader(name)).toBe(false)
  }
  expect(
    redactHeaders([
      ['refersion-secret-key', 's3cr3t-value'],
      ['content-type', 'application/json']
    ])
  ).toEqual({
    'refersion-secret-key': '<redacted>',
    'content-type': 'application/json'
  })
})

test('the secrets of settings: the parsed secret half, or a best guess for a malformed key', () => {
  expect(secretsOfSettings({ apiKey: 'pub.sec_ABCDEFGH' })).toEqual(['sec_ABCDEFGH'])
  expect(secretsOfSettings({ apiKey: ' pub . sec_ABCDEFGH ' })).toEqual(['sec_ABCDEFGH'])
  expect(secretsOfSettings({ apiKey: 'pub.sec_ABCDEFGH typo' })).toEqual(['sec_ABCDEFGH typo', 'sec_ABCDEFGH'])
  expect(secretsOfSettings({ apiKey: 'nodot' })).toEqual([])
  expect(secretsOfSettings({})).toEqual([])
  expect(secretsOfSettings(undefined)).toEqual([])
})

test('Scrubber: long secrets everywhere, short ones as whole tokens, keys too', () => {
  const scrub = new Scrubber(['sec_SUPERSECRET999', 'sec'])
  expect(scrub.text('x sec_SUPERSECRET999y')).toBe('x <redacted>y')
  expect(scrub.text('pub.sec and secret and sec')).toBe('pub.<redacted> and secret and <redacted>')
  expect(scrub.deep({ a: ['sec_SUPERSECRET999'], sec_SUPERSECRET999: 1, n: 2 })).toEqual({
    a: ['<redacted>'],
    '<redacted>': 1,
    n: 2
  })
  expect(new Scrubber([undefined, '']).text('x undefined y')).toBe('x undefined y')
  expect(new Scrubber(['a.b+c']).text('x a.b+c y')).toBe('x <redacted> y')
  // Characters that mean something in a regular expression are plain text here.
  expect(new Scrubber(['(?<x>[a-z]+)\\1*$']).text('see (?<x>[a-z]+)\\1*$ and abc')).toBe('see <redacted> and abc')
  expect(new Scrubber(['ab']).text('ab ab_ abab (ab) ab')).toBe('<redacted> ab_ abab (<redacted>) <redacted>')
})

test('Scrubber: any secret, however long or strange, is replaced by plain search and never fails', () => {
  const huge = `${'é🙂\u0000[('.repeat(400_000)}end`
  const scrub = new Scrubber([huge, 'sec_SUPERSECRET999'])
  expect(scrub.text(`a ${huge} b sec_SUPERSECRET999`)).toBe('a <redacted> b <redacted>')
  expect(scrub.text('short text')).toBe('short text')
  expect(scrub.deep({ [huge]: [huge] })).toEqual({ '<redacted>': ['<redacted>'] })
})

test('the secrets of a malformed key: the rest after the dot and its runs of visible ASCII, at most 8', () => {
  expect(secretsOfSettings({ apiKey: 'pub.sec_ABCDEFGHé' })).toEqual(['sec_ABCDEFGHé', 'sec_ABCDEFGH'])
  expect(secretsOfSettings({ apiKey: 'pub.\u200bsec_ABCDEFGH' })).toEqual(['\u200bsec_ABCDEFGH', 'sec_ABCDEFGH'])
  const many = secretsOfSettings({ apiKey: `pub.${'abcdefghij '.repeat(100_000)}` })
  expect(many).toHaveLength(8)
})

test('recent secrets are bounded in number, and only plausible keys are remembered', () => {
  const recent = new RecentSecrets(2)
  recent.add(['one-secret', 'two-secret', 'three-secret'])
  expect(recent.all).toEqual(['two-secret', 'three-secret'])
  // Too short to be a key (and replaced only as a whole token), too long, or not visible ASCII: not kept.
  recent.add(['sec', 'x'.repeat(MAX_REMEMBERED_LENGTH + 1), 'secret with space', 'sécret-key-1'])
  expect(recent.all).toEqual(['two-secret', 'three-secret'])
  expect(isRememberable('x'.repeat(MAX_REMEMBERED_LENGTH))).toBe(true)
})

test('password values are redacted in bodies; other JSON text is kept exactly as sent', () => {
  expect(redactBodyText('{"email":"a@b.c","password":"Xy1!xxxxx"}')).toBe('{"email":"a@b.c","password":"<redacted>"}')
  expect(redactBodyText('{ "email": "a@b.c" }')).toBe('{ "email": "a@b.c" }')
  expect(redactBodyText('not json')).toBe('not json')
  expect(redactSecretKeys({ affiliates: [{ id: 1, new_password: 'x' }], password: '' })).toEqual({
    affiliates: [{ id: 1, new_password: '<redacted>' }],
    password: ''
  })
})

test('marshalError: status, stack lines, and fields for validation errors from the fields they declare', () => {
  const declared = marshalError(
    Object.assign(new PayloadValidationError('map "Email" (traits.email) or "User ID"'), {
      field: 'email',
      fields: ['userId', 7, '']
    })
  )
  expect(declared).toMatchObject({ statusCode: 400, requestError: true })
  expect(declared.fields).toEqual({
    email: 'map "Email" (traits.email) or "User ID"',
    userId: 'map "Email" (traits.email) or "User ID"'
  })
  expect(declared.stack[0]).toMatch(/PayloadValidationError|Error/)
  // A message that quotes field labels names no field by itself: only structured data counts.
  expect(marshalError(new PayloadValidationError('map "Email" (traits.email)')).fields).toBeUndefined()

  const plain = marshalError(new Error('boom'))
  expect(plain).toMatchObject({ statusCode: 500, message: 'boom', requestError: true })
  expect(plain.fields).toBeUndefined()
  expect(marshalError('text')).toMatchObject({ statusCode: 500, message: 'text' })
})

test("marshalError: actions-core's schema errors name fields by their paths", () => {
  const error = Object.assign(new Error('The value at /email must be an email. Missing name.'), {
    name: 'AggregateAjvError',
    errors: [
      { pointer: '/email', path: '$.email', message: 'The value at /email must be an email.' },
      { pointer: '/address/city', path: '$.address.city', message: 'Bad city.' },
      { pointer: '', path: '$', message: 'Missing.', original: { params: { missingProperty: 'name' } } },
      { pointer: '/items/0', path: '$.items[0]', message: "The value is missing the required field 'sku'." }
    ]
  })
  expect(marshalError(error).fields).toEqual({
    email: 'The value at /email must be an email.',
    'address.city': 'Bad city.',
    name: 'Missing.',
    'items[0].sku': "The value is missing the required field 'sku'."
  })
})
