/**
 * `npm run bench`: measures the destination against the in-process Refersion sandbox, side by side in one
 * run — sequential `perform` per event (Segment's classic one-event-at-a-time delivery) vs. `performBatch`
 * with the default batch size — and compares our createAffiliate CPU cost with a minimal actions-core
 * action that sends the same single POST. Workloads: new identifies, repeated identifies, commission credits (by
 * id, by a cached email, by email uncached), deletes, and orders (Track Order, one tracking-webhook request each). Prints a table, then one line of JSON with every figure.
 */
import { fork } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { defaultValues, Destination } from '@segment/actions-core'
import type { DestinationDefinition, JSONObject, SegmentEvent } from '@segment/actions-core'
import { loadDefinition } from '../cli/definition'
import { startSandbox } from '../sandbox'
import type { RunningSandbox } from '../sandbox'
import { DEFAULT_BATCH_SIZE } from '../../src/lib/batch'
import { baseUrl } from '../../src/lib/client'
import { parseApiKey } from '../../src/lib/auth'
import { AffiliateInput, buildNewAffiliate } from '../../src/createAffiliate/plan'

export interface BenchOptions {
  events: number
  latency: number
  batchSize: number
  cpuEvents: number
  cpuRounds: number
  seed: number
}

interface Row {
  workload: string
  mode: 'sequential' | 'batch'
  events: number
  ms: number
  eventsPerSecond: number
  requestsPerEvent: number
  peakRssMb: number
  failed: number
}

const SETTINGS = { apiKey: 'pub_bench.sec_bench' }

function identify(prefix: string, i: number, phone?: string): SegmentEvent {
  return {
    type: 'identify',
    messageId: `${prefix}-${i}-${phone ?? ''}`,
    timestamp: '2026-01-01T00:00:00.000Z',
    userId: `${prefix}-user-${i}`,
    traits: {
      name: `Peter Gibbons${i}`,
      email: `${prefix}.${i}@bench.example`,
      phone,
      address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' }
    }
  } as SegmentEvent
}

function deletion(prefix: string, i: number): SegmentEvent {
  return {
    type: 'identify',
    messageId: `del-${prefix}-${i}`,
    userId: `${prefix}-user-${i}`,
    traits: { email: `${prefix}.${i}@bench.example` }
  } as SegmentEvent
}

/** Order `i` of the run `prefix`: a unique order id and cart, two products, a coupon no affiliate holds. */
function orderCompleted(prefix: string, i: number): SegmentEvent {
  return {
    type: 'track',
    event: 'Order Completed',
    messageId: `order-${prefix}-${i}`,
    timestamp: '2026-01-02T00:00:00.000Z',
    userId: `${prefix}-buyer-${i}`,
    context: { traits: { email: `${prefix}.buyer.${i}@bench.example` }, ip: '203.0.113.9' },
    properties: {
      order_id: orderId(prefix, i),
      checkout_id: `${prefix}-checkout-${i}`,
      currency: 'usd',
      shipping: 4.5,
      tax: 2.1,
      discount: -5,
      coupon: 'BENCH5',
      products: [
        { product_id: `${prefix}-p-${i}`, sku: `SKU-${i % 97}`, name: 'T-shirt', price: 19.99, quantity: 2 },
        { product_id: `${prefix}-q-${i}`, name: 'Mug', price: '7.50' }
      ]
    }
  } as SegmentEvent
}

const orderId = (prefix: string, i: number) => `${prefix}-order-${i}`

/** Samples RSS while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; peakRss: number }> {
  let peakRss = process.memoryUsage.rss()
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20)
  const start = performance.now()
  try {
    const value = await fn()
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    return { value, ms: performance.now() - start, peakRss }
  } finally {
    clearInterval(timer)
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * One benchmark workload: events for one action, run once with sequential `perform` and once with `performBatch`
 * (each on its own people, `seq-…` and `bat-…`). A new workload is one entry in WORKLOADS.
 */
export interface Workload {
  /** The row's name in the table, e.g. `create`. */
  name: string
  /** The action's slug. */
  action: string
  /** Event `i` of the run whose people are prefixed `prefix` (the sandbox, to name its affiliates by id). */
  event: (prefix: string, i: number, sandbox?: RunningSandbox) => SegmentEvent
  /** Environment variables set while the workload runs (e.g. REFERSION_CACHE=off). */
  env?: Record<string, string>
  /** Mapped on top of the action's default mappings (what a workspace owner would configure). */
  mapping?: JSONObject
}

