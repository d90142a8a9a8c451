import { IntegrationError } from '@segment/actions-core'

export interface RefersionKeys {
  publicKey: string
  secretKey: string
}

export const API_KEY_FORMAT =
  'Enter your Refersion public key and secret key joined by a dot, as "publickey.secretkey" ' +
  '(Refersion dashboard: Account > Settings > Refersion API).'

// Visible ASCII only: the halves travel in HTTP headers, where spaces, control and non-ASCII characters break.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/

function invalid(reason: string): IntegrationError {
  return new IntegrationError(`Invalid API Key setting: ${reason}. ${API_KEY_FORMAT}`, 'INVALID_API_KEY_FORMAT', 400)
}

/**
 * Splits the `publickey.secretkey` setting at its first dot. Throws a 400 IntegrationError that names the
 * expected format (and never repeats the key) when either half is missing or cannot be sent in a header.
 */
export function parseApiKey(apiKey: unknown): RefersionKeys {
  if (typeof apiKey !== 'string' || apiKey.trim() === '') throw invalid('it is empty')
  const dot = apiKey.indexOf('.')
  if (dot < 0) throw invalid('it has no "." between the public key and the secret key')
  const publicKey = apiKey.slice(0, dot).trim()
  const secretKey = apiKey.slice(dot + 1).trim()
  if (!publicKey) throw invalid('the public key (before the first ".") is empty')
  if (!secretKey) throw invalid('the secret key (after the first ".") is empty')
  if (!VISIBLE_ASCII.test(publicKey)) {
    throw invalid('the public key contains spaces, control or non-ASCII characters')
  }
  if (!VISIBLE_ASCII.test(secretKey)) {
    throw invalid('the secret key contains spaces, control or non-ASCII characters')
  }
  // actions-core drops a header whose value is the text "undefined" (an empty template variable), so such a
  // half would never reach Refersion and the pair would look rejected.
  if (publicKey === 'undefined') throw invalid('the public key is an unfilled placeholder, not a key')
  if (secretKey === 'undefined') throw invalid('the secret key is an unfilled placeholder, not a key')
  return { publicKey, secretKey }
}

/** The secret half of a setting, when it parses; used to scrub it from anything shown to people. */
export function secretOf(apiKey: unknown): string | undefined {
  try {
    return parseApiKey(apiKey).secretKey
  } catch {
    return undefined
  }
}
