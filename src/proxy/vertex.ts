/**
 * Vertex AI's URLs and bodies. A provider's `api_base_url` is either only a host (CCR's
 * configs: `https://us-east5-aiplatform.googleapis.com`), and the path is built from the
 * project, the location and the publisher, or a path as written, where `{project}`,
 * `{location}` and `{model}` are filled in and a `…/models/` base gets the model and action.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/overview
 */
import type { GoogleCloudEnv, VertexSettings } from '../config/types.ts'
import type { JsonObject } from '../formats/types.ts'

/** Where Google's own clients default: Gemini and the OpenAI endpoint in us-central1, Claude in us-east5 (as CCR). */
const DEFAULT_LOCATION: Readonly<Record<VertexSettings['publisher'], string>> = {
  google: 'us-central1',
  anthropic: 'us-east5',
  openai: 'us-central1',
}

/** The `anthropic_version` Vertex requires in a Claude body (it takes no `model` there: the URL names it). */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16'

/** The location a provider's calls go to: its transformer's option, else `GOOGLE_CLOUD_LOCATION`, else the publisher's default. */
export function vertexLocation(v: VertexSettings, env: GoogleCloudEnv | undefined): string {
  return v.location ?? env?.location ?? DEFAULT_LOCATION[v.publisher]
}

/** The project a provider's calls name: its option, else `GOOGLE_CLOUD_PROJECT`, else the one its credentials name. */
export function vertexProject(
  v: VertexSettings,
  env: GoogleCloudEnv | undefined,
  fromCredentials: string | undefined,
): string | undefined {
  return v.project ?? env?.project ?? fromCredentials
}

/** Whether `base` leaves the project to be filled in: only a host, or a `{project}` placeholder. */
export function vertexNeedsProject(base: string): boolean {
  return base.includes('{project}') || hostOnly(base) !== undefined
}

/** `base`'s origin when its path is empty; undefined when it has a path (or is no URL). */
function hostOnly(base: string): string | undefined {
  try {
    const u = new URL(base)
    return u.pathname.replace(/\/+$/, '') === '' && u.search === '' ? u.origin : undefined
  } catch {
    return undefined
  }
}

/** A model id as a path segment; `@` is kept (Vertex's Claude ids are `claude-…@20250514`). */
const segment = (model: string): string => encodeURIComponent(model).replace(/%40/g, '@')

const ACTIONS: Readonly<Record<'google' | 'anthropic', { json: string; stream: string; written: RegExp }>> = {
  google: {
    json: 'generateContent',
    stream: 'streamGenerateContent?alt=sse',
    written: /:(stream)?generateContent.*$/i,
  },
  anthropic: { json: 'rawPredict', stream: 'streamRawPredict', written: /:(stream)?rawPredict.*$/i },
}

/** Where a Vertex provider's calls go: the project (empty when its URL names none) and location. */
export interface VertexPlace {
  readonly project: string
  readonly location: string
}

export interface VertexCall extends VertexPlace {
  readonly model: string
  readonly stream: boolean
}

/**
 * The URL of one call to a Vertex provider.
 * @example vertexUrl('https://us-east5-aiplatform.googleapis.com', 'anthropic', { model: 'claude-sonnet-4@20250514', stream: true, project: 'p', location: 'us-east5' })
 * // 'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict'
 */
export function vertexUrl(base: string, publisher: VertexSettings['publisher'], call: VertexCall): string {
  const project = encodeURIComponent(call.project)
  const location = encodeURIComponent(call.location)
  const origin = hostOnly(base)
  const place = `projects/${project}/locations/${location}`
  if (publisher === 'openai') {
    return origin === undefined
      ? base.replaceAll('{project}', project).replaceAll('{location}', location)
      : `${origin}/v1/${place}/endpoints/openapi/chat/completions`
  }
  const models = origin === undefined
    ? base.replaceAll('{project}', project).replaceAll('{location}', location)
    // Gemini as CCR builds it (v1beta1); Claude as Google documents it (v1).
    : `${origin}/${publisher === 'google' ? 'v1beta1' : 'v1'}/${place}/publishers/${publisher}/models/`
  return modelActionUrl(models, publisher, call)
}

/**
 * A model's endpoint under `models`, a URL that ends in `/models/` or holds a `{model}`
 * placeholder (a written action is replaced): Gemini's `:generateContent` /
 * `:streamGenerateContent?alt=sse`, Claude on Vertex's `:rawPredict` / `:streamRawPredict`.
 */
export function modelActionUrl(
  models: string,
  publisher: 'google' | 'anthropic',
  { model, stream }: { readonly model: string; readonly stream: boolean },
): string {
  const a = ACTIONS[publisher]
  const action = stream ? a.stream : a.json
  if (models.includes('{model}')) return `${models.replace('{model}', segment(model)).replace(a.written, '')}:${action}`
  return `${models.endsWith('/') ? models : `${models}/`}${segment(model)}:${action}`
}

/** A Claude body as Vertex takes it: no `model`, and its `anthropic_version`. Other publishers' bodies are unchanged. */
export function vertexBody(body: JsonObject, publisher: VertexSettings['publisher']): JsonObject {
  if (publisher !== 'anthropic') return body
  const { model: _model, ...rest } = body
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest }
}
