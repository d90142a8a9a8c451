/**
 * Fault injection for the conversion actions: conversion triggers (Add Conversion Trigger), orders (Track Order)
 * and refunds (Cancel Order) through `execute` and `executeBatch` against the sandbox while it answers 429 (with
 * Retry-After), 500 and 503, resets connections, stalls past the request timeout and applies requests before
 * dropping the connection. A Segment-like loop redelivers what is retryable; afterwards every order must be
 * recorded exactly once and credited to the affiliate SPEC's attribution order names, every refund applied
 * once (cancelled quantities exactly as sent), every trigger present once. Figures: `RELIABILITY_ORDERS: …`.
 */
import type { JSONObject } from '@segment/actions-core'
import { startSandbox } from '../../tools/sandbox'
import type { RunningSandbox, SandboxFaults, SandboxOrder } from '../../tools/sandbox'
import {
  addCounts,
  BatchItem,
  deliverBatches,
  deliverOne,
  drained,
  Final,
  mappingOf,
  pool,
  SECRET_KEY,
  Slug,
  TextSink,
  useSandboxEnv
} from './helpers'
import {
  Expect,
  invalidOrders,
  invalidRefunds,
  order,
  ORDER_OVERRIDES,
  OrderStep,
  refund,
  RefundStep,
  ShopAffiliate,
  TRIGGER_OVERRIDES,
  triggerSteps,
  TriggerStep
} from './orders-scenario'
import { Rng, rngOf } from './scenario'

const SEED = 20260110
// Generous enough that a loaded machine (the full suite on 2 cores) answers in time; spikes still outlast it.
const TIMEOUT_MS = 1000
const FAULTS: Partial<SandboxFaults> = {
  errorRates: { 429: 0.02, 500: 0.02, 503: 0.02 },
  resetRate: 0.02,
  applyThenDropRate: 0.03,
  spikeRate: 0.01,
  spikeMs: 1300,
  retryAfterSeconds: 0
}
/** Faults that never apply a request whose answer is lost: what a partial refund can be redelivered through. */
const FAULTS_BEFORE_APPLY: Partial<SandboxFaults> = { ...FAULTS, applyThenDropRate: 0, spikeRate: 0 }
const NO_FAULTS: Partial<SandboxFaults> = {
  errorRates: {},
  resetRate: 0,
  applyThenDropRate: 0,
  spikeRate: 0,
  latencyMs: 0
}
const SHOP_SIZE = 40
const SINGLE_ORDERS = 240
const BATCH_ORDERS = 260
const CONCURRENCY = 16

const triggerMapping = mappingOf('addConversionTrigger', TRIGGER_OVERRIDES)
const orderMapping = mappingOf('trackOrder', ORDER_OVERRIDES)
const cancelMapping = mappingOf('cancelOrder')

interface Figures {
  seed: number
  triggerEvents: number
  orderEvents: number
  refundEvents: number
  byPath: Record<string, number>
  attempts: number
  requests: number
  faultsInjected: Record<string, number>
  retriedEvents: number
  /** Orders the sandbox received more than once (redeliveries after a lost answer), still credited once. */
  redeliveredOrders: number
  finalErrors: number
  lost: number
  misclassified: number
  ordersRecorded: number
  duplicated: number
  wrongCredit: number
  refundMismatches: number
  triggerMismatches: number
  contractRejections: number
  leaked: number
  durationMs: number
}

const figures: Figures = {
  seed: SEED,
  triggerEvents: 0,
  orderEvents: 0,
  refundEvents: 0,
  byPath: {},
  attempts: 0,
  requests: 0,
  faultsInjected: {},
  retriedEvents: 0,
  redeliveredOrders: 0,
  finalErrors: 0,
  lost: 0,
  misclassified: 0,
  ordersRecorded: 0,
  duplicated: 0,
  wrongCredit: 0,
  refundMismatches: 0,
  triggerMismatches: 0,
  contractRejections: 0,
  leaked: 0,
  durationMs: 0
}
const started = Date.now()
const sink = new TextSink()
let sandbox: RunningSandbox
beforeAll(async () => {
  sandbox = await startSandbox({ seed: SEED, ...FAULTS })
})
useSandboxEnv(() => sandbox, TIMEOUT_MS)

afterAll(() => {
  figures.leaked = sink.leaks(SECRET_KEY).length
  figures.durationMs = Date.now() - started
  console.log(`RELIABILITY_ORDERS: ${JSON.stringify(figures)}`)
})

