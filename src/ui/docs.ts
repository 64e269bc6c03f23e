/**
 * `/docs`: the Scalar API reference, offline. The page loads the installed
 * `@scalar/api-reference` bundle from this instance (embedded in the binary) instead of an
 * unpinned CDN script, with Scalar's web fonts, hosted request proxy, telemetry, agent and
 * external service URLs switched off: opening it sends no request to any other host.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import { serveStatic, type StaticAsset, staticAsset } from './static.ts'

export const DOCS_BUNDLE_PATH = '/docs/scalar.js'

/** Options that keep the reference on this host (each one was a request elsewhere by default). */
export const OFFLINE_SCALAR_OPTIONS = {
  url: '/openapi.json',
  pageTitle: 'Switchyard API',
  cdn: DOCS_BUNDLE_PATH,
  withDefaultFonts: false,
  proxyUrl: '',
  telemetry: false,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
  externalUrls: { dashboardUrl: '', registryUrl: '', proxyUrl: '', apiBaseUrl: '' },
} as const

// Loaded, hashed (and gzipped) on first request, once per process: an instance that never serves
// /docs does not hold the 4.8 MB text (about 20 MB of RSS under Bun), nor does every app built in a test.
// A literal specifier, so `bun build --compile` still embeds the file.
let asset: Promise<StaticAsset> | undefined
const bundleAsset = () =>
  asset ??= import('../../node_modules/@scalar/api-reference/dist/browser/standalone.js', { with: { type: 'text' } })
    .then((m: { default: string }) => staticAsset(m.default, 'text/javascript; charset=utf-8'))

export function registerDocs(app: OpenAPIHono): void {
  app.get('/docs', Scalar(OFFLINE_SCALAR_OPTIONS as unknown as Parameters<typeof Scalar>[0]))
  app.get(DOCS_BUNDLE_PATH, async (c) => serveStatic(await bundleAsset(), 'public, max-age=3600')(c))
}
