/**
 * Fault injection: thousands of identify and delete events through `execute` and `executeBatch` against the
 * sandbox while it answers 429 (with Retry-After), 500 and 503, resets connections, stalls past the request
 * timeout and applies creates before dropping the connection. A Segment-like loop redelivers what is
 * retryable; afterwards every event must be accounted for, correctly classified, and Refersion's state must
 * equal the model exactly. The figures go to stdout (`RELIABILITY: …`) and to `.last-run.json`.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { JSONObject } from '@segment/actions-core'
import { startSandbox } from '../../tools/sandbox'
import type { RunningSandbox, SandboxFaults } from '../../tools/sandbox'
import { affiliateCache } from '../../src/lib/affiliate-cache'
import { isRetryable, RefersionRetryableError } from '../../src/lib/errors'
import {
  addCounts,
  BatchItem,
  deliverBatches,
  deliverDeletion,
  deliverOne,
  destination,
  drained,
  Final,
  mappingOf,
  pool,
  SECRET_KEY,
  SETTINGS,
  TextSink,
  useSandboxEnv
} from './helpers'
import {
  compareState,
  CREATE_OVERRIDES,
  DELETE_OVERRIDES,
  deletion,
  identify,
  invalidDeletes,
  invalidIdentifies,
  Model,
  people,
  Person,
  rejectedIdentify,
  Rng,
  rngOf,
  Step,
  wrongOutcome
} from './scenario'

const SEED = 20260105
// A loaded machine makes these runs slower, not wrong: jest's default 30 s would end a test mid-run and leave its
// events landing in the next test's sandbox.
const LONG_TEST_MS = 180_000
const TIMEOUT_MS = 300
const FAULTS: Partial<SandboxFaults> = {
  errorRates: { 429: 0.015, 500: 0.015, 503: 0.015 },
  resetRate: 0.015,
  applyThenDropRate: 0.02,
  spikeRate: 0.005,
  spikeMs: 450,
  retryAfterSeconds: 0
}
const NO_FAULTS: Partial<SandboxFaults> = {
  errorRates: {},
  resetRate: 0,
  applyThenDropRate: 0,
  spikeRate: 0,
  latencyMs: 0
}
const SINGLE_PEOPLE = 260
const BATCH_PEOPLE = 340
const CONCURRENCY = 16

const createMapping = mappingOf('createAffiliate', CREATE_OVERRIDES)
const deleteMapping = mappingOf('deleteAffiliate', DELETE_OVERRIDES)

interface Figures {
  seed: number
  eventsDriven: number
  identifyEvents: number
  deleteEvents: number
  /** Events per delivery path: `execute` (perform), `executeBatch` (performBatch), `onDelete`. */
  byPath: Record<string, number>
  attempts: number
  requests: number
  faultsInjected: Record<string, number>
  retriedEvents: number
  finalErrors: number
  lost: number
  misclassified: number
  duplicated: number
  stateMismatches: number
  leaked: number
  durationMs: number
}

const figures: Figures = {
  seed: SEED,
  eventsDriven: 0,
  identifyEvents: 0,
  deleteEvents: 0,
  byPath: {},
  attempts: 0,
  requests: 0,
  faultsInjected: {},
  retriedEvents: 0,
  finalErrors: 0,
  lost: 0,
  misclassified: 0,
  duplicated: 0,
  stateMismatches: 0,
  leaked: 0,
  durationMs: 0
}
const started = Date.now()
const sink = new TextSink()
let sandbox: RunningSandbox
beforeAll(async () => {
  // Deletions by userId alone (and onDelete) find affiliates only through unique_merchant_id: model that reading.
  sandbox = await startSandbox({ seed: SEED, ...FAULTS, searchMerchantId: true })
})
useSandboxEnv(() => sandbox, TIMEOUT_MS)
// These runs keep the affiliate cache on (a cache must never cause a wrong final state: verifyState checks it).
// Each test resets the sandbox, whose ids then start again — Refersion never reuses an id — so the process's
// cache is emptied with it.
beforeEach(() => affiliateCache.clear())

