// Fills the destination's affiliate cache to its bound through the real remember path (one fingerprinted plan per
// person, as the upsert path remembers it) and reports this process's resident memory before and after.
import { AFFILIATE_CACHE_MAX, affiliateCache } from '../../src/lib/affiliate-cache'
import { planAffiliate } from '../../src/createAffiliate/plan'
import { planFingerprint } from '../../src/createAffiliate/upsert'

const gc = (globalThis as { gc?: () => void }).gc
const rssMb = () => {
  gc?.()
  return process.memoryUsage().rss / 1024 / 1024
}

const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024

const emptyRssMb = rssMb()
const emptyHeapMb = heapMb()
let peak = emptyRssMb
for (let i = 0; i < AFFILIATE_CACHE_MAX; i++) {
  const email = `Person.${i}@bench.example`
  const plan = planAffiliate({
    email,
    name: `Peter Gibbons${i}`,
    phone: '+1 415 555 0100',
    address: { street: '6th St', city: 'San Francisco', state: 'CA', postalCode: '94103', country: 'USA' }
  })
  affiliateCache.remember('pub_bench', email, {
    id: 100_000 + i,
    code: `c${i.toString(36)}`,
    fingerprint: planFingerprint(plan)
  })
  if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss / 1024 / 1024)
}
const fullRssMb = rssMb()
const cacheHeapMb = heapMb() - emptyHeapMb
process.send?.({
  entries: affiliateCache.size,
  emptyRssMb,
  fullRssMb,
  peakRssMb: Math.max(peak, fullRssMb),
  cacheHeapMb
})
process.disconnect?.()