type Step = { event: JSONObject; expect: Expect; label: string }
type Kind = 'triggerEvents' | 'orderEvents' | 'refundEvents'
const KIND: Record<string, Kind> = {
  addConversionTrigger: 'triggerEvents',
  trackOrder: 'orderEvents',
  cancelOrder: 'refundEvents'
}

/** Compares each event's final outcome with what it must be; counts the figures; returns the problems. */
function account(steps: readonly Step[], finals: readonly Final[], kind: Kind, path: string): string[] {
  const problems: string[] = []
  if (finals.length !== steps.length) problems.push(`${steps.length} events but ${finals.length} outcomes`)
  steps.forEach((step, i) => {
    const final = finals[i]
    figures[kind]++
    figures.byPath[path] = (figures.byPath[path] ?? 0) + 1
    const what = `${step.label} ${JSON.stringify(step.event).slice(0, 160)}`
    if (!final) {
      figures.lost++
      problems.push(`${what}: no outcome`)
      return
    }
    figures.attempts += final.attempts
    if (final.attempts > 1) figures.retriedEvents++
    if (final.kind === 'failed') figures.finalErrors++
    let wrong: string | undefined
    if (final.kind === 'exhausted') wrong = `still failing after ${final.attempts} attempts (${final.message})`
    else if (step.expect.kind === 'success') {
      if (final.kind !== 'success') wrong = `failed ${final.status} (${final.message})`
    } else if (final.kind === 'success') wrong = `succeeded, expected a final ${step.expect.status}`
    else if (final.status !== step.expect.status) wrong = `failed ${final.status}, expected ${step.expect.status}`
    else if (step.expect.noRequest && final.attempts !== 1) wrong = `refused only after ${final.attempts} attempts`
    if (!wrong) return
    if (step.expect.kind === 'success' || final?.kind === 'exhausted') figures.lost++
    else figures.misclassified++
    problems.push(`${what}: ${wrong}`)
  })
  return problems
}

/** Segment-like delivery of `steps` one event at a time (perform), CONCURRENCY in flight. */
async function single(slug: Slug, steps: readonly Step[], mapping: JSONObject): Promise<Final[]> {
  const finals = await pool(steps, CONCURRENCY, (step) => deliverOne(slug, step.event, mapping, sink))
  await drained(sandbox)
  return finals
}

/** Segment-like delivery in batches of 50 (performBatch), each event its own group. */
async function batched(slug: Slug, steps: readonly Step[], mapping: JSONObject): Promise<Final[]> {
  const items: BatchItem[] = steps.map((step, i) => ({ group: `e${i}`, event: step.event }))
  const finals = await deliverBatches(slug, items, mapping, sink, {
    batchSize: 50,
    concurrency: 3,
    between: () => drained(sandbox)
  })
  await drained(sandbox)
  return finals
}

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

/** Affiliates created directly in the sandbox (healthy set-up; Create Affiliate is covered elsewhere). */
function openShop(rng: Rng, tag: string): ShopAffiliate[] {
  const emails = [`ann.${tag}@shop.test`, `joann.${tag}@shop.test`]
  for (let i = emails.length; i < SHOP_SIZE; i++) emails.push(`Partner.${i}.${tag}@Shop.Test`)
  return emails.map((email, i) => {
    const a = sandbox.store.create({ first_name: 'Part', last_name: `Ner${i}`, email, status: 'ACTIVE' })
    return {
      id: a.id,
      code: a.code,
      email,
      coupon: `Save${i}-${tag}`,
      customerEmail: rng() < 0.6 ? `loyal.${i}.${tag}@buyers.test` : undefined
    }
  })
}

/** The sandbox's triggers equal exactly the ones the steps add, each once, on the right affiliate. */
function verifyTriggers(steps: readonly TriggerStep[]): void {
  const expected = new Map<string, string>()
  for (const step of steps)
    if (step.adds) expected.set(`${step.adds.type}:${step.adds.trigger.toLowerCase()}`, step.adds.code)
  const actual = sandbox.store.allTriggers()
  const seen = new Map<string, string>()
  const problems: string[] = []
  for (const t of actual) {
    const key = `${t.type}:${t.trigger.toLowerCase()}`
    if (seen.has(key)) problems.push(`${key} twice`)
    seen.set(key, t.affiliate_code)
    if (expected.get(key) !== t.affiliate_code)
      problems.push(`${key} on ${t.affiliate_code}, expected ${expected.get(key)}`)
  }
  for (const key of expected.keys()) if (!seen.has(key)) problems.push(`${key} missing`)
  figures.triggerMismatches += problems.length
  expect(problems).toEqual([])
}

