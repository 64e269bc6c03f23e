/**
 * A server-side WebSocket as the routes see it, whatever the runtime: the runtime adapter
 * (src/runtime/) upgrades the connection and calls the session; the session answers through
 * its peer. Text frames only: the protocols served over it (the Responses API's WebSocket mode)
 * are JSON.
 */

/** The client end of one upgraded connection, and the server it came to. */
export interface SocketPeer {
  send(text: string): void
  /** Sends several frames in one write where the runtime can (the events of one upstream read). */
  sendAll(texts: readonly string[]): void
  /**
   * Answers `req` as the server answers a request that arrives on it: through the handler it
   * serves now (after a config reload, the new config's app), not the one that took the handshake.
   */
  forward(req: Request): Promise<Response>
  /** Closes the connection (1000 normal, 1001 going away, 1003 unsupported data, 1011 server error). */
  close(code?: number, reason?: string): void
}

/** What one connection does with its frames. The runtime calls these in order: open, messages, close. */
export interface SocketSession {
  open(peer: SocketPeer): void
  /** A frame: its text, or its bytes for a binary frame. */
  message(data: string | Uint8Array): void
  /** The connection is gone (either side closed it, or it broke). */
  close(): void
  /**
   * The server is stopping: close the connection once nothing is being answered on it (at once
   * when idle). A forced stop closes it without asking.
   */
  drain(): void
}

/**
 * Upgrades `req` (a WebSocket handshake, as it reached the app) to a connection served by
 * `session`: the response to return for it, or undefined where this server cannot upgrade it
 * (not a handshake, or a request that did not come through the runtime's server, as in
 * `app.request` tests).
 */
export type UpgradeWebSocket = (req: Request, session: SocketSession) => Response | undefined

/** Whether a request asks to be upgraded to a WebSocket. */
export const isWebSocketHandshake = (req: Request): boolean =>
  (req.headers.get('upgrade') ?? '').toLowerCase() === 'websocket'
