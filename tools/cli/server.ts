import cors from '@fastify/cors'
import { defaultValues, Destination, PayloadValidationError } from '@segment/actions-core'
import type { DestinationDefinition, InputField, JSONObject } from '@segment/actions-core'
import fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { marshalError } from './errors'
import { ExchangeRecorder } from './exchanges'
import { mappingErrors } from './validate'
import { RecentSecrets, REDACTED, Scrubber, secretsOfSettings } from './redact'

/** The Segment app origins (and the local Actions Tester) allowed to call the server from a browser. */
export const ALLOWED_ORIGINS = [
  'https://app.segment.com',
  'https://eu1.app.segment.com',
  'https://app.segment.build',
  'https://eu1.app.segment.build',
  'http://localhost:8000'
]

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024
export const WORKER_PID_HEADER = 'x-serve-worker-pid'
/** Per-event results of an array payload (performBatch's multistatus), as JSON. */
export const MULTISTATUS_HEADER = 'x-serve-multistatus'
/** What a single event's perform (or onDelete) returned, as JSON. */
export const RESULT_HEADER = 'x-serve-result'
const MAX_HEADER_JSON = 8 * 1024
/** Oversized bodies up to this multiple of the limit are drained before the 413; larger ones cut the connection. */
const DRAIN_FACTOR = 4

export interface DevServerOptions<Settings = unknown> {
  definition: DestinationDefinition<Settings>
  /** Settings used when a request sends none (from `--api-key`); merged under the request's own settings. */
  defaultSettings?: Record<string, unknown>
  /** One line per route at start, one per request; never given the secret key. */
  log?: (line: string) => void
  bodyLimit?: number
}

type Body = Record<string, unknown>

class BadRequest extends Error {
  readonly statusCode = 400
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** JSON.parse, refusing prototype-poisoning keys (`__proto__`, `constructor.prototype`) as Fastify's parser does. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__' || (key === 'constructor' && isObject(value) && 'prototype' in value)) {
        throw new BadRequest(`Body contains a forbidden "${key}" key`)
      }
      return value
    })
  } catch (error) {
    if (error instanceof BadRequest) throw error
    // V8's message may quote the body (and a secret in it): keep only where the error is.
    const message = error instanceof Error ? error.message : ''
    const where = /at position \d+/.exec(message)?.[0] ?? (/end of JSON input/.test(message) ? 'at its end' : '')
    throw new BadRequest(`Body is not valid JSON${where ? ` (error ${where})` : ''}`)
  }
}

/** JSON that is safe in an HTTP header (ASCII only) and not too long; undefined when it would not fit. */
function headerJson(value: unknown): string | undefined {
  const text = JSON.stringify(value ?? null).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  return text.length <= MAX_HEADER_JSON ? text : undefined
}

/** Field key → label, so that the destination's validation messages (which quote labels) map to fields. */
function labelsOf(fields: Record<string, InputField>): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const [key, field] of Object.entries(fields)) if (field.label) labels[key] = field.label
  return labels
}

/** The destination definition as the Segment CLI's `/manifest` shows it: JSON, functions dropped. */
export function manifestOf<Settings>(definition: DestinationDefinition<Settings>): JSONObject {
  return JSON.parse(JSON.stringify(definition)) as JSONObject
}

/** One summary per event of a multistatus, small enough for a header: status, and the error when there is one. */
function multistatusSummary(nodes: unknown[]): unknown[] {
  return nodes.map((node) => {
    const n = (node ?? {}) as Record<string, unknown>
    const out: Record<string, unknown> = { status: n.status }
    if (n.errortype !== undefined) out.errortype = n.errortype
    if (n.errormessage !== undefined) out.errormessage = n.errormessage
    return out
  })
}

/**
 * The Segment CLI–compatible development server (see SPEC "Local development server"), as a Fastify app that is
 * not listening yet. Every request gets a fresh `Destination` whose HTTP exchanges are recorded; the secret key
 * of the request's settings (and of the default settings) is scrubbed from everything the server answers or logs.
 */
