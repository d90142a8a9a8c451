import nock from 'nock'
import {
  createTestIntegration,
  IntegrationError,
  InvalidAuthenticationError,
  PayloadValidationError,
  RetryableError
} from '@segment/actions-core'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import destination from '../index'
import {
  AffiliateNotFoundError,
  bodyReportsError,
  errorFromResponse,
  isRetryable,
  parseRetryAfter,
  RefersionApiError,
  RefersionRetryableError,
  refersionMessages
} from '../lib/errors'
import {
  caught,
  docsIdentify,
  newAffiliateBody,
  p,
  PETER_BODY,
  refersion,
  SECRET_KEY,
  settings,
  useOfflineNock
} from './__helpers__/refersion'

const testDestination = createTestIntegration(destination)

useOfflineNock()

const create = () => {
  testDestination.responses = []
  return testDestination.testAction('createAffiliate', { event: docsIdentify(), settings, useDefaultMappings: true })
}

const removeById = (mapping: JSONObject = { affiliateId: '101' }) => {
  testDestination.responses = []
  return testDestination.testAction('deleteAffiliate', {
    event: { type: 'delete', userId: 'u-1' } as Partial<SegmentEvent>,
    settings,
    mapping,
    useDefaultMappings: true
  })
}

/** Answers /affiliate/new with the given status, body and headers, and returns what the action threw. */
async function createAnswered(status: number, body?: unknown, headers: Record<string, string> = {}) {
  const scope = refersion()
    .post(p('/affiliate/new'), newAffiliateBody(PETER_BODY))
    .reply(status, body as nock.Body, headers)
  const error = await caught(create)
  expect(scope.isDone()).toBe(true)
  // Never a nock matching/network failure in disguise.
  expect(error.message).not.toMatch(/Nock/)
  return error
}

describe('Refersion answers → Segment errors', () => {
  it('401 → InvalidAuthenticationError (not retried), with Refersion text and without the secret', async () => {
    const error = await createAnswered(401, { error: 'Invalid API credentials (error 2).' })
    expect(error).toBeInstanceOf(InvalidAuthenticationError)
    expect(error.status).toBe(401)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('Invalid API credentials (error 2).')
    expect(error.message).toContain('publickey.secretkey')
    expect(error.message).not.toContain(SECRET_KEY)
  })

  it.each([
    [400, { error: 'Invalid request: first_name is required' }, 'Invalid request: first_name is required'],
    [404, { error: 'Bad request, no body' }, 'Bad request, no body'],
    [422, { errors: ['XX is not a allowed value for field country'] }, 'XX is not a allowed value for field country'],
    [422, { error: ['Your account plan does not support this feature (error 1)'] }, 'does not support this feature'],
    [400, { errors: ['first problem', 'second problem'] }, 'first problem second problem']
  ])('%i %j → final error carrying Refersion text', async (status, body, text) => {
    const error = await createAnswered(status, body)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(error).toBeInstanceOf(IntegrationError)
    expect(error).not.toBeInstanceOf(RetryableError)
    expect(error.status).toBe(status)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain(text)
    expect(error.message).toContain('/affiliate/new')
  })

  it('204 carrying {"error":"invalid field"} → final error, not success', async () => {
    const error = await createAnswered(204, { error: 'invalid field' })
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('204')
  })

  it('200 whose body is only {"errors":[...]} → final error carrying the text', async () => {
    const error = await createAnswered(200, { errors: ['offer 999 does not exist'] })
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('offer 999 does not exist')
  })

  it('200 without a JSON object body → error, not success', async () => {
    const error = await createAnswered(200, 'OK')
    expect(error).toBeInstanceOf(RefersionApiError)
  })

  it('429 with Retry-After → RetryableError with status 429 and the wait', async () => {
    const error = await createAnswered(429, { error: 'Too many requests' }, { 'Retry-After': '7' })
    expect(error).toBeInstanceOf(RetryableError)
    expect(error).toBeInstanceOf(RefersionRetryableError)
    expect(error.status).toBe(429)
    expect(error.retryAfterMs).toBe(7000)
    expect(isRetryable(error)).toBe(true)
  })

  it('429 without Retry-After → still retryable', async () => {
    const error = await createAnswered(429, { error: 'Too many requests' })
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.status).toBe(429)
  })

  it('429 "Max number of elements on attribute (50) reached." → NOT retryable', async () => {
    const scope = refersion()
      .post(p('/affiliate/status_change'), { ids: [101], status: 'DISABLED' })
      .reply(429, { errors: ['Max number of elements on attribute (50) reached.'] })
    const error = await caught(() => removeById())
    expect(scope.isDone()).toBe(true)
    expect(error).not.toBeInstanceOf(RetryableError)
    expect(error).toBeInstanceOf(RefersionApiError)
    expect(isRetryable(error)).toBe(false)
    expect(error.message).toContain('Max number of elements on attribute (50) reached.')
  })

  it.each([500, 502, 503, 504])('%i → RetryableError keeping the status', async (status) => {
    const error = await createAnswered(status, { error: 'Internal Server Error' })
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.status).toBe(status)
    expect(isRetryable(error)).toBe(true)
  })

  it('5xx with an HTML body → still retryable', async () => {
    const error = await createAnswered(503, '<html>Service Unavailable</html>', { 'Content-Type': 'text/html' })
    expect(error).toBeInstanceOf(RetryableError)
  })

  it('501 → not retryable', async () => {
    const error = await createAnswered(501, { error: 'Not Implemented' })
    expect(error).not.toBeInstanceOf(RetryableError)
    expect(isRetryable(error)).toBe(false)
    expect(error.status).toBe(501)
  })

  it('connection reset → RetryableError', async () => {
    const scope = refersion()
      .post(p('/affiliate/new'))
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
    const error = await caught(create)
    expect(scope.isDone()).toBe(true)
    expect(error).toBeInstanceOf(RetryableError)
    expect(isRetryable(error)).toBe(true)
    expect(error.message).toContain('ECONNRESET')
  })

  describe('timeout', () => {
    const saved = process.env.REFERSION_TIMEOUT_MS
    beforeEach(() => {
      process.env.REFERSION_TIMEOUT_MS = '50'
    })
    afterEach(() => {
      if (saved === undefined) delete process.env.REFERSION_TIMEOUT_MS
      else process.env.REFERSION_TIMEOUT_MS = saved
    })

    it('a response slower than REFERSION_TIMEOUT_MS → RetryableError', async () => {
      const scope = refersion().post(p('/affiliate/new')).delay(1000).reply(200, { id: 'late' })
      const started = Date.now()
      const error = await caught(create)
      expect(Date.now() - started).toBeLessThan(900)
      expect(scope.isDone()).toBe(true)
      expect(error).toBeInstanceOf(RetryableError)
      expect(isRetryable(error)).toBe(true)
      expect(error.message).toMatch(/in time/)
    })
  })

  it('redacts the secret key when a Refersion error body echoes it', async () => {
    const echoed = `Invalid key pair pub_5a1e9f0c3b / ${SECRET_KEY}`
    for (const [status, body] of [
      [422, { errors: [echoed] }],
      [401, { error: echoed }],
      [500, { error: echoed }]
    ] as const) {
      const error = await createAnswered(status, body)
      expect(error.message).not.toContain(SECRET_KEY)
      expect(error.message).toContain('<redacted>')
    }
  })

  it('does not retry inside the destination: one failed answer, one request', async () => {
    const scope = refersion().post(p('/affiliate/new')).reply(503, {})
    const error = await caught(create)
    expect(error).toBeInstanceOf(RetryableError)
    expect(scope.isDone()).toBe(true)
    expect(testDestination.responses).toHaveLength(1)
  })
})

