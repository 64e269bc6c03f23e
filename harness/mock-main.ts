/**
 * Run the mock upstream as its own process: `bun harness/mock-main.ts [--port N] [--seed N]`.
 * Prints `listening on http://127.0.0.1:PORT` when ready; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { runtime } from '../src/runtime/index.ts'
import { startMockServer } from '../src/demo/server.ts'

const { values } = parseArgs({
  options: { port: { type: 'string' }, seed: { type: 'string' }, host: { type: 'string' } },
})
// Benchmarks send hundreds of thousands of requests: bound the attempt log (later ones are only counted).
const server = await startMockServer({
  port: Number(values.port ?? 0),
  hostname: values.host ?? '127.0.0.1',
  seed: Number(values.seed ?? 1),
  maxLogged: 50_000,
})
console.log(`mock upstream listening on ${server.url}`)
const shutdown = (): void => {
  void server.stop().then(() => process.exit(0))
}
runtime.onSignal('SIGINT', shutdown)
runtime.onSignal('SIGTERM', shutdown)
