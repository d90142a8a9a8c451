import { EmailTakenError, FIRST_AFFILIATE_ID, SandboxStore } from '../../tools/sandbox'
import { mulberry32 } from '../../tools/sandbox/prng'

const base = { first_name: 'Peter', last_name: 'Gibbons', status: 'ACTIVE' as const }

describe('SandboxStore', () => {
  it('assigns increasing numeric ids from 37569297 and unique 4-6 char lower-case codes', () => {
    const store = new SandboxStore({ random: mulberry32(7) })
    const codes = new Set<string>()
    const problems: string[] = []
    for (let i = 0; i < 2000; i++) {
      const a = store.create({ ...base, email: `p${i}@example.com` })
      if (a.id !== FIRST_AFFILIATE_ID + i) problems.push(`id ${a.id} at ${i}`)
      if (!/^[a-z0-9]{4,6}$/.test(a.code)) problems.push(`code ${a.code}`)
      if (a.link !== `https://www.refersion.com/c/${a.code}`) problems.push(`link ${a.link}`)
      codes.add(a.code)
    }
    expect(problems).toEqual([])
    expect(codes.size).toBe(2000)
    expect(store.size).toBe(2000)
  })

  it('produces the same codes for the same seed', () => {
    const make = (): string[] => {
      const store = new SandboxStore({ random: mulberry32(42) })
      return [1, 2, 3].map((i) => store.create({ ...base, email: `p${i}@example.com` }).code)
    }
    expect(make()).toEqual(make())
  })

  it('keeps one affiliate per email, case-insensitively, and indexes by id, code and email', () => {
    const store = new SandboxStore()
    const a = store.create({ ...base, email: 'Peter.Gibbons@Initech.com' })
    expect(() => store.create({ ...base, email: 'peter.gibbons@initech.com' })).toThrow(EmailTakenError)
    expect(store.getById(a.id)?.email).toBe('Peter.Gibbons@Initech.com')
    expect(store.getByCode(a.code.toUpperCase())?.id).toBe(a.id)
    expect(store.getByEmail('PETER.GIBBONS@INITECH.COM')?.id).toBe(a.id)
    expect(store.getById(1)).toBeUndefined()
  })

  it('updates fields and moves the email index; refuses an email owned by another affiliate', () => {
    const store = new SandboxStore()
    const a = store.create({ ...base, email: 'a@example.com', city: 'Austin' })
    store.create({ ...base, email: 'b@example.com' })
    expect(store.update(a.id, { email: 'c@example.com', city: undefined, phone: '555' })?.phone).toBe('555')
    expect(store.getByEmail('a@example.com')).toBeUndefined()
    expect(store.getByEmail('c@example.com')?.id).toBe(a.id)
    expect(store.getById(a.id)?.city).toBeUndefined()
    expect(() => store.update(a.id, { email: 'B@example.com' })).toThrow(EmailTakenError)
    expect(store.getById(a.id)?.email).toBe('c@example.com')
    expect(store.update(999, { city: 'x' })).toBeUndefined()
  })

  it('searches id and code exactly, email partially; unique_merchant_id exactly only when asked', () => {
    const store = new SandboxStore()
    const peter = store.create({ ...base, email: 'peter.gibbons@initech.com', unique_merchant_id: 'user-1' })
    const anna = store.create({ ...base, first_name: 'Anna', email: 'anna.gibbons@example.org' })
    store.create({ ...base, email: 'milton@initech.com' })
    expect(store.search('gibbons').map((a) => a.id)).toEqual([peter.id, anna.id])
    expect(store.search('GIBBONS', { first_name: 'anna' }).map((a) => a.id)).toEqual([anna.id])
    expect(store.search(String(anna.id)).map((a) => a.id)).toEqual([anna.id])
    expect(store.search(peter.code).map((a) => a.id)).toEqual([peter.id])
    expect(store.search('user-1')).toEqual([])
    expect(store.search('user-1', {}, { matchMerchantId: true }).map((a) => a.id)).toEqual([peter.id])
    expect(store.search('user-', {}, { matchMerchantId: true })).toEqual([])
    expect(store.search(String(anna.id).slice(0, 5))).toEqual([])
  })

  it('pages, sets statuses, adds unique triggers and clears', () => {
    const store = new SandboxStore()
    const ids = [1, 2, 3, 4, 5].map((i) => store.create({ ...base, email: `p${i}@example.com` }).id)
    expect(store.page(2, 2).map((a) => a.id)).toEqual(ids.slice(2, 4))
    expect(store.page(2, 4)).toEqual([])
    expect(store.setStatus(ids[0], 'DISABLED')).toBe(true)
    expect(store.getById(ids[0])?.status).toBe('DISABLED')
    expect(store.setStatus(1, 'DISABLED')).toBe(false)
    const code = store.getById(ids[1])!.code
    expect(store.addTrigger(code, 'COUPON', 'SAVE10')).toMatchObject({ affiliate_id: ids[1], type: 'COUPON' })
    expect(store.addTrigger(code, 'COUPON', 'save10')).toBe('duplicate')
    expect(store.addTrigger('zzzzzzz', 'SKU', 'x')).toBe('not_found')
    store.clear()
    expect(store.size).toBe(0)
    expect(store.create({ ...base, email: 'p1@example.com' }).id).toBe(FIRST_AFFILIATE_ID)
  })
})
