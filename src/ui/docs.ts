/**
 * `/docs`: the Scalar API reference, offline. The page loads the installed
 * `@scalar/api-reference` bundle from this instance (embedded in the binary) instead of an
 * unpinned CDN script, with Scalar's web fonts, hosted request proxy, telemetry, agent and
 * external service URLs switched off: opening it sends no request to any other host.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import bundle from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with { type: 'text' }
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

// Hashed (and gzipped) on first request, once per process: every app built in a test need not pay for 4.8 MB.
let asset: StaticAsset | undefined
const bundleAsset = () => (asset ??= staticAsset(bundle, 'text/javascript; charset=utf-8'))

export function registerDocs(app: OpenAPIHono): void {
  app.get('/docs', Scalar(OFFLINE_SCALAR_OPTIONS as unknown as Parameters<typeof Scalar>[0]))
  app.get(DOCS_BUNDLE_PATH, (c) => serveStatic(bundleAsset(), 'public, max-age=3600')(c))
}
