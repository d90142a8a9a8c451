/**
 * In-memory affiliate state of the Refersion sandbox. Framework-free: no HTTP, no validation of
 * request bodies (that is `api.ts`), only the invariants Refersion keeps itself: one affiliate per
 * email (case-insensitive), unique codes, increasing numeric ids, unique conversion triggers.
 */
import { mulberry32 } from './prng'

export type AffiliateStatus = 'ACTIVE' | 'PENDING' | 'DISABLED' | 'DENIED'
export const AFFILIATE_STATUSES: readonly AffiliateStatus[] = ['ACTIVE', 'PENDING', 'DISABLED', 'DENIED']

export type TriggerType = 'COUPON' | 'SKU' | 'EMAIL'
export const TRIGGER_TYPES: readonly TriggerType[] = ['COUPON', 'SKU', 'EMAIL']

export interface SandboxAffiliate {
  id: number
  code: string
  first_name: string
  last_name: string
  email: string
  status: AffiliateStatus
  offer_id: string
  company_name?: string
  paypal_email?: string
  address1?: string
  address2?: string
  city?: string
  state?: string
  zip?: string
  country?: string
  phone?: string
  send_welcome?: boolean
  conversion_trigger_coupon?: string
  unique_merchant_id?: string
  link: string
  created_at: string
  updated_at: string
}

/** The fields a caller chooses when creating an affiliate (the store assigns id, code, link, dates). */
export type NewAffiliate = Omit<SandboxAffiliate, 'id' | 'code' | 'link' | 'created_at' | 'updated_at' | 'offer_id'> & {
  offer_id?: string
}

/** Fields that `update` may change. An explicit `undefined` clears an optional field. */
export type AffiliatePatch = Partial<Omit<SandboxAffiliate, 'id' | 'code' | 'link' | 'created_at' | 'updated_at'>>

export interface ConversionTrigger {
  trigger_id: number
  affiliate_id: number
  affiliate_code: string
  type: TriggerType
  trigger: string
}

export interface SandboxStoreOptions {
  /** Source of randomness for affiliate codes (default: mulberry32 seeded with 1). */
  random?: () => number
  /** First numeric affiliate id (default 37569297, as in Refersion's documentation). */
  firstId?: number
  /** Clock for created_at / updated_at (default: the real clock). */
  now?: () => Date
  /** Prefix of affiliate links; the code is appended (default `https://www.refersion.com/c/`). */
  linkBase?: string
  /** Offer assigned when a create names none: the account's default offer (default `'1'`). */
  defaultOfferId?: string
}

export const FIRST_AFFILIATE_ID = 37569297
export const DEFAULT_OFFER_ID = '1'
const CODE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** Thrown by `create` / `update` when another affiliate already has the email. */
export class EmailTakenError extends Error {
  constructor() {
    super('The email you have entered is taken by another Affiliate.')
    this.name = 'EmailTakenError'
  }
}

function emailKey(email: string): string {
  return email.trim().toLowerCase()
}

function triggerKey(type: TriggerType, trigger: string): string {
  return `${type}:${trigger.trim().toLowerCase()}`
}

export class SandboxStore {
  private readonly byId = new Map<number, SandboxAffiliate>()
  private readonly byCode = new Map<string, SandboxAffiliate>()
  private readonly byEmail = new Map<string, SandboxAffiliate>()
  private readonly triggers = new Map<string, ConversionTrigger>()
  private random: () => number
  private readonly firstId: number
  private readonly now: () => Date
  private readonly linkBase: string
  readonly defaultOfferId: string
  private nextId: number
  private nextTriggerId = 1

  constructor(options: SandboxStoreOptions = {}) {
    this.random = options.random ?? mulberry32(1)
    this.firstId = options.firstId ?? FIRST_AFFILIATE_ID
    this.now = options.now ?? (() => new Date())
    this.linkBase = options.linkBase ?? 'https://www.refersion.com/c/'
    this.defaultOfferId = options.defaultOfferId ?? DEFAULT_OFFER_ID
    this.nextId = this.firstId
  }

  /** Number of affiliates. */
  get size(): number {
    return this.byId.size
  }

