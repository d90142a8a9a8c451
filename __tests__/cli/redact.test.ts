import { PayloadValidationError } from '@segment/actions-core'
import { marshalError } from '../../tools/cli/errors'
import {
  isSecretHeader,
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
  expect(new Scrubber([undefined, '']).empty).toBe(true)
  expect(new Scrubber(['a.b+c']).text('x a.b+c y')).toBe('x <redacted> y')
})

test('recent secrets are bounded', () => {
  const recent = new RecentSecrets(2)
  recent.add(['one-secret', 'two-secret', 'three-secret'])
  expect(recent.all).toEqual(['two-secret', 'three-secret'])
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

test('marshalError: status, stack lines, and fields for validation errors', () => {
  const labelled = marshalError(new PayloadValidationError('map "Email" (traits.email) or "User ID"'), {
    email: 'Email',
    userId: 'User ID',
    name: 'Name'
  })
  expect(labelled).toMatchObject({ statusCode: 400, requestError: true })
  expect(Object.keys(labelled.fields ?? {})).toEqual(['email', 'userId'])
  expect(labelled.stack[0]).toMatch(/PayloadValidationError|Error/)

  const plain = marshalError(new Error('boom'))
  expect(plain).toMatchObject({ statusCode: 500, message: 'boom', requestError: true })
  expect(plain.fields).toBeUndefined()
  expect(marshalError('text')).toMatchObject({ statusCode: 500, message: 'text' })
})