/** Where a credit event names its affiliate: a numeric id, or an email. */
const CREDIT_MAPPING: JSONObject = {
  affiliateId: { '@path': '$.properties.affiliate_id' },
  email: { '@path': '$.properties.affiliate_email' }
}

/** A $5 credit (`kind` keeps every workload's notes apart) for person `i` of run `prefix`, by id or by email. */
function credit(kind: string, prefix: string, i: number, by: { affiliate_id?: string; affiliate_email?: string }) {
  return {
    type: 'track',
    event: 'Referral Bonus',
    messageId: creditMessageId(kind, prefix, i),
    userId: `${prefix}-user-${i}`,
    properties: { commission: 5, currency: 'USD', ...by }
  } as SegmentEvent
}

const creditMessageId = (kind: string, prefix: string, i: number) => `${kind}-${prefix}-${i}`
const CREDIT_KINDS = ['credit_id', 'credit', 'credit_nocache'] as const
const benchEmail = (prefix: string, i: number) => `${prefix}.${i}@bench.example`

/** The phone every repeat sets, so that the integrity check can tell a repeat was applied. */
const REPEAT_PHONE = '+1 415 555 0100'

export const WORKLOADS: Workload[] = [
  { name: 'create', action: 'createAffiliate', event: (prefix, i) => identify(prefix, i) },
  // Repeated identifies carry one changed trait. The create run has just remembered every person (the affiliate
  // cache's steady state), so each is one /affiliate/edit by the remembered id.
  { name: 'repeat', action: 'createAffiliate', event: (prefix, i) => identify(prefix, i, REPEAT_PHONE) },
  // The same identify again: nothing changed since the last successful send, so nothing is sent.
  { name: 'repeat_same', action: 'createAffiliate', event: (prefix, i) => identify(prefix, i, REPEAT_PHONE) },
  // With the cache off, for reference: the stateless path (new → 422 → search → get → edit).
  {
    name: 'repeat_nocache',
    action: 'createAffiliate',
    event: (prefix, i) => identify(prefix, i, REPEAT_PHONE),
    env: { REFERSION_CACHE: 'off' }
  },
  // Credit Commission to the affiliates just created: by numeric id (one request), by email while this process
  // remembers the affiliate (one request), and by email with the cache off (search, get, credit).
  {
    name: 'credit_id',
    action: 'creditCommission',
    mapping: CREDIT_MAPPING,
    event: (prefix, i, sandbox) =>
      credit('credit_id', prefix, i, { affiliate_id: String(sandbox?.store.getByEmail(benchEmail(prefix, i))?.id) })
  },
  {
    name: 'credit',
    action: 'creditCommission',
    mapping: CREDIT_MAPPING,
    event: (prefix, i) => credit('credit', prefix, i, { affiliate_email: benchEmail(prefix, i) })
  },
  {
    name: 'credit_nocache',
    action: 'creditCommission',
    mapping: CREDIT_MAPPING,
    env: { REFERSION_CACHE: 'off' },
    event: (prefix, i) => credit('credit_nocache', prefix, i, { affiliate_email: benchEmail(prefix, i) })
  },
  { name: 'delete', action: 'deleteAffiliate', event: (prefix, i) => deletion(prefix, i) },
  // Every order is unique (its own order id), so each costs exactly its one tracking-webhook request.
  { name: 'order', action: 'trackOrder', event: (prefix, i) => orderCompleted(prefix, i) }
]

const RUN_PREFIX: Record<Row['mode'], string> = { sequential: 'seq', batch: 'bat' }

interface Runner {
  sandbox: RunningSandbox
  destination: Destination<unknown>
  definition: DestinationDefinition<unknown>
  options: BenchOptions
  log: (line: string) => void
}

