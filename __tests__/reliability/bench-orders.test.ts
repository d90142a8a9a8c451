/**
 * The bench's order workload, on a small run: each order is one tracking-webhook request in both modes, every
 * order of both runs is recorded once, and the summary carries `requests_per_order` and `order_speedup`.
 */
import { benchmark, runBench, WORKLOADS } from '../../tools/bench'

const small = { events: 12, latency: 0, batchSize: 50, cpuEvents: 4, cpuRounds: 2, seed: 3 }

test('the order workload is a Track Order workload in the WORKLOADS table', () => {
  const order = WORKLOADS.find((w) => w.name === 'order')
  expect(order).toMatchObject({ action: 'trackOrder' })
  const a = order!.event('seq', 1) as { event?: string; properties?: { order_id?: string } }
  const b = order!.event('bat', 1) as { properties?: { order_id?: string } }
  expect(a.event).toBe('Order Completed')
  // Unique per run and per index: the sequential and batch runs never share an order.
  expect(a.properties?.order_id).not.toBe(b.properties?.order_id)
  expect(a.properties?.order_id).not.toBe((order!.event('seq', 2) as typeof a).properties?.order_id)
})

test('one request per order, sequential and batched; nothing lost or duplicated', async () => {
  const { rows, lost, duplicates } = await benchmark(small, () => undefined)
  const orders = rows.filter((r) => r.workload === 'order')
  expect(orders.map((r) => r.mode)).toEqual(['sequential', 'batch'])
  for (const row of orders) expect(row).toMatchObject({ events: 12, requestsPerEvent: 1, failed: 0 })
  expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 })
}, 60_000)

test('the final JSON line keeps every key and adds requests_per_order and order_speedup', async () => {
  const lines: string[] = []
  const spy = jest.spyOn(console, 'log').mockImplementation((line?: unknown) => void lines.push(String(line)))
  try {
    const summary = await runBench(small)
    const json = JSON.parse(lines[lines.length - 1])
    expect(json).toEqual(summary)
    for (const key of ['create_speedup', 'repeat_speedup', 'delete_speedup', 'requests_per_new', 'cpu_overhead_ratio'])
      expect(json).toHaveProperty(key)
    expect(json.requests_per_order).toBe(1)
    expect(json.order_speedup).toEqual(expect.any(Number))
    expect(lines.join('\n')).toMatch(/\| order +\| batch +\| 12 /)
  } finally {
    spy.mockRestore()
  }
}, 60_000)
