import { IntegrationError } from '@segment/actions-core'
import type { RequestClient } from '@segment/actions-core'
import { API_KEY_FORMAT, parseApiKey, secretOf } from '../lib/auth'
import { baseUrl, DEFAULT_BASE_URL, RefersionClient } from '../lib/client'
import { numericId, sameEmail } from '../lib/normalise'
import { useRefersionEnv } from './__helpers__/refersion'

// REFERSION_BASE_URL unset (production) unless a test says otherwise.
useRefersionEnv()

describe('API key (publickey.secretkey)', () => {
  it('splits at the first dot and trims each half', () => {
    expect(parseApiKey('pub.sec')).toEqual({ publicKey: 'pub', secretKey: 'sec' })
    expect(parseApiKey('pub_1.sec.more')).toEqual({ publicKey: 'pub_1', secretKey: 'sec.more' })
    expect(parseApiKey('  pub_1 . sec_2  ')).toEqual({ publicKey: 'pub_1', secretKey: 'sec_2' })
  })

  it.each([
    ['no dot', 'pub_ab12sec_cd34'],
    ['empty public half', '.s3cr3tXYZ'],
    ['empty secret half', 'pub_ab12.'],
    ['blank halves', ' . '],
    ['a space inside the secret', 'pub_ab12.s3cr3t XYZ'],
    ['non-ASCII in the secret', 'pub_ab12.s3crét9'],
    ['non-ASCII in the public key', 'püb_ab12.s3cr3tXYZ'],
    ['a control character', 'pub_ab12.s3cr\tXYZ'],
    ['empty', ''],
    ['not a string', 42]
  ])('rejects %s with a 400 IntegrationError naming the format', (_, apiKey) => {
    let error: unknown
    try {
      parseApiKey(apiKey)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(IntegrationError)
    const err = error as IntegrationError
    expect(err.status).toBe(400)
    expect(err.message).toContain('publickey.secretkey')
    expect(err.message).toContain(API_KEY_FORMAT)
    if (typeof apiKey === 'string') {
      const secret = apiKey.includes('.') ? apiKey.slice(apiKey.indexOf('.') + 1).trim() : apiKey.trim()
      if (secret) expect(err.message).not.toContain(secret)
    }
    expect(secretOf(apiKey)).toBeUndefined()
  })

  it('secretOf returns the secret half of a valid key', () => {
    expect(secretOf('pub.sec.more')).toBe('sec.more')
  })
})

describe('base URL', () => {
  it('is production when REFERSION_BASE_URL is unset or blank', () => {
    expect(DEFAULT_BASE_URL).toBe('https://api.refersion.com/v2')
    expect(baseUrl({})).toBe('https://api.refersion.com/v2')
    expect(baseUrl({ REFERSION_BASE_URL: '  ' })).toBe('https://api.refersion.com/v2')
    expect(process.env.REFERSION_BASE_URL).toBeUndefined()
    expect(baseUrl()).toBe('https://api.refersion.com/v2')
  })

  it('follows REFERSION_BASE_URL when set (trailing slashes dropped)', () => {
    expect(baseUrl({ REFERSION_BASE_URL: 'http://127.0.0.1:4010/v2/' })).toBe('http://127.0.0.1:4010/v2')
  })
})

describe('affiliate helpers', () => {
  it('numericId accepts positive integers and digit strings only', () => {
    expect(numericId(42)).toBe(42)
    expect(numericId('42')).toBe(42)
    expect(numericId(' 42 ')).toBe(42)
    for (const value of ['a3y7', '0', 0, -1, 1.5, '', null, undefined, '12a']) expect(numericId(value)).toBeUndefined()
  })

  it('sameEmail compares exactly, ignoring case and surrounding space', () => {
    expect(sameEmail('Peter@Initech.com', 'peter@initech.com ')).toBe(true)
    expect(sameEmail('jpeter@initech.com', 'peter@initech.com')).toBe(false)
    expect(sameEmail('peter@initech.com.au', 'peter@initech.com')).toBe(false)
    expect(sameEmail(undefined, undefined)).toBe(false)
  })
})

describe('RefersionClient.addTrigger', () => {
  // What the client reads of a response's headers (jest 27's node environment has no global Headers).
  const headers = { get: (): string | null => null }
  const request = (async (url: string, options: { json?: unknown }) => {
    const body = options.json as { trigger: string }
    if (body.trigger === 'DUP10') {
      return {
        status: 422,
        data: { errors: ['Conversion trigger already exists for this affiliate.'] },
        headers
      }
    }
    if (body.trigger === 'BAD') return { status: 422, data: { errors: ['Affiliate not found.'] }, headers }
    return { status: 200, data: { trigger_id: 77, trigger: body.trigger, url }, headers }
  }) as unknown as RequestClient

  it('adds a trigger, counts "already exists" as done, and keeps other 422s as final errors', async () => {
    const client = new RefersionClient(request)
    await expect(client.addTrigger('a3y7', 'COUPON', 'SAVE10')).resolves.toEqual({ outcome: 'added', triggerId: 77 })
    await expect(client.addTrigger('a3y7', 'COUPON', 'DUP10')).resolves.toEqual({ outcome: 'exists' })
    await expect(client.addTrigger('a3y7', 'COUPON', 'BAD')).rejects.toThrow(/Affiliate not found/)
  })
})
