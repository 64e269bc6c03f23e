/**
 * The Hono edge: middleware, routes and the error hooks that keep every failure in the
 * client's own wire format. It does no I/O of its own; everything arrives in `deps`.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler, Next } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { bodyLimit } from 'hono/body-limit'
import type { Deps } from './deps.ts'
import { apiKeyAuth } from './middleware/auth.ts'
import { keyLimits } from './middleware/key-limits.ts'
import { edgeError as fail } from './middleware/edge-error.ts'
import { jsonDepthGuard } from './middleware/json-depth.ts'
import { type AuditEntry, managementGuard } from './middleware/rate-limit.ts'
import { Dedup, dedupRequests, type DedupRunner } from './middleware/dedup.ts'
import { requestIdAssigner, requestIdOf } from './middleware/request-id.ts'
import { registerChatCompletions } from './routes/chat-completions.ts'
import { type FleetHealthBody, registerHealth } from './routes/health.ts'
import { registerMessages } from './routes/messages.ts'
import { describeIssues, wrongMediaType } from './routes/client-request.ts'
import { registerModels } from './routes/models.ts'
import { registerResponses } from './routes/responses.ts'
import { registerResponsesSocket } from './routes/responses-socket.ts'
import { registerGemini } from './routes/gemini.ts'
import { VERSION } from './version.ts'
import { DOCS_BUNDLE_PATH, registerDocs } from './ui/docs.ts'
import { registerUi, UI_PUBLIC_PATHS } from './ui/route.ts'

/** The in-process dedup flights, for the composition root to keep across a reload. */
export { Dedup }

export interface AppOptions {
  readonly startedAt?: number
  /** Dedup across the fleet (fleet mode); this instance's own when absent. */
  readonly dedup?: DedupRunner
  /** Fleet membership for `GET /health` (fleet mode only). */
  readonly fleet?: () => FleetHealthBody
  readonly activeStreams?: () => number
  /** Inference requests beyond this many active streams get a 529 overloaded answer. */
  readonly maxStreams?: number
  /** Management requests per minute per client (default 60). */
  readonly managementPerMinute?: number
  /** Where management audit lines go (default: the info log, message `audit`). */
  readonly audit?: (entry: AuditEntry) => void
}

