import cors from '@fastify/cors'
import { defaultValues, Destination, PayloadValidationError } from '@segment/actions-core'
import type { DestinationDefinition, InputField, JSONObject } from '@segment/actions-core'
import fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorOutput, fieldsOf, marshalError } from './errors'
import { Exchange, ExchangeRecorder } from './exchanges'
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

/**
 * `directoryName` in `/manifest`: like the Segment CLI, the destination's folder under
 * `packages/destination-actions/src/destinations/` in Segment's monorepo — where `src/` goes.
 */
export const DIRECTORY_NAME = 'refersion'

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
  /** `directoryName` in `/manifest` (default DIRECTORY_NAME). */
  directoryName?: string
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

/** The destination definition as the Segment CLI's `/manifest` shows it: JSON, functions dropped. */
export function manifestOf<Settings>(definition: DestinationDefinition<Settings>): JSONObject {
  return JSON.parse(JSON.stringify(definition)) as JSONObject
}

/** One summary per event of a multistatus, small enough for a header: status, and the error when there is one. */
function multistatusSummary(nodes: unknown[]): Record<string, unknown>[] {
  return nodes.map((node) => {
    const n = (node ?? {}) as Record<string, unknown>
    const out: Record<string, unknown> = { status: n.status }
    if (n.errortype !== undefined) out.errortype = n.errortype
    if (n.errormessage !== undefined) out.errormessage = n.errormessage
    return out
  })
}

/** What the routes share: the definition, the default settings, the secrets to scrub, and how to answer. */
class Context<Settings> {
  readonly recent = new RecentSecrets()
  private readonly scrubbers = new WeakMap<FastifyRequest, Scrubber>()

  constructor(
    readonly definition: DestinationDefinition<Settings>,
    readonly defaults: Record<string, unknown>,
    readonly log: (line: string) => void
  ) {
    this.recent.add(secretsOfSettings(defaults))
  }

  /**
   * Scrubs this request's answer and log line of the secrets its body carries (settings, or the flat settings of
   * /authenticate) and of the (few, plausible) secrets seen recently.
   */
  remember(request: FastifyRequest): void {
    const body = request.body
    const own = isObject(body) ? [...secretsOfSettings(body), ...secretsOfSettings(body.settings)] : []
    this.recent.add(own)
    this.scrubbers.set(request, new Scrubber([...own, ...this.recent.all]))
  }

  scrubberOf(request: FastifyRequest): Scrubber {
    return this.scrubbers.get(request) ?? new Scrubber(this.recent.all)
  }

  /** The request's settings over the defaults. */
  settingsFor(given: unknown): JSONObject {
    if (given !== undefined && !isObject(given)) throw new BadRequest('"settings" must be a JSON object')
    return { ...this.defaults, ...(given ?? {}) } as JSONObject
  }

  /** A 200 with `value` as JSON, scrubbed. */
  send(request: FastifyRequest, reply: FastifyReply, value: unknown) {
    return reply
      .code(200)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(this.scrubberOf(request).deep(value)))
  }

  /** A scrubbed JSON header; `fallback` (also scrubbed) when the value is too large for a header. */
  setJsonHeader(request: FastifyRequest, reply: FastifyReply, name: string, value: unknown, fallback?: unknown) {
    const scrub = this.scrubberOf(request)
    const text =
      headerJson(scrub.deep(value)) ?? (fallback === undefined ? undefined : headerJson(scrub.deep(fallback)))
    if (text !== undefined) void reply.header(name, text)
  }
}

function bodyOf(request: FastifyRequest): Body {
  if (request.body === undefined) return {}
  if (!isObject(request.body)) throw new BadRequest('The request body must be a JSON object')
  return request.body
}

type Outcome = { exchanges: Exchange[]; result: unknown; output?: undefined } | { output: ErrorOutput }

/**
 * The pipeline of every route that runs the destination: a fresh `Destination` whose HTTP exchanges are
 * recorded, `run` on it, then the exchanges and result — or the failure entry, with the exchanges made before it.
 */
async function runRecorded<Settings>(
  definition: DestinationDefinition<Settings>,
  run: (destination: Destination<JSONObject>) => Promise<unknown>
): Promise<Outcome> {
  const recorder = new ExchangeRecorder()
  const destination = new Destination(recorder.instrument(definition) as DestinationDefinition<JSONObject>)
  try {
    const result = await run(destination)
    return { exchanges: recorder.exchanges, result }
  } catch (error) {
    const output = marshalError(error)
    if (recorder.exchanges.length) output.exchanges = recorder.exchanges
    return { output }
  }
}

