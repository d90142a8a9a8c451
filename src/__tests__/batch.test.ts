import { setImmediate as realSetImmediate } from 'node:timers'
import { MAX_BATCH_BACKOFF_MS, MAX_RETRY_AFTER_MS, runBounded } from '../lib/batch'
import { RefersionRetryableError } from '../lib/errors'

describe('runBounded rate-limit budget', () => {
  afterEach(() => jest.useRealTimers())

  it('stops sending once the batch has been paused more than MAX_BATCH_BACKOFF_MS in all (wall clock)', async () => {
    jest.useFakeTimers()
    let calls = 0
    let settled = false
    const run = runBounded(
      Array.from({ length: 30 }, (_, i) => i),
      async () => {
        calls++
        throw new RefersionRetryableError('Refersion answered 429', 429, MAX_RETRY_AFTER_MS)
      },
      1
    ).finally(() => {
      settled = true
    })
    // The fake clock moves 100 ms at a time and the pending promises run in between: what jest 30's
    // advanceTimersByTimeAsync does, which jest 27 (Segment's monorepo) lacks. The real setImmediate (node:timers,
    // which fake timers leave alone) lets every queued continuation run.
    for (let elapsed = 0; elapsed < MAX_BATCH_BACKOFF_MS * 3 && !settled; elapsed += 100) {
      await new Promise((resolve) => realSetImmediate(resolve))
      jest.advanceTimersByTime(100)
    }
    const results = await run
    // Pauses of 5 s each: after the third the batch has paused 15 s > 10 s, so nothing more is sent.
    expect(calls).toBe(Math.floor(MAX_BATCH_BACKOFF_MS / MAX_RETRY_AFTER_MS) + 1)
    expect(results.every((r) => !r.ok)).toBe(true)
    const notSent = results.slice(calls).map((r) => (r.ok ? '' : String((r.error as Error).message)))
    expect(notSent.every((m) => m.startsWith('Not sent'))).toBe(true)
  })
})
