/**
 * The mock upstream over real HTTP, for the stress run, the benchmark and black-box tests.
 * Faults that must happen below HTTP (`reset`) are mapped to what the socket can express.
 */
import { runtime } from '../runtime/index.ts'
import type { MockOptions, MockUpstream } from './upstream.ts'
import { createMockUpstream, MockConnectionReset } from './upstream.ts'

export interface MockServer {
  readonly url: string
  readonly port: number
  readonly mock: MockUpstream
  stop(): Promise<void>
}

/**
 * A body that errors before its first byte. Bun then closes the socket without sending
 * the status line (checked on Bun 1.4.4: the client's fetch rejects with ECONNRESET), which
 * is the closest a handler gets to a reset before headers.
 */
function resetResponse(): Response {
  return new Response(
    new ReadableStream({
      start(c) {
        c.error(new Error('mock reset'))
      },
    }),
  )
}

/**
 * Serve `createMockUpstream(opts)` on 127.0.0.1 (port 0 = a free port).
 * @example const s = await startMockServer({ port: 0 }); await fetch(`${s.url}/v1/messages`, …); await s.stop()
 */
export async function startMockServer(
  opts: { port?: number; hostname?: string } & MockOptions = {},
): Promise<MockServer> {
  const mock = createMockUpstream(opts)
  const hostname = opts.hostname ?? '127.0.0.1'
  const served = await runtime.serve(async (req) => {
    try {
      return await mock.fetch(req)
    } catch (e) {
      if (e instanceof MockConnectionReset) return resetResponse()
      // The client went away (hang/abort): nobody reads this answer.
      return new Response(null, { status: 499 })
    }
  }, { port: opts.port ?? 0, hostname, idleTimeoutSec: 255 })
  return {
    url: `http://${hostname}:${served.port}`,
    port: served.port,
    mock,
    stop: () => served.stop(true),
  }
}
