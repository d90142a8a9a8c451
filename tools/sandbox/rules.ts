/**
 * Refersion's own rules as the sandbox models them, written here from the published facts and kept apart
 * from the destination's code on purpose: a mistake in the destination must not be able to hide itself by
 * being shared with the simulator it is tested against.
 */

/** The 90 country codes Refersion accepts for an affiliate's `country`. */
export const ACCEPTED_COUNTRIES: ReadonlySet<string> = new Set(
  (
    'US AE AR AS AT AU BA BD BE BG BR CA CH CL CN CO CR CZ DE DK DZ EE ES FI FM FO ' +
    'FR GB GH GR GU HK HN HR HU ID IE IL IM IN IS IT JM JP KR KW LT LU LV MA MH MK ' +
    'MP MT MX MY NG NL NO NZ OM PE PH PK PL PR PT PW QA RO RS RU SA SE SG SI SK SV ' +
    'TH TN TR TW TZ UA UY VG VI VN WS ZA'
  ).split(' ')
)

export const PASSWORD_LENGTH = { min: 9, max: 72 } as const
/** The longest run of one repeated character a password may contain. */
const MAX_RUN = 3

function longestRun(value: string): number {
  let longest = 0
  let run = 0
  let previous: string | undefined
  for (const char of value) {
    run = char === previous ? run + 1 : 1
    previous = char
    if (run > longest) longest = run
  }
  return longest
}

/**
 * What is wrong with a password under Refersion's policy, as the end of a sentence starting "The password"
 * (it never quotes the password), or undefined when it is acceptable.
 */
export function passwordProblem(password: string, email?: string): string | undefined {
  const length = [...password].length
  if (length < PASSWORD_LENGTH.min || length > PASSWORD_LENGTH.max) {
    return `needs ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters (this one has ${length})`
  }
  if (!/\p{Lu}/u.test(password)) return 'needs at least one upper-case letter'
  if (!/\p{Ll}/u.test(password)) return 'needs at least one lower-case letter'
  if (!/\p{Nd}/u.test(password)) return 'needs at least one digit'
  if (!/[^\p{L}\p{Nd}]/u.test(password)) return 'needs at least one special character (a symbol such as ! or #)'
  if (longestRun(password) > MAX_RUN) return `may not repeat a character more than ${MAX_RUN} times in a row`
  if (email !== undefined && password.trim().toLowerCase() === email.trim().toLowerCase()) {
    return 'may not be the same as the email address'
  }
  return undefined
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_RE.test(value)
}