export function createApp(deps: Deps, opts: AppOptions = {}): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (result.success) return
      const { message, param } = describeIssues(result.error.issues)
      return fail(c, { kind: 'invalid_request', message, param })
    },
  })
  const assignId = requestIdAssigner({ random: deps.random })
  const auth = apiKeyAuth({
    apiKey: deps.config.apiKey,
    keys: deps.config.keys,
    publicPaths: ['/', '/health', '/docs', DOCS_BUNDLE_PATH, '/openapi.json', '/api/hello', ...UI_PUBLIC_PATHS],
  })
  // The request id, then the key check, as one synchronous middleware: one Hono dispatch step on every
  // request, and no closure made per request to chain the two.
  app.use('*', (c, next) => {
    assignId(c)
    return auth(c, next)
  })
  // Claude Code's connection warm-up: `HEAD {ANTHROPIC_BASE_URL}/api/hello`, keyless, at every start,
  // its answer ignored. A public empty 200 here, before the management guard, so it is neither a
  // 401/404 nor an audited management call taken from the anonymous rate budget.
  app.get('/api/hello', (c) => c.body(null, 200))
  const tooLarge = (c: Context) =>
    fail(c, {
      kind: 'payload_too_large',
      message: `Request body is larger than the ${deps.config.maxBodyBytes} byte limit`,
    })
  const counted = bodyLimit({ maxSize: deps.config.maxBodyBytes, onError: tooLarge })
  // Hono's body limit, reading the declared length first: with a content-length and no
  // transfer-encoding that is all it checks, and this way `body` (which makes Bun build a stream
  // for it) is only touched for a body declared too large. Other bodies are counted as they arrive.
  // `then` is the check after this one, called with `next` (no closure per request but on the counted path).
  const limit = (c: Context, next: Next, then: MiddlewareHandler) => {
    const h = c.req.raw.headers
    const length = h.get('content-length')
    if (length === null || h.has('transfer-encoding')) return counted(c, () => then(c, next) as Promise<void>)
    return parseInt(length, 10) > deps.config.maxBodyBytes && c.req.raw.body
      ? Promise.resolve(tooLarge(c))
      : then(c, next)
  }

  const active = opts.activeStreams ?? (() => 0)
  const maxStreams = opts.maxStreams ?? Infinity
  const guard: MiddlewareHandler = (c, next) => {
    if (c.req.method === 'POST' && active() >= maxStreams) {
      deps.telemetry.rejected()
      return Promise.resolve(fail(c, {
        kind: 'overloaded',
        message: `Switchyard is serving its maximum of ${maxStreams} concurrent streams: retry shortly`,
      }))
    }
    return next()
  }
  // Body limit, depth guard and (on the inference prefixes) the stream limit, in that order, as
  // one middleware per prefix: one Hono dispatch step instead of three on every request.
  // A refusal inside comes back as the Response, which Hono's one dispatch step then sets.
  // Each check calls the next one itself, so chaining them makes no closures per request.
  const depth = jsonDepthGuard({ fail })
  const depthThenGuard = jsonDepthGuard({ fail, then: guard })
  const bodyChecks: MiddlewareHandler = (c, next) => limit(c, next, depth)
  const inferenceEdge: MiddlewareHandler = (c, next) => limit(c, next, depthThenGuard)
  for (const path of ['/v1/*', '/v1beta/*', '/preset/*']) app.use(path, inferenceEdge)
  for (const path of ['/api/*', '/performance/*']) app.use(path, bodyChecks)
  // Every inference endpoint, in each client format.
  const inference = [
    '/v1/messages',
    '/v1/chat/completions',
    '/v1/responses',
    '/v1/responses/compact',
    '/v1beta/models/*',
    '/v1/models/*',
    '/preset/*',
  ]
  // Token counting is skipped inside.
  if (deps.keys) {
    const limits = keyLimits(deps.keys, deps.now)
    for (const path of inference) app.use(path, limits)
  }
  const manage = managementGuard({
    now: deps.now,
    perMinute: opts.managementPerMinute,
    audit: opts.audit ?? ((e) => deps.log.info('audit', { ...e })),
  })
  for (const path of ['/api/*', '/performance/*', '/v1/token-audit']) app.use(path, manage)
  // Dedup last: a follower never reaches the pipeline (nor the custom router it runs).
  const dedup = dedupRequests({ dedup: opts.dedup ?? new Dedup(), enabled: deps.config.router.dedup })
  for (const path of inference) app.use(path, dedup)

  registerMessages(app, deps)
  registerChatCompletions(app, deps)
  registerModels(app, deps)
  registerResponses(app, deps)
  registerResponsesSocket(app, deps)
  registerGemini(app, deps)
  registerHealth(app, {
    version: VERSION,
    startedAt: opts.startedAt ?? deps.now(),
    now: deps.now,
    activeStreams: active,
    ...(opts.fleet ? { fleet: opts.fleet } : {}),
  })

  app.get('/', (c) => c.json({ name: 'switchyard', version: VERSION, docs: '/docs', ui: '/ui/' }))
  app.doc31('/openapi.json', openApiInfo)
  registerDocs(app)
  registerUi(app)
  app.notFound((c) => fail(c, { kind: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }))
  app.onError((e, c) => {
    if (e instanceof HTTPException && e.status < 500) {
      // zod-openapi's media-type gate (a 415) and Hono's JSON validator on the management routes
      // (whose message, "Malformed JSON in request body", says so already).
      if (e.status === 415) {
        return fail(c, {
          kind: 'invalid_request',
          message: wrongMediaType(c.req.header('content-type')),
          param: 'content-type',
        })
      }
      return fail(c, { kind: 'invalid_request', message: e.message, param: 'body' })
    }
    deps.log.error('unhandled error', {
      requestId: requestIdOf(c),
      path: c.req.path,
      error: e instanceof Error ? e.stack ?? e.message : String(e),
    })
    return fail(c, { kind: 'internal', message: 'Internal error in Switchyard (logged with the request id)' })
  })
  return app
}

export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Switchyard',
    version: VERSION,
    description:
      'A fast, resilient LLM routing proxy: a drop-in Claude Code Router replacement speaking Anthropic Messages, OpenAI Chat Completions, the OpenAI Responses API and the Gemini API.',
  },
}