  /** Removes every affiliate and trigger; ids start again at the first id. A new random source may be given. */
  clear(random?: () => number): void {
    this.byId.clear()
    this.byCode.clear()
    this.byEmail.clear()
    this.triggers.clear()
    this.nextId = this.firstId
    this.nextTriggerId = 1
    if (random) this.random = random
  }

  getById(id: number): Readonly<SandboxAffiliate> | undefined {
    return this.byId.get(id)
  }

  /** Codes are lower-case; the lookup ignores case. */
  getByCode(code: string): Readonly<SandboxAffiliate> | undefined {
    return this.byCode.get(code.trim().toLowerCase())
  }

  /** Exact email lookup, case-insensitive. */
  getByEmail(email: string): Readonly<SandboxAffiliate> | undefined {
    return this.byEmail.get(emailKey(email))
  }

  /** True when an affiliate other than `exceptId` has this email (case-insensitive). */
  emailTaken(email: string, exceptId?: number): boolean {
    const owner = this.byEmail.get(emailKey(email))
    return owner !== undefined && owner.id !== exceptId
  }

  /** Every affiliate, oldest first (copies: changing them does not change the store). */
  all(): SandboxAffiliate[] {
    return Array.from(this.byId.values(), (a) => ({ ...a }))
  }

  /** One page of affiliates, oldest first; `page` starts at 1. */
  page(limit: number, page: number): Readonly<SandboxAffiliate>[] {
    const start = (page - 1) * limit
    const out: SandboxAffiliate[] = []
    if (start >= this.byId.size) return out
    let i = 0
    for (const a of this.byId.values()) {
      if (i++ < start) continue
      out.push(a)
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * Refersion's documented search: the keyword matches the numeric id or the code exactly, or the email
   * PARTIALLY (case-insensitive substring). With `matchMerchantId` it also matches `unique_merchant_id`
   * exactly (an undocumented reading, off by default). Optional first/last name filters compare
   * case-insensitively. Oldest first.
   */
  search(
    keyword: string,
    filters: { first_name?: string; last_name?: string } = {},
    options: { matchMerchantId?: boolean } = {}
  ): Readonly<SandboxAffiliate>[] {
    const kw = keyword.trim()
    const kwLower = kw.toLowerCase()
    if (!kw) return []
    const kwId = /^[1-9]\d{0,15}$/.test(kw) ? Number(kw) : NaN
    const first = filters.first_name?.trim().toLowerCase()
    const last = filters.last_name?.trim().toLowerCase()
    const out: SandboxAffiliate[] = []
    // The email index is keyed by the lower-cased email, so the scan needs no per-affiliate allocation.
    for (const [email, a] of this.byEmail) {
      const hit =
        email.includes(kwLower) ||
        a.code === kwLower ||
        a.id === kwId ||
        (options.matchMerchantId === true && a.unique_merchant_id !== undefined && a.unique_merchant_id === kw)
      if (!hit) continue
      if (first && a.first_name.toLowerCase() !== first) continue
      if (last && a.last_name.toLowerCase() !== last) continue
      out.push(a)
    }
    // The index's order changes when an email is edited: answer oldest first, like the rest of the API.
    return out.length > 1 ? out.sort((x, y) => x.id - y.id) : out
  }

  /** Creates an affiliate. Throws EmailTakenError when the email belongs to another affiliate. */
  create(fields: NewAffiliate): Readonly<SandboxAffiliate> {
    if (this.emailTaken(fields.email)) throw new EmailTakenError()
    const id = this.nextId++
    const code = this.newCode()
    const at = this.now().toISOString()
    const affiliate: SandboxAffiliate = {
      ...stripUndefined(fields),
      id,
      code,
      offer_id: fields.offer_id ?? this.defaultOfferId,
      link: this.linkBase + code,
      created_at: at,
      updated_at: at
    }
    this.byId.set(id, affiliate)
    this.byCode.set(code, affiliate)
    this.byEmail.set(emailKey(affiliate.email), affiliate)
    if (affiliate.conversion_trigger_coupon) this.claimCoupon(affiliate)
    return affiliate
  }

  /**
   * Applies a patch to one affiliate. Returns the updated affiliate, or undefined for an unknown id.
   * Throws EmailTakenError (and changes nothing) when the new email belongs to another affiliate.
   */
  update(id: number, patch: AffiliatePatch): Readonly<SandboxAffiliate> | undefined {
    const affiliate = this.byId.get(id)
    if (!affiliate) return undefined
    if (patch.email !== undefined && this.emailTaken(patch.email, id)) throw new EmailTakenError()
    const oldEmailKey = emailKey(affiliate.email)
    for (const [key, value] of Object.entries(patch) as [keyof AffiliatePatch, unknown][]) {
      if (value === undefined) {
        if (key !== 'first_name' && key !== 'last_name' && key !== 'email' && key !== 'status' && key !== 'offer_id') {
          delete affiliate[key]
        }
      } else {
        ;(affiliate as unknown as Record<string, unknown>)[key] = value
      }
    }
    const newEmailKey = emailKey(affiliate.email)
    if (newEmailKey !== oldEmailKey) {
      this.byEmail.delete(oldEmailKey)
      this.byEmail.set(newEmailKey, affiliate)
    }
    if (patch.conversion_trigger_coupon) this.claimCoupon(affiliate)
    affiliate.updated_at = this.now().toISOString()
    return affiliate
  }

  /** Sets the status; false for an unknown id. Setting the current status again counts as a change. */
  setStatus(id: number, status: AffiliateStatus): boolean {
    const affiliate = this.byId.get(id)
    if (!affiliate) return false
    affiliate.status = status
    affiliate.updated_at = this.now().toISOString()
    return true
  }

  /** Whether a conversion trigger of this type and value exists (values compare case-insensitively). */
  hasTrigger(type: TriggerType, trigger: string): boolean {
    return this.triggers.has(triggerKey(type, trigger))
  }

  /** Adds a conversion trigger; 'not_found' for an unknown code, 'duplicate' when it exists already. */
  addTrigger(code: string, type: TriggerType, trigger: string): ConversionTrigger | 'not_found' | 'duplicate' {
    const affiliate = this.getByCode(code)
    if (!affiliate) return 'not_found'
    const key = triggerKey(type, trigger)
    if (this.triggers.has(key)) return 'duplicate'
    const created: ConversionTrigger = {
      trigger_id: this.nextTriggerId++,
      affiliate_id: affiliate.id,
      affiliate_code: affiliate.code,
      type,
      trigger: trigger.trim()
    }
    this.triggers.set(key, created)
    return created
  }

  /** The trigger of this type whose value equals `value`, case-insensitively. */
  findTrigger(type: TriggerType, value: string): Readonly<ConversionTrigger> | undefined {
    return this.triggers.get(triggerKey(type, value))
  }

  /** Removes a trigger of the affiliate with this numeric id; the removed trigger, or undefined. */
  deleteTrigger(affiliateId: number, type: TriggerType, value: string): ConversionTrigger | undefined {
    const key = triggerKey(type, value)
    const found = this.triggers.get(key)
    if (!found || found.affiliate_id !== affiliateId) return undefined
    this.triggers.delete(key)
    return { ...found }
  }

  /** Every conversion trigger, oldest first. */
  allTriggers(): ConversionTrigger[] {
    return Array.from(this.triggers.values(), (t) => ({ ...t }))
  }

  /** `conversion_trigger_coupon` on create/edit registers a COUPON trigger when that coupon is still free. */
  private claimCoupon(affiliate: SandboxAffiliate): void {
    const coupon = affiliate.conversion_trigger_coupon
    if (coupon && !this.hasTrigger('COUPON', coupon)) this.addTrigger(affiliate.code, 'COUPON', coupon)
  }

  /** A unique 4–6 character lower-case alphanumeric code; longer only after repeated collisions. */
  private newCode(): string {
    for (let length = 4; ; length = Math.min(length + 1, 6)) {
      for (let attempt = 0; attempt < 8; attempt++) {
        let code = ''
        for (let i = 0; i < length; i++) code += CODE_ALPHABET[Math.floor(this.random() * CODE_ALPHABET.length)]
        if (!this.byCode.has(code)) return code
      }
    }
  }
}

function stripUndefined<T extends object>(value: T): T {
  const out = {} as T
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
