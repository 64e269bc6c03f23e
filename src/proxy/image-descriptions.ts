/**
 * Earlier images for a text-only model, as `Router.image` describes them. An agent's
 * conversation keeps every screenshot it was shown; a model without vision gets each one as
 * text instead (formats/images.ts). With `Router.image` set, that text is the image model's
 * description, asked once per image (a request through the pipeline, like CCR's loop-back
 * call to its image agent: routed, retried, billed and logged as any other) and remembered by
 * the image's hash, so later turns cost nothing. A description that cannot be had leaves the
 * plain "image omitted" line: the client's request never fails for it.
 */
import { createHash } from 'node:crypto'
import { SharedFlights } from '../lib/flights.ts'
import { LruMap } from '../lib/lru.ts'
import { capabilitiesOf } from '../routing/capabilities.ts'
import { parseTarget } from '../routing/target.ts'
import { anthropicImageBlock, imageKey, type ImageSource, imageSourcesOf, type ImageText } from '../formats/images.ts'
import type { ImageDescriptions } from '../deps.ts'
import type { RequestContext } from './context.ts'
import type { ClientRequest, PlannedTarget } from './types.ts'

/** What the image model is asked. */
export const DESCRIBE_PROMPT = 'Describe this image for a model that cannot see it, completely and precisely: ' +
  'every piece of text in it word for word, code, error messages, numbers, the layout and what each part shows. ' +
  'Answer with the description only.'

/** At most this many images of one request are described (the latest); the rest stay "omitted". */
export const MAX_DESCRIBED = 8
/** How long one description may take before the request goes on without it. */
const DESCRIBE_TIMEOUT_MS = 60_000
/** Descriptions remembered (a few KB each), across requests and reloads. */
const REMEMBERED = 500

/** Descriptions by image hash, the most recently used last; kept by the server across reloads (compose.ts). */
export class ImageDescriptionMemory implements ImageDescriptions {
  readonly #done = new LruMap<string, string>(REMEMBERED)
  readonly #asking = new SharedFlights<string, string | undefined>()

  get size(): number {
    return this.#done.size
  }

  async of(hash: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    const known = this.#done.get(hash)
    if (known !== undefined) {
      this.#done.setNewest(hash, known)
      return known
    }
    return this.#asking.run(hash, () =>
      ask().then((d) => {
        if (d !== undefined) this.#done.setNewest(hash, d)
        return d
      }, () => undefined))
  }
}

/** Sends a request through the pipeline (pipeline.ts hands in its own `handle`). */
export type SendRequest = (req: ClientRequest) => Promise<Response>

const hashOf = (s: ImageSource): string => createHash('sha256').update(imageKey(s)).digest('base64url')

/**
 * How `first`, the plan's first target, gets the request's earlier images: undefined unless it
 * is known to have no vision and `Router.image` is set; else the image model's descriptions,
 * awaited here (only the first turn after an image waits for one, when `describeAhead` could
 * not have it ready).
 */
export function earlierImageText(
  ctx: RequestContext,
  first: PlannedTarget | undefined,
  send: SendRequest,
): Promise<ImageText | undefined> {
  const { deps } = ctx
  const image = deps.config.router.image
  const memory = deps.imageDescriptions
  if (!image || !memory || !first || capabilitiesOf(first.provider, first.model).vision !== false) {
    return Promise.resolve(undefined)
  }
  return described(ctx, { image, memory, sources: imageSourcesOf(ctx.body, 'earlier') }, send)
}

/** `forceUseImageAgent`: every image of the request, the last turn's too, as the image model describes it. */
export function allImageText(ctx: RequestContext, send: SendRequest): Promise<ImageText | undefined> {
  const image = ctx.deps.config.router.image
  const memory = ctx.deps.imageDescriptions
  if (!image || !memory) return Promise.resolve(undefined)
  return described(ctx, { image, memory, sources: imageSourcesOf(ctx.body, 'all') }, send)
}

/** The texts for `sources` (at most the latest `MAX_DESCRIBED`): remembered, or asked now. */
async function described(
  ctx: RequestContext,
  x: { image: string; memory: ImageDescriptions; sources: readonly ImageSource[] },
  send: SendRequest,
): Promise<ImageText | undefined> {
  const { image, memory } = x
  const texts = new Map<string, string>()
  await Promise.all(
    latestUnique(x.sources).map(async (s, n) => {
      const d = await memory.of(hashOf(s), () => describe(ctx, { image, source: s, n, signal: ctx.req.signal }, send))
      if (d !== undefined) texts.set(imageKey(s), `[Image, as ${image} described it: ${d}]`)
    }),
  )
  return texts.size === 0 ? undefined : (s) => (s ? texts.get(imageKey(s)) : undefined)
}

/**
 * A turn that brings an image goes to `Router.image`; the next turn, on a default model without
 * vision, will need that image described. Asked now, beside this request and not tied to its
 * client, so the next turn finds it remembered instead of waiting. Only in an agent's session
 * (Claude Code's, the Codex CLI's), where a next turn comes: a script's one-off question about
 * an image costs no second call.
 */
export function describeAhead(ctx: RequestContext, send: SendRequest): void {
  const { deps } = ctx
  if (ctx.trace.session === undefined) return
  const image = deps.config.router.image
  const memory = deps.imageDescriptions
  const def = parseTarget(deps.config.router.default)
  const provider = def && deps.config.providers.find((p) => p.name === def.provider)
  if (!image || !memory || !provider || capabilitiesOf(provider, def!.model).vision !== false) return
  latestUnique(imageSourcesOf(ctx.body, 'last')).forEach((s, n) => {
    const signal = AbortSignal.timeout(DESCRIBE_TIMEOUT_MS)
    void memory.of(hashOf(s), () => describe(ctx, { image, source: s, n, signal }, send))
  })
}

/** The distinct images of a list, at most the `MAX_DESCRIBED` latest. */
function latestUnique(sources: readonly ImageSource[]): ImageSource[] {
  const unique = new Map<string, ImageSource>()
  for (const s of sources) unique.set(imageKey(s), s)
  return [...unique.values()].slice(-MAX_DESCRIBED)
}

/** One image's description from the image model, or undefined when it gave none. */
async function describe(
  ctx: RequestContext,
  x: { image: string; source: ImageSource; n: number; signal: AbortSignal },
  send: SendRequest,
): Promise<string | undefined> {
  const { req, deps } = ctx
  const res = await send({
    id: `${req.id}.image${x.n}`,
    format: 'anthropic',
    body: {
      model: x.image,
      max_tokens: 1024,
      messages: [{ role: 'user', content: [anthropicImageBlock(x.source), { type: 'text', text: DESCRIBE_PROMPT }] }],
    },
    stream: false,
    headers: new Headers(),
    query: '',
    signal: AbortSignal.any([x.signal, AbortSignal.timeout(DESCRIBE_TIMEOUT_MS)]),
    receivedAt: deps.now(),
    describesImage: true,
    ...(req.apiKeyName !== undefined ? { apiKeyName: req.apiKeyName } : {}),
  })
  if (res.status !== 200) {
    await res.body?.cancel()
    return undefined
  }
  const body = await res.json() as { content?: Array<{ type?: string; text?: string }> }
  const text = (body.content ?? []).filter((b) => b.type === 'text' && b.text).map((b) => b.text).join('\n').trim()
  return text === '' ? undefined : text
}