/** Sends `events` through one action, sequentially or in batches, and measures it. */
async function runWorkload(runner: Runner, workload: Workload, mode: Row['mode']): Promise<Row> {
  const { sandbox, options } = runner
  const action = runner.destination.actions[workload.action]
  const defaults = defaultValues(runner.definition.actions[workload.action].fields) as JSONObject
  const mapping: JSONObject = { ...defaults, ...workload.mapping }
  if (mode === 'batch' && options.batchSize) mapping.batch_size = options.batchSize
  const events = Array.from({ length: options.events }, (_, i) => workload.event(RUN_PREFIX[mode], i, sandbox))
  const before = sandbox.stats().total
  let failed = 0
  const savedEnv = Object.keys(workload.env ?? {}).map((key) => [key, process.env[key]] as const)
  Object.assign(process.env, workload.env)
  const result = await measured(async () => {
    if (mode === 'sequential') {
      for (const event of events) {
        try {
          await action.execute({ data: event as unknown as JSONObject, settings: SETTINGS, mapping, auth: undefined })
        } catch {
          failed++
        }
      }
      return
    }
    for (const batch of chunks(events, options.batchSize)) {
      const statuses = await action.executeBatch({
        data: batch as unknown as JSONObject[],
        settings: SETTINGS,
        mapping,
        auth: undefined
      })
      failed += statuses.filter((s) => !s || s.status < 200 || s.status >= 300).length
    }
  }).finally(() => {
    for (const [key, value] of savedEnv) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })
  const requests = sandbox.stats().total - before
  runner.log(
    `  ${workload.name.padEnd(8)} ${mode.padEnd(10)} ${result.ms.toFixed(0).padStart(7)} ms  ${requests} requests`
  )
  return {
    workload: workload.name,
    mode,
    events: events.length,
    ms: result.ms,
    eventsPerSecond: (events.length / result.ms) * 1000,
    requestsPerEvent: requests / events.length,
    peakRssMb: result.peakRss / 1024 / 1024,
    failed
  }
}

/**
 * Nothing lost, nothing duplicated: after create, repeat and delete, every person of both runs has exactly one
 * affiliate, updated by the repeat and disabled by the delete.
 */
function affiliateIntegrity(sandbox: RunningSandbox, n: number): { lost: number; duplicates: number } {
  let lost = 0
  let duplicates = 0
  const all = sandbox.store.all()
  const perEmail = new Map<string, number>()
  for (const affiliate of all)
    perEmail.set(affiliate.email.toLowerCase(), (perEmail.get(affiliate.email.toLowerCase()) ?? 0) + 1)
  for (const prefix of Object.values(RUN_PREFIX)) {
    for (let i = 0; i < n; i++) {
      const record = sandbox.store.getByEmail(`${prefix}.${i}@bench.example`)
      if (!record || record.phone !== REPEAT_PHONE || record.status !== 'DISABLED') lost++
    }
  }
  for (const count of perEmail.values()) if (count > 1) duplicates += count - 1
  duplicates += Math.max(0, all.length - 2 * n)
  return { lost, duplicates }
}

/**
 * Nothing lost, nothing duplicated among the orders: every order of both runs recorded by the sandbox, each
 * received exactly once.
 */
function orderIntegrity(sandbox: RunningSandbox, n: number): { lost: number; duplicates: number } {
  let lost = 0
  let duplicates = 0
  for (const prefix of Object.values(RUN_PREFIX)) {
    for (let i = 0; i < n; i++) {
      const order = sandbox.ledger.get(orderId(prefix, i))
      if (!order) lost++
      else duplicates += order.deliveries - 1
    }
  }
  duplicates += Math.max(0, sandbox.ledger.size - 2 * n)
  return { lost, duplicates }
}

/**
 * Nothing lost, nothing paid twice among the credits: every credit event of every credit workload recorded by the
 * sandbox under its note exactly once.
 */
function creditIntegrity(sandbox: RunningSandbox, n: number): { lost: number; duplicates: number } {
  const perNote = new Map<string, number>()
  for (const c of sandbox.manualCredits()) perNote.set(c.notes ?? '', (perNote.get(c.notes ?? '') ?? 0) + 1)
  let lost = 0
  let duplicates = 0
  for (const kind of CREDIT_KINDS) {
    for (const prefix of Object.values(RUN_PREFIX)) {
      for (let i = 0; i < n; i++) {
        const count = perNote.get(`Segment: Referral Bonus (messageId ${creditMessageId(kind, prefix, i)})`) ?? 0
        if (count === 0) lost++
        duplicates += Math.max(0, count - 1)
      }
    }
  }
  return { lost, duplicates: duplicates + Math.max(0, sandbox.manualCredits().length - CREDIT_KINDS.length * 2 * n) }
}

