/**
 * Vertex AI providers as CCR configures them: a `vertex-gemini`, `vertex-claude` or
 * `vertex-openai` transformer, Google's Application Default Credentials and the
 * `GOOGLE_CLOUD_PROJECT` / `GOOGLE_CLOUD_LOCATION` environment. What is read here is settings
 * only; the credentials files are read when a token is needed (proxy/google-auth.ts).
 */
import { join } from 'node:path'
import type { GoogleCloudEnv, TransformerUse, VertexSettings } from './types.ts'

/** Transformer names (lower case, as CCR matches them) → the Vertex publisher each speaks to. */
export const VERTEX_TRANSFORMERS: Readonly<Record<string, VertexSettings['publisher']>> = {
  'vertex-gemini': 'google',
  'vertex-claude': 'anthropic',
  'vertex-openai': 'openai',
}

const text = (v: unknown): string | undefined => typeof v === 'string' && v !== '' ? v : undefined

/**
 * The Vertex settings of a provider's transformer chain, or undefined when none is a Vertex one.
 * `vertex-openai`'s inline `private_key` may hold `\n` written as two characters (a key pasted
 * into JSON by hand): it is turned into a newline, as CCR does.
 */
export function vertexSettings(chain: readonly TransformerUse[]): VertexSettings | undefined {
  const use = chain.find((u) => VERTEX_TRANSFORMERS[u.name.toLowerCase()] !== undefined)
  if (!use) return undefined
  const o = use.options
  const email = text(o.client_email)
  const key = text(o.private_key)
  const keyFile = text(o.keyFile)
  const project = text(o.project)
  const location = text(o.location)
  return {
    publisher: VERTEX_TRANSFORMERS[use.name.toLowerCase()]!,
    ...(keyFile ? { keyFile } : {}),
    ...(email && key ? { serviceAccount: { client_email: email, private_key: key.replace(/\\n/g, '\n') } } : {}),
    ...(project ? { project } : {}),
    ...(location ? { location } : {}),
  }
}

/**
 * Where Google's client libraries look for credentials and the project, from `env`:
 * `GOOGLE_APPLICATION_CREDENTIALS`, then the file `gcloud auth application-default login`
 * writes (in `CLOUDSDK_CONFIG`, else `%APPDATA%\gcloud` on Windows, else `~/.config/gcloud`).
 */
export function googleCloudFromEnv(env: Readonly<Record<string, string | undefined>>): GoogleCloudEnv {
  const gcloudDir = text(env.CLOUDSDK_CONFIG) ??
    (text(env.APPDATA)
      ? join(env.APPDATA!, 'gcloud')
      : text(env.HOME)
      ? join(env.HOME!, '.config', 'gcloud')
      : undefined)
  const files = [
    text(env.GOOGLE_APPLICATION_CREDENTIALS),
    gcloudDir ? join(gcloudDir, 'application_default_credentials.json') : undefined,
  ].filter((f): f is string => f !== undefined)
  const project = text(env.GOOGLE_CLOUD_PROJECT) ?? text(env.GCLOUD_PROJECT)
  const location = text(env.GOOGLE_CLOUD_LOCATION)
  const serverless = SERVERLESS_VARS.some((k) => text(env[k]) !== undefined)
  const metadataHost = text(env.GCE_METADATA_HOST) ?? text(env.GCE_METADATA_IP) ??
    (serverless ? METADATA_HOST : undefined)
  return {
    credentialFiles: files,
    ...(project ? { project } : {}),
    ...(location ? { location } : {}),
    ...(metadataHost ? { metadataHost } : {}),
  }
}

/** Google's metadata server, as every Google Cloud runtime serves it. */
export const METADATA_HOST = 'metadata.google.internal'

/** Variables Cloud Run (services and jobs), Cloud Functions and App Engine set in their containers. */
const SERVERLESS_VARS = ['K_SERVICE', 'CLOUD_RUN_JOB', 'FUNCTION_TARGET', 'GAE_SERVICE'] as const
