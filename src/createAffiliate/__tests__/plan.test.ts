import { PayloadValidationError } from '@segment/actions-core'
import { FieldValidationError } from '../../lib/errors'
import { REFERSION_COUNTRIES, toRefersionCountry } from '../countries'
import {
  buildNewAffiliate,
  EDIT_FIELDS,
  editableFields,
  planAffiliate,
  recordAlreadyMatches,
  resolveNames
} from '../plan'
import {
  generatePassword,
  GENERATED_PASSWORD_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordPolicyViolation
} from '../password'

describe('countries', () => {
  it('holds exactly the 90 codes Refersion accepts', () => {
    expect(REFERSION_COUNTRIES.size).toBe(90)
    for (const code of ['US', 'DE', 'GB', 'CA', 'JP', 'ZA', 'WS', 'VG'])
      expect(REFERSION_COUNTRIES.has(code)).toBe(true)
    for (const code of ['AF', 'FR_', 'UK', 'EU']) expect(REFERSION_COUNTRIES.has(code)).toBe(false)
  })

  it.each([
    ['US', 'US'],
    ['us', 'US'],
    ['USA', 'US'],
    ['usa', 'US'],
    ['840', 'US'],
    ['United States', 'US'],
    ['united states', 'US'],
    ['United States of America', 'US'],
    ['U.S.A.', 'US'],
    ['U.S.', 'US'],
    [' US ', 'US'],
    ['Germany', 'DE'],
    ['DEU', 'DE'],
    ['de', 'DE'],
    ['United Kingdom', 'GB'],
    ['Japan', 'JP'],
    ['South Korea', 'KR'],
    ['Mexico', 'MX']
  ])('%p → %p', (input, code) => {
    expect(toRefersionCountry(input)).toBe(code)
  })

  it.each(['Afghanistan', 'AF', 'AFG', 'Narnia', 'ZZ', 'XYZ', '', '   ', 'x'.repeat(200)])(
    '%p → undefined (left out)',
    (input) => {
      expect(toRefersionCountry(input)).toBeUndefined()
    }
  )

  it('ignores non-strings', () => {
    for (const value of [undefined, null, 840, {}, ['US']]) expect(toRefersionCountry(value)).toBeUndefined()
  })
})

describe('password policy', () => {
  it.each([
    ['Abc1!defg', true],
    ['Aa1!'.repeat(18), true],
    ['Aaaa1!bcd', true],
    ['Abc1!def', false],
    ['Aa1!'.repeat(18) + 'x', false],
    ['abcdef1!gh', false],
    ['ABCDEF1!GH', false],
    ['Abcdefg!hi', false],
    ['Abcdefg1hi', false],
    ['Aaaaa1!bcd', false],
    ['Abc1!dddd9', false]
  ])('%p valid: %p', (password, valid) => {
    expect(passwordPolicyViolation(password) === undefined).toBe(valid)
  })

  it('rejects the email as password case-insensitively', () => {
    expect(passwordPolicyViolation('peter.g1@INITECH.com', 'Peter.G1@initech.com')).toMatch(/email/)
    expect(passwordPolicyViolation('peter.g1@INITECH.com', 'other@initech.com')).toBeUndefined()
  })

  it('generates 2,000 policy-valid, distinct passwords', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const password = generatePassword()
      expect(password).toHaveLength(GENERATED_PASSWORD_LENGTH)
      const why = passwordPolicyViolation(password)
      if (why !== undefined) throw new Error(`generated password #${i} breaks the policy: ${why}`)
      seen.add(password)
    }
    expect(seen.size).toBe(2000)
  })

  it('generates valid passwords at every allowed length and refuses others', () => {
    for (let length = PASSWORD_MIN_LENGTH; length <= PASSWORD_MAX_LENGTH; length++) {
      for (let i = 0; i < 20; i++) {
        const password = generatePassword(length)
        expect(password).toHaveLength(length)
        expect(passwordPolicyViolation(password)).toBeUndefined()
      }
    }
    expect(() => generatePassword(PASSWORD_MIN_LENGTH - 1)).toThrow(RangeError)
    expect(() => generatePassword(PASSWORD_MAX_LENGTH + 1)).toThrow(RangeError)
  })
})

