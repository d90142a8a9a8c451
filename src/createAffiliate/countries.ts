import countries from 'i18n-iso-countries'
import en from 'i18n-iso-countries/langs/en.json'
import { LRUCache } from 'lru-cache'

countries.registerLocale(en)

/**
 * The 90 ISO 3166-1 alpha-2 codes Refersion accepts in an affiliate's `country` field.
 * Any other value is answered with a 422 ("… is not a allowed value for field country").
 */
export const REFERSION_COUNTRIES: ReadonlySet<string> = new Set(
  (
    'US AE AR AS AT AU BA BD BE BG BR CA CH CL CN CO CR CZ DE DK DZ EE ES FI FM FO ' +
    'FR GB GH GR GU HK HN HR HU ID IE IL IM IN IS IT JM JP KR KW LT LU LV MA MH MK ' +
    'MP MT MX MY NG NL NO NZ OM PE PH PK PL PR PT PW QA RO RS RU SA SE SG SI SK SV ' +
    'TH TN TR TW TZ UA UY VG VI VN WS ZA'
  ).split(' ')
)

// Names and codes seen in real traits repeat a lot; remember the answers (bounded) so that
// a high-volume batch does not search the name tables for every event.
// '' stands for "cannot be converted" (lru-cache stores no undefined).
const cache = new LRUCache<string, string>({ max: 1000 })

function toAlpha2(code: string): string | undefined {
  if (!/^[a-z]{2,3}$|^\d{3}$/i.test(code)) return undefined
  const upper = code.toUpperCase()
  return countries.isValid(upper) ? countries.toAlpha2(upper) : undefined
}

function lookup(value: string): string | undefined {
  // Codes first: alpha-2 ("us"), alpha-3 ("USA"), numeric ("840").
  const byCode = toAlpha2(value)
  if (byCode) return byCode
  // Then English names, official or common ("United States", "United States of America", "UK"),
  // tolerant of dots and extra spaces ("U.S.A.").
  const cleaned = value.replace(/\./g, '').replace(/\s+/g, ' ').trim()
  if (cleaned !== value) {
    const code = toAlpha2(cleaned)
    if (code) return code
  }
  return countries.getAlpha2Code(cleaned, 'en') ?? countries.getSimpleAlpha2Code(cleaned, 'en')
}

/**
 * Converts a country as Segment traits carry it (code, alpha-3, or English name, any case) to the
 * two-letter code Refersion accepts. Returns undefined when the value cannot be converted or the
 * country is not one Refersion accepts: the caller leaves the field out rather than failing the affiliate.
 */
export function toRefersionCountry(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const input = value.trim()
  if (!input || input.length > 100) return undefined
  let result = cache.get(input)
  if (result === undefined) {
    const alpha2 = lookup(input)
    result = alpha2 && REFERSION_COUNTRIES.has(alpha2) ? alpha2 : ''
    cache.set(input, result)
  }
  return result || undefined
}