/** Answers an outcome: its exchanges (and `header` set from its result), or `[failure entry]`. */
function answer<Settings>(
  context: Context<Settings>,
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: Outcome,
  header?: (result: unknown) => void
) {
  if (outcome.output) return context.send(request, reply, [outcome.output])
  header?.(outcome.result)
  return context.send(request, reply, outcome.exchanges)
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown

/** `POST /authenticate`: the flat settings object (or `{"settings": {...}}`) → `{ok}` or `{ok:false,error,fields}`. */
function authenticateRoute<Settings>(context: Context<Settings>): Handler {
  return async (request, reply) => {
    const body = bodyOf(request)
    const given = !('apiKey' in body) && isObject(body.settings) ? body.settings : body
    const settings = context.settingsFor(given)
    const destination = new Destination(context.definition as DestinationDefinition<JSONObject>)
    try {
      await destination.testAuthentication(settings)
      return context.send(request, reply, { ok: true })
    } catch (error) {
      const err = error as Error & { code?: unknown }
      const fields = fieldsOf(err) ?? (err.code === 'INVALID_API_KEY_FORMAT' ? { apiKey: err.message } : {})
      return context.send(request, reply, { ok: false, error: err.message, fields })
    }
  }
}

/** `POST /delete`: runs `onDelete` on one delete event; its result in RESULT_HEADER, its exchanges as the body. */
function deleteRoute<Settings>(context: Context<Settings>): Handler {
  return async (request, reply) => {
    const body = bodyOf(request)
    const settings = context.settingsFor(body.settings)
    const payload = body.payload ?? {}
    if (!isObject(payload)) throw new BadRequest('"payload" must be a JSON object (a delete event)')
    const outcome = await runRecorded(context.definition, async (destination) =>
      destination.onDelete?.(payload as never, settings)
    )
    return answer(context, request, reply, outcome, (result) =>
      context.setJsonHeader(request, reply, RESULT_HEADER, result)
    )
  }
}

/** The events of an action request: one event object or a non-empty array of them. */
function eventsOf(payload: unknown): JSONObject[] {
  if (payload === undefined) throw new BadRequest('"payload" is missing: send {"payload": <event or array of events>}')
  const events = Array.isArray(payload) ? payload : [payload]
  if (!events.length) throw new BadRequest('"payload" is an empty array')
  if (!events.every(isObject)) throw new BadRequest('"payload" must be an event object or an array of event objects')
  return events as JSONObject[]
}

/** mapping-kit would only fail later, with a 500-like plain Error: an invalid mapping is reported as a request error. */
function invalidMapping(mapping: unknown): ErrorOutput | undefined {
  const invalid = mappingErrors(mapping ?? {})
  if (!invalid.length) return undefined
  const output = marshalError(new PayloadValidationError(`Invalid mapping: ${invalid.join(' ')}`))
  output.fields = {}
  for (const message of invalid) {
    // mapping-kit's messages start with the path they are about (`/email …`).
    const key = /^\/([^/\s]+)/.exec(message)?.[1] ?? '$'
    output.fields[key] = output.fields[key] ? `${output.fields[key]} ${message}` : message
  }
  return output
}

/** `POST /<action>`: one event through `perform`, or an array through `performBatch` (or perform per event). */
function actionRoute<Settings>(context: Context<Settings>, slug: string): Handler {
  const fields = (context.definition.actions[slug].fields ?? {}) as Record<string, InputField>
  return async (request, reply) => {
    const body = bodyOf(request)
    const settings = context.settingsFor(body.settings)
    const events = eventsOf(body.payload)
    const batch = Array.isArray(body.payload)
    if (body.mapping !== undefined && !isObject(body.mapping)) throw new BadRequest('"mapping" must be a JSON object')
    const mappingError = invalidMapping(body.mapping)
    if (mappingError) return context.send(request, reply, [mappingError])
    // Mapping: the fields' default mappings, overridden key by key by the request's.
    const mapping = { ...defaultValues(fields), ...(body.mapping ?? {}) } as JSONObject

    const outcome = await runRecorded(context.definition, async (destination) => {
      const action = destination.actions[slug]
      destination.validateSettings(settings)
      if (batch && action.hasBatchSupport) {
        const batchMapping = 'enable_batching' in fields ? { ...mapping, enable_batching: true } : mapping
        const multistatus = await action.executeBatch({
          data: events,
          settings,
          mapping: batchMapping,
          auth: undefined
        })
        return { multistatus: multistatusSummary(multistatus) }
      }
      // One event (or an array for an action without performBatch): perform, event after event.
      const results: unknown[] = []
      for (const event of events) {
        const steps = await action.execute({ data: event, settings, mapping, auth: undefined })
        results.push(steps.find((step) => 'data' in step)?.data)
      }
      return { result: batch ? results : results[0] }
    })
    return answer(context, request, reply, outcome, (value) => {
      const { multistatus, result } = value as { multistatus?: Record<string, unknown>[]; result?: unknown }
      if (multistatus) {
        const statuses = multistatus.map((s) => ({ status: s.status }))
        context.setJsonHeader(request, reply, MULTISTATUS_HEADER, multistatus, statuses)
      } else context.setJsonHeader(request, reply, RESULT_HEADER, result)
    })
  }
}

/** Body parsing, CORS, the Origin check, the 413 drain, redaction, the worker-pid header and the request log. */
function installHooks<Settings>(app: FastifyInstance, context: Context<Settings>, bodyLimit: number): void {
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
    return reply.code(413).header('connection', 'close').send(tooLarge(bodyLimit))
  })

  // On every route, unknown ones included.
  app.addHook('preHandler', async (request) => context.remember(request))

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header(WORKER_PID_HEADER, String(process.pid))
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    const path = context.scrubberOf(request).text(request.url.split('?')[0])
    context.log(`${reply.statusCode} ${request.method} ${path} ${Math.round(reply.elapsedTime)}ms`)
  })

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const scrub = context.scrubberOf(request)
    const statusCode = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    const message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLarge(bodyLimit).message : error.message
    if (statusCode >= 500) context.log(`error: ${scrub.text(error.stack ?? error.message)}`)
    return reply.code(statusCode).send({
      statusCode,
      error: statusCode >= 500 ? 'Internal Server Error' : statusCode === 413 ? 'Payload Too Large' : 'Bad Request',
      message: scrub.text(message)
    })
  })
}

