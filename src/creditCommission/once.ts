import { Agent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Duplex } from 'node:stream'

/**
 * How far one request's connection got, as the transport itself reports it: `unobserved` when the request never
 * asked the agent for a connection (another transport served it, e.g. a test interceptor), `connecting` while no
 * connection was established (nothing of the request can have reached Refersion), `connected` once it was (from
 * then on Node writes the request, so Refersion may have it).
 */
export type ConnectionState = 'unobserved' | 'connecting' | 'connected'

export interface ConnectionProbe {
  /** A fresh agent for exactly one request (no keep-alive), of the URL's protocol. */
  agent: Agent
  state: () => ConnectionState
}

interface ConnectionFactory {
  createConnection(options: unknown, callback?: unknown): Duplex | null | undefined
}

/** An agent that records whether its one connection was established: TCP `connect`, or TLS `secureConnect`. */
export function connectionProbe(url: string): ConnectionProbe {
  const secure = url.startsWith('https:')
  const agent = secure ? new HttpsAgent({ keepAlive: false }) : new Agent({ keepAlive: false })
  let state: ConnectionState = 'unobserved'
  // Node's documented hook for the socket of each request; not every @types/node version declares it on Agent.
  const factory = agent as unknown as ConnectionFactory
  const create = factory.createConnection.bind(agent)
  factory.createConnection = (options, callback) => {
    state = 'connecting'
    const socket = create(options, callback)
    socket?.once(secure ? 'secureConnect' : 'connect', () => {
      state = 'connected'
    })
    return socket
  }
  return { agent, state: () => state }
}

/** System error codes that prove no connection was made: nothing of the request left this machine. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])

function codeOf(error: unknown): string | undefined {
  const err = error as { code?: unknown; cause?: { code?: unknown } } | undefined
  const code = err?.cause?.code ?? err?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Whether a transport failure proves that the request was never written: its connection was being made and never
 * established, or its error code says no connection was made. Anything else (a timeout, a reset or a cut after the
 * connection was up, a failure the probe did not see) may have reached Refersion.
 */
export function provesNotSent(error: unknown, state: ConnectionState): boolean {
  if (state === 'connecting') return true
  if (state === 'connected') return false
  const code = codeOf(error)
  return code !== undefined && NEVER_CONNECTED.has(code)
}
