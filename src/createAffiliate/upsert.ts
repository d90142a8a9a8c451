import {
  affiliateCache,
  affiliateCacheEnabled,
  CachedAffiliate,
  fingerprintOf,
  startTurn
} from '../lib/affiliate-cache'
import type { AffiliateRecord, RefersionClient, TriggerResult } from '../lib/client'
import { FieldValidationError, RefersionApiError, RefersionRetryableError } from '../lib/errors'
import { numericId, sameEmail, text } from '../lib/normalise'
import { AffiliatePlan, missingNamesError, recordAlreadyMatches } from './plan'

export function isEmailTaken(error: unknown): boolean {
  return (
    error instanceof RefersionApiError &&
    error.refersionStatus === 422 &&
    error.messages.some((m) => /e-?mail/i.test(m) && /taken|already|exists|in use/i.test(m))
  )
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'exists'

export interface UpsertResult {
  /** `created`: a new affiliate; `updated`: an existing one was edited and/or given the coupon trigger;
   * `unchanged`: it existed and nothing needed sending (or only a trigger it already had); `exists`: it existed
   * and "Update Existing Affiliates" is off, so it was left as it is. */
  outcome: UpsertOutcome
  /** True when this process's memory of the affiliate decided the path: nothing sent (the profile equals the one
   * last sent successfully), or the edit went straight to the remembered id. */
  cached?: true
  /** For `exists`: why nothing was changed. */
  note?: string
  email: string
  id?: number
  code?: string
  link?: string
  /** The `/affiliate/edit` field keys sent, when an edit was sent. */
  edited?: string[]
  /** The coupon trigger on an existing affiliate: `added`, or `exists` (it already had it — counts as done). */
  coupon?: TriggerResult['outcome']
}

/** The affiliate code of a found record: search's `id` (documented as the code), else `get`'s answer. */
async function affiliateCodeOf(client: RefersionClient, record: AffiliateRecord, knownId?: number): Promise<string> {
  const direct = text(record.affiliate_code) ?? (typeof record.id === 'string' ? text(record.id) : undefined)
  if (direct) return direct
  const id = knownId ?? (await client.numericIdOf(record))
  const full = await client.getAffiliate({ id })
  const code = text(full?.affiliate_code) ?? text(full?.link)?.match(/\/c\/([^/?#]+)\/?$/)?.[1]
  if (code) return code
  throw new RefersionApiError(
    `Refersion did not give the affiliate code of affiliate ${id}, which adding the coupon as a conversion trigger needs`,
    { status: 502, refersionStatus: 200 }
  )
}

/** Options of one upsert. */
export interface UpsertOptions {
  /** `cacheAccountOf(settings)`: the cache is used only when given. */
  account?: string
}

/** What the cache compares: everything the changed path would send (edit fields and coupon), never a password. */
export function planFingerprint(plan: Pick<AffiliatePlan, 'edit' | 'coupon'>): string {
  return fingerprintOf({ edit: plan.edit, coupon: plan.coupon })
}

/** True for Refersion's answers to an edit of an id it does not know: the id in `ids_not_changed` (what it answers
 * for an id it cannot change — unknown, or a value it refused: either way the full path decides), or a 422 that
 * says the affiliate is not found / the id is invalid. */
export function isUnknownIdAnswer(error: unknown): boolean {
  if (!(error instanceof RefersionApiError)) return false
  if (error.idsNotChanged) return true
  return (
    error.refersionStatus === 422 &&
    error.messages.some((m) => /not found|does not exist|no (such )?affiliate|(selected|invalid).*\bid\b/i.test(m))
  )
}

const EXISTS_NOTE =
  'An affiliate with this email already exists and "Update Existing Affiliates" is off: it was left unchanged.'

/**
 * Creates the affiliate (one request) when the identify can. When Refersion answers that the email is taken — a
 * repeated identify, or a retry of a create whose answer was lost — or when the identify has no usable name (a
 * partial identify: looked up first, never created), finds that exact affiliate and updates it: search (exact,
 * case-insensitive email), get (only when needed for the numeric id), edit (only the documented edit fields, and
 * only when something is to be sent), then the coupon as a COUPON conversion trigger.
 *
 * With `options.account`, the process's affiliate cache saves requests on repeats (see SPEC "Request economy"):
 * a remembered affiliate whose profile equals the one last sent costs nothing; a changed one goes straight to
 * `/affiliate/edit` by the remembered id (plus the trigger for a coupon). An edit Refersion answers as for an
 * unknown id drops the entry and the event takes the full path; any other failure drops the entry and fails.
 * Only a fully successful event fills the cache. With `updateExisting` false an existing affiliate is never
 * changed: a remembered one costs nothing, else the event ends at "email taken" (or, without a name, at the lookup).
 */
export async function upsertAffiliate(
  client: RefersionClient,
  plan: AffiliatePlan,
  options: UpsertOptions = {}
): Promise<UpsertResult> {
  // REFERSION_CACHE=off (read here, on every event): no lookup, no digest, nothing remembered.
  const account = options.account !== undefined && affiliateCacheEnabled() ? options.account : undefined
  if (account === undefined) {
    return plan.updateExisting === false ? keepExisting(client, plan, '', false, {}) : fullUpsert(client, plan)
  }
  const cached = affiliateCache.get(account, plan.email)
  const fingerprint = planFingerprint(plan)
  const pending: Pending = {}
  const finish = startTurn(account, plan.email)
  let result: UpsertResult | undefined
  try {
    if (plan.updateExisting === false) {
      result = await keepExisting(client, plan, fingerprint, cached !== undefined, pending)
    } else {
      if (cached) result = await cachedUpdate(client, plan, account, cached, fingerprint, pending)
      if (!result) {
        result = await fullUpsert(client, plan)
        if (result.id !== undefined) pending.entry = { id: result.id, code: result.code, fingerprint }
      }
    }
  } catch (error) {
    // A failed request may still have been applied (a 5xx, a lost answer): nothing is remembered, and what was
    // remembered before (maybe by an overlapping event) is dropped.
    finish()
    affiliateCache.forget(account, plan.email)
    throw error
  }
  // Only the latest of overlapping upserts for one email may remember what it sent: the order in which their
  // requests were applied is unknown, so an older one that finishes last drops the entry instead.
  if (!finish()) affiliateCache.forget(account, plan.email)
  else if (pending.entry) affiliateCache.remember(account, plan.email, pending.entry)
  return result
}

/** What a successful upsert would have the cache remember. */
interface Pending {
  entry?: CachedAffiliate
}

/** The remembered path. Undefined when the event must take the full path (unknown id, or no code for a coupon). */
async function cachedUpdate(
  client: RefersionClient,
  plan: AffiliatePlan,
  account: string,
  cached: CachedAffiliate,
  fingerprint: string,
  pending: Pending
): Promise<UpsertResult | undefined> {
  const base: UpsertResult = { outcome: 'unchanged', email: plan.email, id: cached.id, cached: true }
  if (cached.code !== undefined) base.code = cached.code
  if (cached.fingerprint === fingerprint) return base
  const keys = Object.keys(plan.edit)
  if (plan.coupon && cached.code === undefined) {
    affiliateCache.forget(account, plan.email)
    return undefined
  }
  try {
    if (keys.length > 0) {
      await client.editAffiliate(cached.id, plan.edit)
      base.outcome = 'updated'
      base.edited = keys
    }
    if (plan.coupon && cached.code !== undefined) {
      const trigger = await client.addTrigger(cached.code, 'COUPON', plan.coupon)
      base.coupon = trigger.outcome
      if (trigger.outcome === 'added') base.outcome = 'updated'
    }
  } catch (error) {
    // Refersion does not know the id (or refused a value): drop the entry, and the full path decides. Any other
    // failure fails the event (upsertAffiliate drops the entry).
    if (!isUnknownIdAnswer(error) || base.outcome !== 'unchanged') throw error
    affiliateCache.forget(account, plan.email)
    return undefined
  }
  pending.entry = { id: cached.id, code: cached.code, fingerprint }
  return base
}

/** "Update Existing Affiliates" off: create when the identify can, never change an affiliate that exists. */
async function keepExisting(
  client: RefersionClient,
  plan: AffiliatePlan,
  fingerprint: string,
  isCached: boolean,
  pending: Pending
): Promise<UpsertResult> {
  const exists: UpsertResult = { outcome: 'exists', email: plan.email, note: EXISTS_NOTE }
  if (isCached) return Object.assign(exists, { cached: true as const })
  const created = await tryCreate(client, plan)
  if (created) {
    if (created.id !== undefined) pending.entry = { id: created.id, code: created.code, fingerprint }
    return created
  }
  if (plan.create) return exists
  // Without a name the identify cannot create: it succeeds (changing nothing) only for an affiliate that exists.
  const record = await client.findAffiliate(plan.email, (r) => sameEmail(r.email, plan.email))
  if (!record) throw nothingCreatedError(plan)
  return exists
}

function nothingCreatedError(plan: AffiliatePlan): FieldValidationError {
  const cannotCreate = plan.cannotCreate ?? missingNamesError({})
  return new FieldValidationError(
    `${cannotCreate.message} No affiliate has the email ${plan.email} yet, and an identify without a name can only ` +
      'update an existing affiliate, so nothing was created.',
    cannotCreate.fields
  )
}

/** `POST /affiliate/new` when the identify can create; undefined when Refersion answers that the email is taken. */
async function tryCreate(client: RefersionClient, plan: AffiliatePlan): Promise<UpsertResult | undefined> {
  if (!plan.create) return undefined
  try {
    const created = await client.createAffiliate(plan.create)
    return { outcome: 'created', email: plan.email, id: created.numericId, code: created.code, link: created.link }
  } catch (error) {
    if (!isEmailTaken(error)) throw error
    return undefined
  }
}

/** The uncached path: create, else find by exact email and update. */
async function fullUpsert(client: RefersionClient, plan: AffiliatePlan): Promise<UpsertResult> {
  const { email, create, cannotCreate } = plan
  const created = await tryCreate(client, plan)
  if (created) return created
  const record = await client.findAffiliate(email, (r) => sameEmail(r.email, email))
  if (!record) {
    if (!create && cannotCreate) throw nothingCreatedError(plan)
    // Refersion says the email is taken but search does not show it yet (its index can lag behind).
    throw new RefersionRetryableError(
      `Refersion reports the email ${email} as taken, but its search finds no affiliate with exactly that email yet`,
      503
    )
  }
  return updateFound(client, plan, record)
}

async function updateFound(
  client: RefersionClient,
  plan: AffiliatePlan,
  record: AffiliateRecord
): Promise<UpsertResult> {
  const result: UpsertResult = { outcome: 'unchanged', email: plan.email }
  const searchCode = typeof record.id === 'string' && !/^\d+$/.test(record.id) ? record.id : undefined
  if (searchCode) result.code = searchCode
  const fields = plan.edit
  const keys = Object.keys(fields)
  let id: number | undefined
  if (keys.length > 0 && !recordAlreadyMatches(record, fields)) {
    id = await client.numericIdOf(record)
    await client.editAffiliate(id, fields)
    result.outcome = 'updated'
    result.id = id
    result.edited = keys
  }
  if (plan.coupon) {
    const code = await affiliateCodeOf(client, record, id)
    const trigger = await client.addTrigger(code, 'COUPON', plan.coupon)
    result.code = code
    result.coupon = trigger.outcome
    if (trigger.outcome === 'added') result.outcome = 'updated'
  }
  // A numeric id the search already gave is reported (and remembered) without spending a request on it.
  if (result.id === undefined && typeof record.id === 'number' && numericId(record.id) !== undefined) {
    result.id = record.id
  }
  return result
}