export function buildDevServer<Settings>(options: DevServerOptions<Settings>): FastifyInstance {
  const { definition } = options
  const log = options.log ?? ((line: string) => console.log(line))
  const defaults = options.defaultSettings ?? {}
  const recent = new RecentSecrets()
  recent.add(secretsOfSettings(defaults))
  const scrubbers = new WeakMap<FastifyRequest, Scrubber>()
  const scrubberOf = (request: FastifyRequest) => scrubbers.get(request) ?? new Scrubber(recent.all)

  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const tooLarge = () => ({
    statusCode: 413,
    error: 'Payload Too Large',
    message: `Request body is larger than ${bodyLimit} bytes`
  })
  const app = fastify({
    bodyLimit,
    logger: false,
    forceCloseConnections: true
  })

  // Bodies are JSON whatever the content type says (curl -d sends form encoding); an empty body is "no body".
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, parseJsonBody(text))
    } catch (error) {
      done(new BadRequest(error instanceof Error ? error.message : String(error)), undefined)
    }
  })

  void app.register(cors, {
    origin: ALLOWED_ORIGINS,
    methods: ['GET', 'POST', 'OPTIONS'],
    exposedHeaders: [WORKER_PID_HEADER, MULTISTATUS_HEADER, RESULT_HEADER]
  })

  // A browser always sends Origin on cross-origin requests: refuse other sites outright, so that a web page cannot
  // make the server act (with the --api-key default settings) even through a "simple" request CORS does not block.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin
    if (request.method !== 'OPTIONS' && typeof origin === 'string' && !ALLOWED_ORIGINS.includes(origin)) {
      return reply.code(403).send({
        statusCode: 403,
        error: 'Forbidden',
        message: `Origin ${origin} is not allowed; allowed origins: ${ALLOWED_ORIGINS.join(', ')}`
      })
    }
  })

  // A body announced as too large is read and discarded (up to a cap) before the 413, so that clients which
  // write the whole body before reading the answer (fetch) get the 413 rather than a broken pipe.
  app.addHook('onRequest', async (request, reply) => {
    const declared = Number(request.headers['content-length'])
    if (!(declared > bodyLimit)) return
    if (declared <= bodyLimit * DRAIN_FACTOR) {
      await new Promise<void>((resolve) => {
        request.raw
          .on('end', resolve)
          .on('error', () => resolve())
          .on('close', resolve)
        request.raw.resume()
      })
    }
    return reply.code(413).header('connection', 'close').send(tooLarge())
  })

  // Whatever this request answers or logs is scrubbed of the secrets its body carries (settings, or the flat
  // settings of /authenticate) — on every route, unknown ones included — and of the secrets seen recently.
  app.addHook('preHandler', async (request) => {
    const body = request.body
    if (isObject(body)) recent.add([...secretsOfSettings(body), ...secretsOfSettings(body.settings)])
    scrubbers.set(request, new Scrubber(recent.all))
  })

  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header(WORKER_PID_HEADER, String(process.pid))
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    const path = scrubberOf(request).text(request.url.split('?')[0])
    log(`${reply.statusCode} ${request.method} ${path} ${Math.round(reply.elapsedTime)}ms`)
  })

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const scrub = scrubberOf(request)
    const statusCode = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    const message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLarge().message : error.message
    if (statusCode >= 500) log(`error: ${scrub.text(error.stack ?? error.message)}`)
    return reply.code(statusCode).send({
      statusCode,
      error: statusCode >= 500 ? 'Internal Server Error' : statusCode === 413 ? 'Payload Too Large' : 'Bad Request',
      message: scrub.text(message)
    })
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    return reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: scrubberOf(request).text(`Route ${request.method} ${path} not found. Routes: ${routes.join(', ')}`)
    })
  })

  /** The request's settings over the defaults. */
  const settingsFor = (given: unknown): Record<string, unknown> => {
    if (given !== undefined && !isObject(given)) throw new BadRequest('"settings" must be a JSON object')
    return { ...defaults, ...(given ?? {}) }
  }

  const bodyOf = (request: FastifyRequest): Body => {
    if (request.body === undefined) return {}
    if (!isObject(request.body)) throw new BadRequest('The request body must be a JSON object')
    return request.body
  }

  const send = (request: FastifyRequest, reply: FastifyReply, value: unknown) =>
    reply
      .code(200)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(scrubberOf(request).deep(value)))

  const setJsonHeader = (request: FastifyRequest, reply: FastifyReply, name: string, value: unknown) => {
    const text = headerJson(scrubberOf(request).deep(value))
    if (text !== undefined) void reply.header(name, text)
  }

  const routes: string[] = []
  const route = (method: 'GET' | 'POST', path: string, handler: (r: FastifyRequest, s: FastifyReply) => unknown) => {
    routes.push(`${method} ${path}`)
    app.route({ method, url: path, handler: async (request, reply) => handler(request, reply) })
  }

  route('GET', '/manifest', async () => manifestOf(definition))

  route('POST', '/authenticate', async (request, reply) => {
    const body = bodyOf(request)
    // The Segment CLI takes the flat settings object; `{"settings": {...}}` (as Segment's docs show) works too.
    const given = !('apiKey' in body) && isObject(body.settings) ? body.settings : body
    const settings = settingsFor(given)
    const destination = new Destination(definition as DestinationDefinition<JSONObject>)
    try {
      await destination.testAuthentication(settings as JSONObject)
      return send(request, reply, { ok: true })
    } catch (error) {
      const err = error as Error & { code?: unknown }
      let fields: Record<string, string> = {}
      if (err.name === 'AggregateAjvError') fields = marshalError(err).fields ?? {}
      else if (err.code === 'INVALID_API_KEY_FORMAT') fields = { apiKey: err.message }
      return send(request, reply, { ok: false, error: err.message, fields })
    }
  })

  if (definition.onDelete) {
    route('POST', '/delete', async (request, reply) => {
      const body = bodyOf(request)
      const settings = settingsFor(body.settings)
      const payload = body.payload ?? {}
      if (!isObject(payload)) throw new BadRequest('"payload" must be a JSON object (a delete event)')
      const recorder = new ExchangeRecorder()
      const destination = new Destination(recorder.instrument(definition) as DestinationDefinition<JSONObject>)
      try {
        const result = await destination.onDelete?.(payload as never, settings as JSONObject)
        setJsonHeader(request, reply, RESULT_HEADER, result)
        return send(request, reply, recorder.exchanges)
      } catch (error) {
        const output = marshalError(error)
        if (recorder.exchanges.length) output.exchanges = recorder.exchanges
        return send(request, reply, [output])
      }
    })
  }

  for (const [slug, actionDefinition] of Object.entries(definition.actions)) {
    const fields = (actionDefinition.fields ?? {}) as Record<string, InputField>
    const labels = labelsOf(fields)
    route('POST', `/${slug}`, async (request, reply) => {
      const body = bodyOf(request)
      const settings = settingsFor(body.settings)
      const payload = body.payload
      if (payload === undefined)
        throw new BadRequest('"payload" is missing: send {"payload": <event or array of events>}')
      const events = Array.isArray(payload) ? payload : [payload]
      if (!events.length) throw new BadRequest('"payload" is an empty array')
      if (!events.every(isObject))
        throw new BadRequest('"payload" must be an event object or an array of event objects')
      if (body.mapping !== undefined && !isObject(body.mapping)) throw new BadRequest('"mapping" must be a JSON object')
      const invalid = mappingErrors(body.mapping ?? {})
      if (invalid.length) {
        // mapping-kit would only fail later, with a 500-like plain Error: report it as the request error it is.
        const output = marshalError(new PayloadValidationError(`Invalid mapping: ${invalid.join(' ')}`))
        output.fields = {}
        for (const message of invalid) {
          const key = /^\/([^/\s]+)/.exec(message)?.[1] ?? '$'
          output.fields[key] = output.fields[key] ? `${output.fields[key]} ${message}` : message
        }
        return send(request, reply, [output])
      }
      // Mapping: the fields' default mappings, overridden key by key by the request's.
      const mapping = { ...defaultValues(fields), ...(body.mapping ?? {}) } as JSONObject

      const recorder = new ExchangeRecorder()
      const destination = new Destination(recorder.instrument(definition) as DestinationDefinition<JSONObject>)
      const action = destination.actions[slug]
      try {
        destination.validateSettings(settings as JSONObject)
        if (Array.isArray(payload) && action.hasBatchSupport) {
          const batchMapping = 'enable_batching' in fields ? { ...mapping, enable_batching: true } : mapping
          const multistatus = await action.executeBatch({
            data: events,
            settings: settings as JSONObject,
            mapping: batchMapping,
            auth: undefined
          })
          const summary = multistatusSummary(multistatus)
          const text = headerJson(scrubberOf(request).deep(summary))
          void reply.header(
            MULTISTATUS_HEADER,
            text ?? headerJson(summary.map((s) => ({ status: (s as { status?: unknown }).status })))
          )
        } else {
          // One event (or an array for an action without performBatch): perform, event after event.
          const results: unknown[] = []
          for (const event of events) {
            const steps = await action.execute({
              data: event,
              settings: settings as JSONObject,
              mapping,
              auth: undefined
            })
            results.push(steps.find((step) => 'data' in step)?.data)
          }
          setJsonHeader(request, reply, RESULT_HEADER, Array.isArray(payload) ? results : results[0])
        }
        return send(request, reply, recorder.exchanges)
      } catch (error) {
        const output = marshalError(error, labels)
        if (recorder.exchanges.length) output.exchanges = recorder.exchanges
        return send(request, reply, [output])
      }
    })
  }

  app.addHook('onReady', async () => {
    for (const line of routes) log(`  ${line}`)
  })

  return app
}

/** For logs: `publickey.<redacted>` — the public half may be shown, the secret never. */
export function describeApiKey(apiKey: string): string {
  const dot = apiKey.indexOf('.')
  return dot < 0 ? REDACTED : `${apiKey.slice(0, dot).trim()}.${REDACTED}`
}