function tooLarge(bodyLimit: number) {
  return { statusCode: 413, error: 'Payload Too Large', message: `Request body is larger than ${bodyLimit} bytes` }
}

/**
 * The Segment CLI–compatible development server, as a Fastify app that is not listening yet: GET /manifest,
 * POST /authenticate, POST /delete (when the destination has onDelete) and POST /<action>. Every request gets a
 * fresh `Destination` whose HTTP exchanges are recorded; secret keys are scrubbed from everything it answers or logs.
 */
export function buildDevServer<Settings>(options: DevServerOptions<Settings>): FastifyInstance {
  const { definition } = options
  const context = new Context(
    definition,
    options.defaultSettings ?? {},
    options.log ?? ((line: string) => console.log(line))
  )
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const app = fastify({ bodyLimit, logger: false, forceCloseConnections: true })
  installHooks(app, context, bodyLimit)

  const routes: string[] = []
  const route = (method: 'GET' | 'POST', url: string, handler: Handler) => {
    routes.push(`${method} ${url}`)
    app.route({ method, url, handler: async (request, reply) => handler(request, reply) })
  }
  const directoryName = options.directoryName ?? DIRECTORY_NAME
  route('GET', '/manifest', async () => ({ ...manifestOf(definition), directoryName }))
  route('POST', '/authenticate', authenticateRoute(context))
  if (definition.onDelete) route('POST', '/delete', deleteRoute(context))
  for (const slug of Object.keys(definition.actions)) route('POST', `/${slug}`, actionRoute(context, slug))

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    return reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: context
        .scrubberOf(request)
        .text(`Route ${request.method} ${path} not found. Routes: ${routes.join(', ')}`)
    })
  })
  app.addHook('onReady', async () => {
    for (const line of routes) context.log(`  ${line}`)
  })
  return app
}

/** For logs: `publickey.<redacted>` — the public half may be shown, the secret never. */
export function describeApiKey(apiKey: string): string {
  const dot = apiKey.indexOf('.')
  return dot < 0 ? REDACTED : `${apiKey.slice(0, dot).trim()}.${REDACTED}`
}