afterAll(() => {
  figures.leaked = sink.leaks(SECRET_KEY).length
  figures.durationMs = Date.now() - started
  const file = path.join(__dirname, '.last-run.json')
  writeFileSync(file, JSON.stringify({ ...figures, writtenAt: new Date().toISOString() }, null, 2) + '\n')
  console.log(`RELIABILITY: ${JSON.stringify(figures)}`)
})

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

/** Accounts a phase: model expectations vs. finals; returns the problems found. */
function account(
  steps: readonly Step[],
  finals: readonly Final[],
  model: Model,
  path: 'execute' | 'executeBatch'
): string[] {
  const problems: string[] = []
  if (finals.length !== steps.length) problems.push(`${steps.length} events but ${finals.length} outcomes`)
  steps.forEach((step, i) => {
    const expected = model.apply(step)
    const final = finals[i]
    figures.eventsDriven++
    const via = step.action === 'onDelete' ? 'onDelete' : path
    figures.byPath[via] = (figures.byPath[via] ?? 0) + 1
    if (step.action === 'createAffiliate') figures.identifyEvents++
    else figures.deleteEvents++
    if (!final) {
      figures.lost++
      problems.push(`${step.label}: no outcome`)
      return
    }
    figures.attempts += final.attempts
    if (final.attempts > 1) figures.retriedEvents++
    if (final.kind === 'failed') figures.finalErrors++
    const wrong = wrongOutcome(step, expected, final)
    if (wrong) {
      if (expected.kind === 'success' || final.kind === 'exhausted') figures.lost++
      else figures.misclassified++
      problems.push(wrong)
    }
  })
  return problems
}

async function settle(): Promise<void> {
  await drained(sandbox)
}

function collectStats(): void {
  const stats = sandbox.stats()
  figures.requests += stats.total
  addCounts(figures.faultsInjected, stats.faultsInjected)
}

function verifyState(model: Model): void {
  const check = compareState(sandbox.store.all(), model)
  figures.duplicated += check.duplicated
  figures.stateMismatches += check.missing.length + check.extra.length + check.mismatched.length
  expect(check.duplicated).toBe(0)
  expect(check.missing).toEqual([])
  expect(check.extra).toEqual([])
  expect(check.mismatched).toEqual([])
}

/** Delete steps for a share of `persons`: anonymous people by email, the others by email, userId or onDelete. */
function deletions(rng: Rng, persons: Person[], allowOnDelete: boolean): Step[] {
  return persons.map((person) => {
    if (!person.userId) return deletion(rng, person, 'email')
    const r = rng()
    const by = r < 0.4 ? 'email' : r < 0.7 || !allowOnDelete ? 'userId' : 'onDelete'
    return deletion(rng, person, by, by !== 'onDelete' && rng() < 0.15 ? 'DENIED' : 'DISABLED')
  })
}

async function deliverSingle(steps: readonly Step[]): Promise<Final[]> {
  return pool(steps, CONCURRENCY, (step) => {
    if (step.action === 'onDelete') return deliverDeletion(String(step.event.userId), sink)
    const mapping = step.action === 'createAffiliate' ? createMapping : deleteMapping
    return deliverOne(step.action, step.event, mapping, sink)
  })
}

