/**
 * The bench's credit workloads, on a small run: a credit by numeric id or by a remembered email is one request,
 * by email with the cache off three (search, get, credit); every credit recorded once; the summary carries
 * `requests_per_credit` and `credit_speedup`.
 */
import { benchmark, runBench, WORKLOADS } from '../../tools/bench'

const small = { events: 10, latency: 0, batchSize: 50, cpuEvents: 4, cpuRounds: 2, seed: 5 }

test('the credit workloads are Credit Commission workloads run before the deletes', () => {
  const names = WORKLOADS.map((w) => w.name)
  for (const name of ['credit_id', 'credit', 'credit_nocache']) {
    expect(WORKLOADS.find((w) => w.name === name)).toMatchObject({ action: 'creditCommission' })
    expect(names.indexOf(name)).toBeLessThan(names.indexOf('delete'))
  }
})

test('one request per credit by id or cached email, three uncached; nothing lost or paid twice', async () => {
  const { rows, lost, duplicates } = await benchmark(small, () => undefined)
  const perEvent = (workload: string) =>
    rows.filter((r) => r.workload === workload).map((r) => [r.mode, r.requestsPerEvent, r.failed])
  expect(perEvent('credit_id')).toEqual([
    ['sequential', 1, 0],
    ['batch', 1, 0]
  ])
  expect(perEvent('credit')).toEqual([
    ['sequential', 1, 0],
    ['batch', 1, 0]
  ])
  expect(perEvent('credit_nocache')).toEqual([
    ['sequential', 3, 0],
    ['batch', 3, 0]
  ])
  expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 })
}, 60_000)

test('the final JSON line carries the credit figures', async () => {
  const lines: string[] = []
  const spy = jest.spyOn(console, 'log').mockImplementation((line?: unknown) => void lines.push(String(line)))
  try {
    const summary = await runBench(small)
    expect(JSON.parse(lines[lines.length - 1])).toEqual(summary)
    expect(summary).toMatchObject({
      requests_per_credit: 1,
      requests_per_credit_by_id: 1,
      requests_per_credit_cached: 1,
      requests_per_credit_uncached: 3,
      credit_speedup: expect.any(Number)
    })
  } finally {
    spy.mockRestore()
  }
}, 60_000)