describe('errors.ts helpers', () => {
  const keep = (text: string) => text

  it('refersionMessages reads error strings, error arrays and errors arrays', () => {
    expect(refersionMessages({ error: 'a' })).toEqual(['a'])
    expect(refersionMessages({ error: ['a', 'b'] })).toEqual(['a', 'b'])
    expect(refersionMessages({ errors: ['a', ' b '] })).toEqual(['a', 'b'])
    expect(refersionMessages({ message: 'm' })).toEqual(['m'])
    expect(refersionMessages({ error: 'e', message: 'm' })).toEqual(['e'])
    expect(refersionMessages(' plain text ')).toEqual(['plain text'])
    expect(refersionMessages(null)).toEqual([])
    expect(refersionMessages({})).toEqual([])
  })

  it('bodyReportsError: error/errors without a result', () => {
    expect(bodyReportsError({ errors: ['x'] })).toBe(true)
    expect(bodyReportsError({ error: 'x' })).toBe(true)
    expect(bodyReportsError({ error: ['x'] })).toBe(true)
    expect(bodyReportsError({ error: '' })).toBe(false)
    expect(bodyReportsError({ errors: [] })).toBe(false)
    expect(bodyReportsError({ ids_changed: [1], errors: ['x'] })).toBe(false)
    expect(bodyReportsError({ total: 1, results: [] })).toBe(false)
  })

  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2024-01-01T00:00:00Z')
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  it('errorFromResponse maps statuses', () => {
    expect(errorFromResponse('/x', 429, {}, '2', keep)).toBeInstanceOf(RefersionRetryableError)
    expect(errorFromResponse('/x', 503, {}, null, keep)).toBeInstanceOf(RetryableError)
    expect(isRetryable(errorFromResponse('/x', 501, {}, null, keep))).toBe(false)
    expect(isRetryable(errorFromResponse('/x', 422, { errors: ['x'] }, null, keep))).toBe(false)
    expect(isRetryable(errorFromResponse('/x', 204, { error: 'invalid field' }, null, keep))).toBe(false)
    const limit = errorFromResponse(
      '/x',
      429,
      { errors: ['Max number of elements on attribute (50) reached.'] },
      '1',
      keep
    )
    expect(isRetryable(limit)).toBe(false)
  })

  it('isRetryable follows the error classes', () => {
    expect(isRetryable(new RetryableError('x', 503))).toBe(true)
    expect(isRetryable(new RefersionRetryableError('x', 429))).toBe(true)
    expect(isRetryable(new PayloadValidationError('x'))).toBe(false)
    expect(isRetryable(new InvalidAuthenticationError('x'))).toBe(false)
    expect(isRetryable(new AffiliateNotFoundError('x'))).toBe(false)
    expect(isRetryable(new RefersionApiError('x', { status: 422, refersionStatus: 422 }))).toBe(false)
  })
})
