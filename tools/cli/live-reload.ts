import { WebSocket, WebSocketServer } from 'ws'
import { ALLOWED_ORIGINS } from './server'

/** The message every client receives when a watched source file changed (what Segment's Actions Tester awaits). */
export const CHANGE_MESSAGE = 'change'

export interface LiveReload {
  readonly url: string
  /** Sends `change` to every connected client. */
  notify(): void
  close(): Promise<void>
}

/**
 * Segment's `serve` live reload: a WebSocket server (on the HTTP port + 1) that tells connected clients when the
 * destination's sources changed. Loopback only, like the HTTP server; a browser page may connect only from the
 * origins the HTTP server allows (clients without an Origin header, such as scripts, are accepted).
 */
export async function startLiveReload(host: string, port: number): Promise<LiveReload> {
  const server = new WebSocketServer({
    host,
    port,
    verifyClient: ({ origin }: { origin?: string }, allow: (ok: boolean, code?: number, reason?: string) => void) =>
      !origin || ALLOWED_ORIGINS.includes(origin) ? allow(true) : allow(false, 403, 'Origin not allowed')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  // Errors after start (a client's broken socket) must not take the supervisor down.
  server.on('error', () => undefined)
  return {
    url: `ws://${host}:${port}`,
    notify() {
      for (const client of server.clients) if (client.readyState === WebSocket.OPEN) client.send(CHANGE_MESSAGE)
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resolve())
      })
  }
}
