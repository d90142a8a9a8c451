import type { DestinationDefinition, ModifiedResponse } from '@segment/actions-core'
import { redactBodyText, redactHeaders, redactSecretKeys } from './redact'

/** One HTTP exchange with Refersion, in the shape the Segment CLI's `serve` reports. */
export interface Exchange {
  request: { url: string; method: string; headers: Record<string, string>; body: string }
  response: { statusCode: number; statusMessage: string; headers: Record<string, string>; body: unknown }
}

type AfterResponseHook = (request: Request, options: unknown, response: Response) => Promise<void>

/** A fetch Headers object as name/value pairs (its `forEach` is in every lib version TypeScript ships). */
function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = []
  headers.forEach((value, name) => pairs.push([name, value]))
  return pairs
}

function parsedBody(response: Response): unknown {
  const modified = response as Partial<ModifiedResponse>
  const content = typeof modified.content === 'string' ? modified.content : undefined
  if (modified.data !== undefined && typeof modified.data !== 'string') return modified.data
  if (content === undefined) return modified.data ?? ''
  const trimmed = content.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed)
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return content
}

/**
 * Records every HTTP exchange a destination makes, in order of completion. Its hook runs as a request-client
 * `afterResponse` hook (after actions-core's own, which reads the body into `content`/`data`), so it sees the
 * same request, options and response that actions-core's 'response' events carry — for actions, `onDelete` and
 * `testAuthentication` alike. Credentials in headers and password values in bodies are redacted here; the secret
 * key itself is scrubbed from everything later, by the server.
 */
export class ExchangeRecorder {
  readonly exchanges: Exchange[] = []

  readonly hook: AfterResponseHook = async (request, _options, response) => {
    const body = await request
      .clone()
      .text()
      .catch(() => '')
    this.exchanges.push({
      request: {
        url: request.url,
        method: request.method,
        headers: redactHeaders(headerPairs(request.headers)),
        body: redactBodyText(body)
      },
      response: {
        statusCode: response.status,
        statusMessage: response.statusText,
        headers: redactHeaders(headerPairs(response.headers)),
        body: redactSecretKeys(parsedBody(response))
      }
    })
  }

  /** A copy of the definition whose requests (all of them: `extendRequest` applies everywhere) are recorded. */
  instrument<Settings>(definition: DestinationDefinition<Settings>): DestinationDefinition<Settings> {
    const extendRequest = definition.extendRequest
    const hook = this.hook
    return {
      ...definition,
      extendRequest: (data) => {
        const options = (extendRequest?.(data) ?? {}) as Record<string, unknown>
        const hooks = Array.isArray(options.afterResponse) ? (options.afterResponse as unknown[]) : []
        // actions-core merges request options by concatenating hook arrays, so this adds to its own hooks.
        return { ...options, afterResponse: [...hooks, hook] } as ReturnType<NonNullable<typeof extendRequest>>
      }
    }
  }
}