/** Every valid order recorded once, credited as expected, with its items; no invalid order recorded. */
function verifyOrders(steps: readonly OrderStep[]): Map<string, SandboxOrder> {
  const recorded = sandbox.conversions()
  const byId = new Map<string, SandboxOrder>()
  const problems: string[] = []
  for (const o of recorded) {
    if (byId.has(o.order_id)) {
      figures.duplicated++
      problems.push(`${o.order_id} recorded twice`)
    }
    byId.set(o.order_id, o)
    if (o.deliveries > 1) figures.redeliveredOrders++
  }
  figures.ordersRecorded += recorded.length
  const valid = new Map(steps.filter((s) => s.expect.kind === 'success').map((s) => [s.orderId, s]))
  for (const [id, step] of valid) {
    const o = byId.get(id)
    if (!o) {
      problems.push(`${id} (${step.label}) not recorded`)
      continue
    }
    const credit = { affiliateId: o.affiliate?.id ?? null, by: o.credited_by }
    if (credit.affiliateId !== step.credit!.affiliateId || credit.by !== step.credit!.by) {
      figures.wrongCredit++
      problems.push(`${id} (${step.label}) credited ${JSON.stringify(credit)}, expected ${JSON.stringify(step.credit)}`)
    }
    if (JSON.stringify(o.items) !== JSON.stringify(step.items) || o.currency_code !== step.currency) {
      problems.push(
        `${id}: items ${JSON.stringify(o.items)} ${o.currency_code} ≠ ${JSON.stringify(step.items)} ${step.currency}`
      )
    }
    if (o.cancelled_items.length) problems.push(`${id}: cancelled before any refund`)
  }
  for (const id of byId.keys()) if (!valid.has(id)) problems.push(`${id} recorded, but it was never a valid order`)
  expect(problems).toEqual([])
  return byId
}

/** Every refund applied once: each order's cancelled quantities per SKU equal the sum of its refunds, never more. */
function verifyRefunds(refunds: readonly RefundStep[], orders: readonly OrderStep[]): void {
  const expected = new Map<string, Map<string, number>>()
  for (const r of refunds) {
    if (r.expect.kind !== 'success') continue
    const perSku = expected.get(r.orderId) ?? new Map<string, number>()
    for (const c of r.cancels ?? []) perSku.set(c.sku, (perSku.get(c.sku) ?? 0) + c.quantity)
    expected.set(r.orderId, perSku)
  }
  const problems: string[] = []
  const byId = new Map(sandbox.conversions().map((o) => [o.order_id, o]))
  for (const step of orders) {
    if (step.expect.kind !== 'success') continue
    const o = byId.get(step.orderId)!
    const actual = new Map<string, number>()
    for (const c of o.cancelled_items) {
      actual.set(c.sku, (actual.get(c.sku) ?? 0) + c.quantity)
      const item = step.items!.find((i) => i.sku === c.sku)
      if (!item || item.price !== c.price)
        problems.push(`${step.orderId}: cancelled ${JSON.stringify(c)} at a wrong price`)
    }
    const want = expected.get(step.orderId) ?? new Map<string, number>()
    const all = new Set([...actual.keys(), ...want.keys()])
    for (const sku of all) {
      if ((actual.get(sku) ?? 0) !== (want.get(sku) ?? 0)) {
        figures.refundMismatches++
        problems.push(`${step.orderId} ${sku}: cancelled ${actual.get(sku) ?? 0}, refunded ${want.get(sku) ?? 0}`)
      }
    }
  }
  expect(problems).toEqual([])
}

function collectStats(): void {
  const stats = sandbox.stats()
  figures.requests += stats.total
  figures.contractRejections += stats.contractRejections
  addCounts(figures.faultsInjected, stats.faultsInjected)
  // Every request the destination sent followed the published contract, faults or not.
  expect(stats.contractRejections).toBe(0)
}

/**
 * The whole flow for one delivery path: triggers under faults, then orders (some delivered twice, as Segment
 * may), then full-line refunds under every fault, then partial refunds under faults that lose no applied answer.
 */
