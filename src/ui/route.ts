/**
 * The dashboard at `/ui`: one HTML page, its script and styles and the uPlot chart library, all
 * embedded in the binary (text imports) and served by the instance itself, never a CDN. The page
 * holds no data: it reads the typed JSON endpoints with the API key the user typed, like any
 * client, so its shell and assets are public and everything it shows is behind APIKEY.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { serveStatic, type StaticAsset } from './static.ts'
import type { PageAssets } from './page-assets.ts'

/** The page's own assets, by path (the files are in `page-assets.ts`). */
const ASSET_PATHS = ['/ui/app.js', '/ui/app.css', '/ui/uplot.js', '/ui/uplot.css'] as const

// Read (and hashed) on the first dashboard request, once per process: an instance nobody opens
// the dashboard of does not hold its ~120 KB of text and hashes (docs/benchmarks.md, "Fourth
// pass: idle memory"). A literal specifier, so `bun build --compile` still embeds the files.
let loaded: Promise<PageAssets> | undefined
const pageAssets = () => loaded ??= import('./page-assets.ts').then((m) => m.pageAssets())

/** Paths served without the API key: the page and its assets (no data in them). */
export const UI_PUBLIC_PATHS: readonly string[] = ['/ui', '/ui/', '/favicon.ico', ...ASSET_PATHS]

/** The page may talk to its own origin only: no script, style, font or request elsewhere. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/** The files a browser loads with the page (HTML, script, styles, chart library). */
const firstLoad = async (): Promise<StaticAsset[]> => {
  const a = await pageAssets()
  return [a.page, ...Object.values(a.assets)]
}
/** Bytes the page needs on first load, uncompressed. */
export const uiPageBytes = async (): Promise<number> =>
  (await firstLoad()).reduce((n, x) => n + new TextEncoder().encode(x.body).length, 0)
/** The same, as sent to a browser that accepts gzip. */
export const uiPageGzipBytes = async (): Promise<number> =>
  (await firstLoad()).reduce((n, x) => n + (x.body.length > 1024 ? x.gzipped().length : x.body.length), 0)

export function registerUi(app: OpenAPIHono): void {
  const serve = (pick: (a: PageAssets) => StaticAsset, cache: string) => async (c: Context) =>
    serveStatic(pick(await pageAssets()), cache, SECURITY_HEADERS)(c)
  app.get('/ui', serve((a) => a.page, 'no-cache'))
  app.get('/ui/', serve((a) => a.page, 'no-cache'))
  for (const path of ASSET_PATHS) app.get(path, serve((a) => a.assets[path], 'no-cache'))
  app.get('/favicon.ico', serve((a) => a.icon, 'public, max-age=86400'))
}