/** Runs every workload, sequential then batch, against an in-process sandbox; then checks what it holds. */
export async function benchmark(options: BenchOptions, log: (line: string) => void = console.log) {
  const sandbox: RunningSandbox = await startSandbox({ latencyMs: options.latency, seed: options.seed })
  const previous = { base: process.env.REFERSION_BASE_URL, tracking: process.env.REFERSION_TRACKING_URL }
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  process.env.REFERSION_TRACKING_URL = sandbox.trackingUrl
  try {
    const definition = loadDefinition()
    const runner: Runner = { sandbox, destination: new Destination(definition), definition, options, log }
    log(
      `Benchmark: ${options.events} events per workload, ${options.latency} ms sandbox latency, batch size ${options.batchSize}`
    )
    const rows: Row[] = []
    for (const workload of WORKLOADS) {
      for (const mode of ['sequential', 'batch'] as const) rows.push(await runWorkload(runner, workload, mode))
    }
    const affiliates = affiliateIntegrity(sandbox, options.events)
    const orders = orderIntegrity(sandbox, options.events)
    const credits = creditIntegrity(sandbox, options.events)
    return {
      rows,
      lost: affiliates.lost + orders.lost + credits.lost,
      duplicates: affiliates.duplicates + orders.duplicates + credits.duplicates,
      definition
    }
  } finally {
    if (previous.base === undefined) delete process.env.REFERSION_BASE_URL
    else process.env.REFERSION_BASE_URL = previous.base
    if (previous.tracking === undefined) delete process.env.REFERSION_TRACKING_URL
    else process.env.REFERSION_TRACKING_URL = previous.tracking
    await sandbox.close()
  }
}

/**
 * A minimal actions-core destination whose one action sends the same single POST — the same JSON body our
 * action builds for this event shape — without our mapping, validation, password or country logic.
 */
function minimalDefinition(template: Record<string, string>): DestinationDefinition<{ apiKey: string }> {
  return {
    name: 'Minimal',
    mode: 'cloud',
    authentication: { scheme: 'custom', fields: { apiKey: { label: 'Key', description: 'Key', type: 'string' } } },
    extendRequest: ({ settings }) => {
      const { publicKey, secretKey } = parseApiKey(settings.apiKey)
      return {
        headers: {
          'Refersion-Public-Key': publicKey,
          'Refersion-Secret-Key': secretKey,
          'Content-Type': 'application/json'
        }
      }
    },
    actions: {
      send: {
        title: 'Send',
        description: 'One POST',
        fields: {
          email: { label: 'Email', description: 'Email', type: 'string', default: { '@path': '$.traits.email' } }
        },
        perform: (request, { payload }) =>
          request(`${baseUrl()}/affiliate/new`, {
            method: 'post',
            json: Object.assign({}, template, { email: payload.email })
          })
      }
    }
  }
}

/** Starts the sandbox in a child process, so that this process's CPU time is the destination's alone. */
async function childSandbox(): Promise<{ apiBaseUrl: string; stop: () => void }> {
  // The child runs TypeScript through tsx whether this process was started by `npm run bench` or `./bin/run bench`.
  const child = fork(path.join(__dirname, 'sandbox-child.ts'), [], {
    execArgv: ['--require', require.resolve('tsx/cjs')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  const apiBaseUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve(String((message as { apiBaseUrl: string }).apiBaseUrl)))
    child.once('exit', (code) => reject(new Error(`sandbox child exited (${code})`)))
  })
  return { apiBaseUrl, stop: () => child.kill() }
}

/** The resident memory of a fresh process before and after filling the affiliate cache to its bound. */
async function cacheMemory(): Promise<{
  entries: number
  emptyRssMb: number
  fullRssMb: number
  peakRssMb: number
  cacheHeapMb: number
}> {
  const child = fork(path.join(__dirname, 'cache-child.ts'), [], {
    execArgv: ['--expose-gc', '--require', require.resolve('tsx/cjs')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as Awaited<ReturnType<typeof cacheMemory>>))
    child.once('exit', (code) => reject(new Error(`cache child exited (${code})`)))
  })
}