describe('affiliate helpers', () => {
  it('resolveNames derives the missing half from name', () => {
    expect(resolveNames({ name: 'Jan Van Der Berg' })).toEqual({ first_name: 'Jan', last_name: 'Van Der Berg' })
    expect(resolveNames({ firstName: 'Pete', name: 'Peter Gibbons' })).toEqual({
      first_name: 'Pete',
      last_name: 'Gibbons'
    })
    expect(() => resolveNames({ name: 'Cher' })).toThrow(PayloadValidationError)
    expect(() => resolveNames({})).toThrow(PayloadValidationError)
  })

  it('buildNewAffiliate rejects an empty email and an unknown status', () => {
    expect(() => buildNewAffiliate({ email: ' ', name: 'Peter Gibbons' })).toThrow(PayloadValidationError)
    expect(() => buildNewAffiliate({ email: 'a@b.co', name: 'Peter Gibbons', status: 'DISABLED' as 'ACTIVE' })).toThrow(
      PayloadValidationError
    )
  })

  it('editableFields keeps only the documented edit fields: no password, status, send_welcome, email, unique_merchant_id or conversion_trigger_coupon; offer as a number', () => {
    const body = buildNewAffiliate({
      email: 'a@b.co',
      name: 'Peter Gibbons',
      company: 'Initech',
      offer: '4407',
      password: 'Corr3ct#Horse',
      status: 'ACTIVE',
      sendWelcome: true,
      conversionTriggerCoupon: 'C10',
      uniqueMerchantId: 'u'
    })
    expect(body).toMatchObject({ offer: '4407', unique_merchant_id: 'u', conversion_trigger_coupon: 'C10' })
    expect(editableFields(body)).toEqual({
      first_name: 'Peter',
      last_name: 'Gibbons',
      company: 'Initech',
      offer: 4407
    })
  })

  it('EDIT_FIELDS is the documented edit list (less id, email and custom_fields)', () => {
    expect([...EDIT_FIELDS].sort()).toEqual(
      [
        'first_name',
        'last_name',
        'company',
        'paypal_email',
        'address1',
        'address2',
        'city',
        'state',
        'zip',
        'country',
        'phone',
        'offer'
      ].sort()
    )
  })

  it('planAffiliate: a full identify can create; a name-less one only updates, with the fields present', () => {
    const full = planAffiliate({ email: 'a@b.co', name: 'Peter Gibbons', phone: '1', conversionTriggerCoupon: 'C' })
    expect(full.create).toMatchObject({ first_name: 'Peter', last_name: 'Gibbons', phone: '1' })
    expect(full.edit).toEqual({ first_name: 'Peter', last_name: 'Gibbons', phone: '1' })
    expect(full.coupon).toBe('C')
    expect(full.cannotCreate).toBeUndefined()

    const partial = planAffiliate({ email: 'a@b.co', lastName: 'Gibbons', offer: '12', uniqueMerchantId: 'u' })
    expect(partial.create).toBeUndefined()
    expect(partial.edit).toEqual({ last_name: 'Gibbons', offer: 12 })
    expect(partial.cannotCreate).toBeInstanceOf(FieldValidationError)
    expect(partial.cannotCreate?.fields).toEqual(['firstName', 'lastName', 'name'])
    expect(planAffiliate({ email: 'a@b.co' }).edit).toEqual({})
  })

  it('planAffiliate rejects a non-numeric offer, naming the field', () => {
    for (const input of [
      { email: 'a@b.co', name: 'Peter Gibbons', offer: 'x1' },
      { email: 'a@b.co', offer: '1e3' }
    ]) {
      expect(() => planAffiliate(input)).toThrow(FieldValidationError)
      try {
        planAffiliate(input)
      } catch (error) {
        expect((error as FieldValidationError).fields).toEqual(['offer'])
      }
    }
  })

  it('recordAlreadyMatches only when every field is visible and equal', () => {
    const fields = { first_name: 'Peter', last_name: 'Gibbons', company: 'Initech' }
    expect(
      recordAlreadyMatches({ id: 'a', first_name: 'Peter', last_name: 'Gibbons', company_name: 'Initech' }, fields)
    ).toBe(true)
    expect(recordAlreadyMatches({ id: 'a', first_name: 'Peter', last_name: 'Gibbons' }, fields)).toBe(false)
    expect(
      recordAlreadyMatches({ id: 'a', first_name: 'Peter', last_name: 'G', company_name: 'Initech' }, fields)
    ).toBe(false)
    expect(recordAlreadyMatches({ id: 'a', first_name: 'Peter', last_name: 'Gibbons' }, { ...fields, city: 'X' })).toBe(
      false
    )
  })

  it('recordAlreadyMatches compares the offer as a number against offer_id (string or number)', () => {
    expect(recordAlreadyMatches({ id: 'a', offer_id: '4407' }, { offer: 4407 })).toBe(true)
    expect(recordAlreadyMatches({ id: 'a', offer_id: 4407 }, { offer: 4407 })).toBe(true)
    expect(recordAlreadyMatches({ id: 'a', offer_id: '44070' }, { offer: 4407 })).toBe(false)
    expect(recordAlreadyMatches({ id: 'a', offer_id: '' }, { offer: 4407 })).toBe(false)
    expect(recordAlreadyMatches({ id: 'a' }, { offer: 4407 })).toBe(false)
    expect(recordAlreadyMatches({ id: 'a', unique_merchant_id: 'u' }, {})).toBe(true)
  })
})

describe('validation errors name their fields as data', () => {
  it('a missing name, email, bad password or status carries the field keys (tools need not parse messages)', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ email: 'a@b.co' }, ['firstName', 'lastName', 'name']],
      [{ email: ' ', name: 'A B' }, ['email']],
      [{ email: 'a@b.co', name: 'A B', password: 'short' }, ['password']],
      [{ email: 'a@b.co', name: 'A B', status: 'DISABLED' }, ['status']]
    ]
    for (const [input, fields] of cases) {
      let thrown: unknown
      try {
        buildNewAffiliate(input as unknown as Parameters<typeof buildNewAffiliate>[0])
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(FieldValidationError)
      expect(thrown).toBeInstanceOf(PayloadValidationError)
      expect((thrown as FieldValidationError).fields).toEqual(fields)
    }
  })
})