async function flow(path: 'execute' | 'executeBatch', seed: number, orderCount: number): Promise<void> {
  sandbox.reset()
  const tag = path === 'execute' ? 's' : 'b'
  const rng = rngOf(seed)
  const deliver = path === 'execute' ? single : batched
  sandbox.setFaults(NO_FAULTS)
  const shop = openShop(rng, tag)
  sandbox.setFaults(FAULTS)
  const problems: string[] = []

  const triggers = shuffle(rng, triggerSteps(rng, shop, tag))
  problems.push(
    ...account(triggers, await deliver('addConversionTrigger', triggers, triggerMapping), 'triggerEvents', path)
  )
  expect(problems).toEqual([])
  verifyTriggers(triggers)

  const orders = Array.from({ length: orderCount }, (_, i) => order(rng, shop, `${tag}-${seed}-${i}`))
  const redelivered = orders.filter(() => rng() < 0.08).map((o) => ({ ...o, event: { ...o.event } }))
  const orderPhase = shuffle(rng, [...orders, ...redelivered, ...invalidOrders(tag)])
  problems.push(...account(orderPhase, await deliver('trackOrder', orderPhase, orderMapping), 'orderEvents', path))
  expect(problems).toEqual([])
  verifyOrders(orderPhase)

  // Full-line refunds (a redelivery after a lost answer finds the line already cancelled), credited or not.
  const refunded = orders.filter(() => rng() < 0.5)
  const fullRefunds = shuffle(rng, [...refunded.map((o) => refund(rng, o)), ...invalidRefunds(`${tag}-x`)])
  problems.push(...account(fullRefunds, await deliver('cancelOrder', fullRefunds, cancelMapping), 'refundEvents', path))
  expect(problems).toEqual([])

  // Partial refunds: one of each multi-unit line not refunded yet, twice over, under faults that lose no
  // applied request (Refersion has no idempotency key: a partial cancel whose answer is lost would count twice).
  sandbox.setFaults(FAULTS_BEFORE_APPLY)
  const partial = orders
    .filter((o) => !refunded.includes(o) && o.items!.some((i) => i.quantity >= 3))
    .map((o) => ({ o, items: o.items!.filter((i) => i.quantity >= 3) }))
  const partials: RefundStep[] = []
  for (let round = 0; round < 2; round++) {
    const steps = partial.map(({ o, items }) => refund(rng, o, () => 1, items))
    problems.push(...account(steps, await deliver('cancelOrder', steps, cancelMapping), 'refundEvents', path))
    partials.push(...steps)
  }
  expect(problems).toEqual([])
  verifyRefunds([...fullRefunds, ...partials], orders)
  collectStats()
  expect(sink.leaks(SECRET_KEY)).toEqual([])
}

describe('orders, refunds and conversion triggers under faults', () => {
  it('execute (perform): every order recorded once and credited as SPEC says, every refund applied once', async () => {
    await flow('execute', SEED, SINGLE_ORDERS)
  }, 180_000)

  it('executeBatch (performBatch): the same guarantees per event', async () => {
    await flow('executeBatch', SEED + 1, BATCH_ORDERS)
  }, 180_000)

  it('refused events (bad orders, refunds, triggers) send nothing, on either path', async () => {
    sandbox.reset()
    sandbox.setFaults(NO_FAULTS)
    const bad: [Slug, Step[], JSONObject][] = [
      ['trackOrder', invalidOrders('h'), orderMapping],
      ['cancelOrder', invalidRefunds('h-1'), cancelMapping],
      [
        'addConversionTrigger',
        triggerSteps(rngOf(SEED + 2), [{ id: 1, code: 'zzzz', email: 'x@y.test', coupon: 'Z' }], 'h').filter(
          (s) => s.expect.kind === 'failed' && s.expect.noRequest
        ),
        triggerMapping
      ]
    ]
    const problems: string[] = []
    for (const [slug, steps, mapping] of bad) {
      expect(steps.length).toBeGreaterThan(0)
      problems.push(...account(steps, await single(slug, steps, mapping), KIND[slug], 'execute'))
      problems.push(...account(steps, await batched(slug, steps, mapping), KIND[slug], 'executeBatch'))
    }
    expect(problems).toEqual([])
    expect(sandbox.stats().total).toBe(0)
    expect(sandbox.conversions()).toEqual([])
  })
})