async function cpuComparison(definition: DestinationDefinition<unknown>, options: BenchOptions) {
  const sandbox = await childSandbox()
  const previousBase = process.env.REFERSION_BASE_URL
  process.env.REFERSION_BASE_URL = sandbox.apiBaseUrl
  try {
    const ours = new Destination(definition).actions.createAffiliate
    const oursMapping = defaultValues(definition.actions.createAffiliate.fields) as JSONObject
    const sample = identify('cpu', 0)
    const template = buildNewAffiliate({
      email: 'template@bench.example',
      name: String(sample.traits?.name),
      address: sample.traits?.address as AffiliateInput['address'],
      uniqueMerchantId: sample.userId ?? undefined
    })
    const minimalDef = minimalDefinition(template)
    const minimal = new Destination(minimalDef).actions.send
    const minimalMapping = defaultValues(minimalDef.actions.send.fields) as JSONObject
    // Each measured chunk starts on a freshly collected heap (with --expose-gc, as `npm run bench` runs), so that
    // one side does not pay for the other's garbage; without it single rounds swing by 3×.
    const gc = (globalThis as { gc?: () => void }).gc
    const cpuOf = async (fn: () => Promise<unknown>) => {
      gc?.()
      const start = process.cpuUsage()
      for (let i = 0; i < options.cpuEvents; i++) await fn()
      const used = process.cpuUsage(start)
      return (used.user + used.system) / 1000
    }
    let seq = 0
    const runOurs = () =>
      cpuOf(() =>
        ours.execute({
          data: identify('cpu', seq++) as unknown as JSONObject,
          settings: SETTINGS,
          mapping: oursMapping,
          auth: undefined
        })
      )
    const runMinimal = () =>
      cpuOf(() =>
        minimal.execute({
          data: identify('cpu', seq++) as unknown as JSONObject,
          settings: SETTINGS,
          mapping: minimalMapping,
          auth: undefined
        })
      )
    await runOurs() // warm-up: JIT, connection pool
    await runMinimal()
    const ratios: number[] = []
    let oursTotal = 0
    let minimalTotal = 0
    for (let round = 0; round < options.cpuRounds; round++) {
      // Alternate which side runs first so neither always meets a warmer machine or heap.
      let a: number
      let b: number
      if (round % 2) {
        b = await runMinimal()
        a = await runOurs()
      } else {
        a = await runOurs()
        b = await runMinimal()
      }
      oursTotal += a
      minimalTotal += b
      ratios.push(a / b)
    }
    ratios.sort((x, y) => x - y)
    return {
      oursMsPerEvent: oursTotal / (options.cpuRounds * options.cpuEvents),
      minimalMsPerEvent: minimalTotal / (options.cpuRounds * options.cpuEvents),
      // Total over total: every round counts by its weight, a single noisy round cannot swing it.
      ratio: oursTotal / minimalTotal,
      roundRange: [ratios[0], ratios[ratios.length - 1]] as const,
      gc: gc !== undefined
    }
  } finally {
    sandbox.stop()
    if (previousBase === undefined) delete process.env.REFERSION_BASE_URL
    else process.env.REFERSION_BASE_URL = previousBase
  }
}