describe('fault injection against the sandbox', () => {
  it(
    'execute: identify → changed identifies → delete → identify again, under every fault kind',
    async () => {
      sandbox.reset()
      const rng = rngOf(SEED)
      const model = new Model()
      const persons = people(rng, 'single', SINGLE_PEOPLE)
      const newRejected: Person[] = [0, 1, 2].map((i) => ({ key: `single-rej-${i}`, email: `rejected.${i}@rel.test` }))

      const phases: Step[][] = []
      phases.push(
        shuffle(rng, [
          ...persons.map((p) => identify(rng, p, 1)),
          ...invalidIdentifies('single'),
          ...newRejected.map((p) => rejectedIdentify(rng, p))
        ])
      )
      phases.push(
        shuffle(
          rng,
          persons.filter(() => rng() < 0.85).map((p) => (rng() < 0.07 ? rejectedIdentify(rng, p) : identify(rng, p, 2)))
        )
      )
      phases.push(shuffle(rng, [...persons.filter(() => rng() < 0.5).map((p) => identify(rng, p, 3))]))
      const deleted = persons.filter(() => rng() < 0.6)
      const deletes = deletions(rng, deleted, true)
      // The same deletion delivered twice (Segment only deduplicates by messageId): both succeed.
      const again = deletes.filter((d) => d.action === 'deleteAffiliate').slice(0, 6)
      phases.push(shuffle(rng, [...deletes, ...again.map((d) => ({ ...d })), ...invalidDeletes('single')]))
      phases.push(
        shuffle(
          rng,
          deleted.slice(0, 25).map((p) => identify(rng, p, 4))
        )
      )

      const problems: string[] = []
      for (const phase of phases) {
        const finals = await deliverSingle(phase)
        await settle()
        problems.push(...account(phase, finals, model, 'execute'))
      }
      collectStats()
      expect(problems).toEqual([])
      verifyState(model)
      expect(sink.leaks(SECRET_KEY)).toEqual([])
    },
    LONG_TEST_MS
  )

  it(
    'executeBatch: a person’s identifies in one batch, then batched deletes, under every fault kind',
    async () => {
      sandbox.reset()
      const rng = rngOf(SEED + 1)
      const model = new Model()
      const persons = people(rng, 'batch', BATCH_PEOPLE)
      const newRejected: Person[] = [0, 1, 2].map((i) => ({ key: `batch-rej-${i}`, email: `rejected.b${i}@rel.test` }))

      // Phase 1: every person's identifies travel together (in order) in the same batch.
      const groups: Step[][] = persons.map((p) => {
        const group = [identify(rng, p, 1)]
        if (rng() < 0.7) group.push(identify(rng, p, 2))
        // A repeated identify Refersion rejects, followed by a good one: the rejection must not take it down.
        if (rng() < 0.1) group.push(rejectedIdentify(rng, p), identify(rng, p, 3))
        else if (rng() < 0.4) group.push(identify(rng, p, 3))
        return group
      })
      for (const step of invalidIdentifies('batch')) groups.push([step])
      for (const p of newRejected) groups.push([rejectedIdentify(rng, p)])
      const identifies = shuffle(rng, groups)

      const deleted = persons.filter(() => rng() < 0.6)
      const deletes = deletions(rng, deleted, false)
      const again = deletes.slice(0, 6).map((d) => ({ ...d }))
      const deletePhase = shuffle(rng, [...deletes, ...again, ...invalidDeletes('batch')])
      const reidentify = shuffle(
        rng,
        deleted.slice(0, 30).map((p) => identify(rng, p, 4))
      )

      const problems: string[] = []
      const run = async (slug: 'createAffiliate' | 'deleteAffiliate', stepGroups: Step[][]) => {
        const steps = stepGroups.flat()
        const items: BatchItem[] = stepGroups.flatMap((group, g) =>
          group.map((step) => ({ group: `g${g}`, event: step.event }))
        )
        const mapping = slug === 'createAffiliate' ? createMapping : deleteMapping
        const finals = await deliverBatches(slug, items, mapping, sink, {
          batchSize: 50,
          concurrency: 3,
          between: settle
        })
        problems.push(...account(steps, finals, model, 'executeBatch'))
      }
      await run('createAffiliate', identifies)
      await run(
        'deleteAffiliate',
        deletePhase.map((step) => [step])
      )
      await run(
        'createAffiliate',
        reidentify.map((step) => [step])
      )
      collectStats()
      expect(problems).toEqual([])
      verifyState(model)
      expect(sink.leaks(SECRET_KEY)).toEqual([])
    },
    LONG_TEST_MS
  )

  it('invalid events end as final 400/404 on their first attempt when Refersion is healthy', async () => {
    sandbox.reset()
    sandbox.setFaults(NO_FAULTS)
    const model = new Model()
    const rng = rngOf(SEED + 2)
    const existing = people(rng, 'healthy', 2)
    const setup = existing.map((p) => identify(rng, p, 1))
    const steps = [...invalidIdentifies('healthy'), ...invalidDeletes('healthy'), rejectedIdentify(rng, existing[1])]
    const problems = account(setup, await deliverSingle(setup), model, 'execute')
    // Events refused by validation never reach Refersion, whichever path they take.
    const refused = steps.filter((s) => s.effect.type === 'invalid' && s.effect.noRequest)
    const before = sandbox.stats().total
    await deliverSingle(refused)
    await deliverBatches(
      'createAffiliate',
      refused.filter((s) => s.action === 'createAffiliate').map((s, i) => ({ group: `r${i}`, event: s.event })),
      createMapping,
      sink
    )
    await deliverBatches(
      'deleteAffiliate',
      refused.filter((s) => s.action === 'deleteAffiliate').map((s, i) => ({ group: `r${i}`, event: s.event })),
      deleteMapping,
      sink
    )
    expect(sandbox.stats().total).toBe(before)
    const single = await deliverSingle(steps)
    const batched = [
      ...(await deliverBatches(
        'createAffiliate',
        steps.filter((s) => s.action === 'createAffiliate').map((s, i) => ({ group: `c${i}`, event: s.event })),
        createMapping,
        sink
      )),
      ...(await deliverBatches(
        'deleteAffiliate',
        steps.filter((s) => s.action === 'deleteAffiliate').map((s, i) => ({ group: `d${i}`, event: s.event })),
        deleteMapping,
        sink
      ))
    ]
    const byAction = [
      ...steps.filter((s) => s.action === 'createAffiliate'),
      ...steps.filter((s) => s.action === 'deleteAffiliate')
    ]
    problems.push(...account(steps, single, model, 'execute'))
    problems.push(...account(byAction, batched, model, 'executeBatch'))
    collectStats()
    expect(problems).toEqual([])
    for (const final of [...single, ...batched]) {
      expect(final).toMatchObject({ kind: 'failed', attempts: 1 })
      if (final.kind === 'failed') expect([400, 404, 422]).toContain(final.status)
    }
    verifyState(model)
  })

  it('429 answers carry Retry-After into a retryable error, in execute and in executeBatch', async () => {
    sandbox.reset()
    sandbox.setFaults({ ...NO_FAULTS, errorRates: { 429: 1 }, retryAfterSeconds: 1 })
    const rng = rngOf(SEED + 3)
    const step = identify(rng, { key: 'limited', email: 'limited@rel.test', userId: 'limited-1' }, 1)
    const error = await destination.actions.createAffiliate
      .execute({ data: step.event, settings: SETTINGS, mapping: createMapping, auth: undefined })
      .then(
        () => undefined,
        (e: unknown) => e
      )
    sink.add(error)
    expect(error).toBeInstanceOf(RefersionRetryableError)
    expect(isRetryable(error)).toBe(true)
    expect(error).toMatchObject({ status: 429, retryAfterMs: 1000 })
    const [entry] = await destination.actions.createAffiliate.executeBatch({
      data: [step.event] as JSONObject[],
      settings: SETTINGS,
      mapping: createMapping,
      auth: undefined
    })
    sink.add(entry)
    expect(entry).toMatchObject({ status: 429 })
    collectStats()
    expect(sandbox.store.size).toBe(0)
    expect(sink.leaks(SECRET_KEY)).toEqual([])
  })
})
