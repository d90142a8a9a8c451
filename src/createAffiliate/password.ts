import { randomInt } from 'node:crypto'

export const PASSWORD_MIN_LENGTH = 9
export const PASSWORD_MAX_LENGTH = 72
/** Length of the passwords this destination generates: comfortably inside Refersion's 9–72. */
export const GENERATED_PASSWORD_LENGTH = 20

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ'
const LOWER = 'abcdefghijkmnopqrstuvwxyz'
const DIGITS = '23456789'
// Symbols that need no escaping in JSON, URLs or shells, so a password can be copied safely.
const SYMBOLS = '!#$%&*+-=?@^_~'
const ALL = UPPER + LOWER + DIGITS + SYMBOLS

/**
 * Checks a password against Refersion's policy. Returns a sentence saying what is wrong (for the
 * user, it never repeats the password), or undefined when the password is acceptable.
 */
export function passwordPolicyViolation(password: string, email?: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    return `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long (it has ${password.length})`
  }
  if (!/[A-Z]/.test(password)) return 'must contain at least one upper-case letter'
  if (!/[a-z]/.test(password)) return 'must contain at least one lower-case letter'
  if (!/[0-9]/.test(password)) return 'must contain at least one digit'
  if (!/[^A-Za-z0-9]/.test(password)) return 'must contain at least one special character (a symbol such as ! or #)'
  if (/(.)\1{3}/su.test(password)) return 'must not repeat the same character more than 3 times in a row'
  if (email !== undefined && password.toLowerCase() === email.trim().toLowerCase()) {
    return 'must not be the same as the email address'
  }
  return undefined
}

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)]
}

/**
 * A fresh random password that meets Refersion's policy, from the operating system's CSPRNG:
 * one character of each required class, the rest from the whole alphabet, shuffled.
 */
export function generatePassword(length = GENERATED_PASSWORD_LENGTH): string {
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new RangeError(`password length must be ${PASSWORD_MIN_LENGTH}..${PASSWORD_MAX_LENGTH}`)
  }
  for (;;) {
    const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)]
    while (chars.length < length) chars.push(pick(ALL))
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1)
      ;[chars[i], chars[j]] = [chars[j], chars[i]]
    }
    const password = chars.join('')
    // A run of 4 equal characters is possible (if very unlikely): draw again rather than bend the shuffle.
    if (passwordPolicyViolation(password) === undefined) return password
  }
}