function table(rows: Row[]): string {
  const head = ['workload', 'mode', 'events', 'wall ms', 'events/s', 'requests/event', 'peak RSS MB', 'failed']
  const body = rows.map((r) => [
    r.workload,
    r.mode,
    String(r.events),
    r.ms.toFixed(0),
    r.eventsPerSecond.toFixed(1),
    r.requestsPerEvent.toFixed(2),
    r.peakRssMb.toFixed(0),
    String(r.failed)
  ])
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)))
  const line = (cells: string[]) => '| ' + cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ') + ' |'
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n')
}

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`)
    return n
  }
}

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Benchmark sequential perform vs performBatch against the in-process sandbox; prints a table and a JSON line'
    )
    .option('--events <n>', 'events per workload', positiveInt('--events'), 1000)
    .option('--latency <ms>', 'sandbox latency per request, in ms', positiveInt('--latency'), 20)
    .option('--batch-size <n>', 'events per performBatch call', positiveInt('--batch-size'), DEFAULT_BATCH_SIZE)
    .option('--cpu-events <n>', 'events per side per CPU-comparison round', positiveInt('--cpu-events'), 250)
    .option('--cpu-rounds <n>', 'CPU-comparison rounds, alternating sides', positiveInt('--cpu-rounds'), 24)
    .option('--seed <n>', 'sandbox seed', positiveInt('--seed'), 1)
    .action(async (opts: BenchOptions) => {
      await runBench(opts)
    })
}

export async function runBench(options: BenchOptions): Promise<Record<string, number>> {
  const { rows, lost, duplicates, definition } = await benchmark(options)
  const cpu = await cpuComparison(definition, options)
  const memory = await cacheMemory()
  const find = (workload: string, mode: Row['mode']) => rows.find((r) => r.workload === workload && r.mode === mode)!
  const speedup = (workload: string) => find(workload, 'sequential').ms / find(workload, 'batch').ms
  const round = (n: number, digits = 2) => Number(n.toFixed(digits))
  const summary = {
    create_speedup: round(speedup('create')),
    repeat_speedup: round(speedup('repeat')),
    delete_speedup: round(speedup('delete')),
    requests_per_new: round(find('create', 'batch').requestsPerEvent, 3),
    requests_per_repeat: round(find('repeat', 'batch').requestsPerEvent, 3),
    requests_per_delete: round(find('delete', 'batch').requestsPerEvent, 3),
    requests_per_repeat_identical: round(find('repeat_same', 'batch').requestsPerEvent, 3),
    requests_per_repeat_uncached: round(find('repeat_nocache', 'batch').requestsPerEvent, 3),
    cache_full_rss_mb: round(memory.peakRssMb, 1),
    cache_empty_rss_mb: round(memory.emptyRssMb, 1),
    cache_heap_mb: round(memory.cacheHeapMb, 1),
    order_speedup: round(speedup('order')),
    // Over both runs (sequential and batch): every order is one tracking-webhook request, never more.
    requests_per_order: round(
      (find('order', 'sequential').requestsPerEvent + find('order', 'batch').requestsPerEvent) / 2,
      3
    ),
    // Credit Commission: by a mapped numeric id, and by an email this process remembers — one request each.
    requests_per_credit: round(
      Math.max(find('credit_id', 'batch').requestsPerEvent, find('credit', 'batch').requestsPerEvent),
      3
    ),
    requests_per_credit_by_id: round(find('credit_id', 'batch').requestsPerEvent, 3),
    requests_per_credit_cached: round(find('credit', 'batch').requestsPerEvent, 3),
    requests_per_credit_uncached: round(find('credit_nocache', 'batch').requestsPerEvent, 3),
    credit_speedup: round(speedup('credit')),
    cpu_overhead_ratio: round(cpu.ratio, 3),
    lost,
    duplicates
  }
  console.log('')
  console.log(table(rows))
  console.log('')
  console.log(
    `CPU at 0 ms latency: createAffiliate ${cpu.oursMsPerEvent.toFixed(3)} ms/event vs minimal action ` +
      `${cpu.minimalMsPerEvent.toFixed(3)} ms/event: ratio ${cpu.ratio.toFixed(3)} over ${
        options.cpuRounds
      } alternating rounds ` +
      `(per round ${cpu.roundRange[0].toFixed(2)}–${cpu.roundRange[1].toFixed(
        2
      )}; sandbox in a child process, not counted` +
      `${cpu.gc ? '; heap collected before each round' : '; run with --expose-gc for steadier figures'})`
  )
  console.log(
    `Affiliate cache: a fresh process holds ${memory.entries} entries in ${memory.fullRssMb.toFixed(1)} MB RSS ` +
      `(${memory.emptyRssMb.toFixed(1)} MB before filling it; peak ${memory.peakRssMb.toFixed(1)} MB; the entries ` +
      `take ${memory.cacheHeapMb.toFixed(1)} MB of heap after garbage collection)`
  )
  console.log(
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(
      0
    )} GiB, Node ${process.version}`
  )
  console.log(JSON.stringify(summary))
  return summary
}

if (require.main === module) {
  benchCommand()
    .parseAsync(process.argv)
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(1)
    })
}
