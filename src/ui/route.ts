/**
 * The dashboard at `/ui`: one HTML page, its script and styles and the uPlot chart library, all
 * embedded in the binary (text imports) and served by the instance itself, never a CDN. The page
 * holds no data: it reads the typed JSON endpoints with the API key the user typed, like any
 * client, so its shell and assets are public and everything it shows is behind APIKEY.
 */
import type { OpenAPIHono } from '@hono/zod-openapi'
import { serveStatic, type StaticAsset, staticAsset as asset } from './static.ts'
import htmlText from './page/index.html' with { type: 'text' }
import appCss from './page/app.css' with { type: 'text' }
import appJs from './page/app.js' with { type: 'text' }
import uplotJs from '../../node_modules/uplot/dist/uPlot.iife.min.js' with { type: 'text' }
import uplotCss from '../../node_modules/uplot/dist/uPlot.min.css' with { type: 'text' }

const ASSETS: Readonly<Record<string, StaticAsset>> = {
  '/ui/app.js': asset(appJs, 'text/javascript; charset=utf-8'),
  '/ui/app.css': asset(appCss, 'text/css; charset=utf-8'),
  '/ui/uplot.js': asset(uplotJs, 'text/javascript; charset=utf-8'),
  '/ui/uplot.css': asset(uplotCss, 'text/css; charset=utf-8'),
}
// bun-types types `*.html` imports as HTML bundles; imported as text they are the file's text.
const html = htmlText as unknown as string
const PAGE = asset(html, 'text/html; charset=utf-8')
/** Browsers ask for `/favicon.ico` on every page of the instance (the docs too): a small SVG, public. */
const ICON = asset(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M3 5h9l-2-2M13 11H4l2 2" stroke="#fff" stroke-width="1.6" fill="none"/></svg>',
  'image/svg+xml',
)

/** Paths served without the API key: the page and its assets (no data in them). */
export const UI_PUBLIC_PATHS: readonly string[] = ['/ui', '/ui/', '/favicon.ico', ...Object.keys(ASSETS)]

/** The page may talk to its own origin only: no script, style, font or request elsewhere. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/** Bytes the page needs on first load (HTML, script, styles, chart library), uncompressed. */
export const UI_PAGE_BYTES = [PAGE, ...Object.values(ASSETS)].reduce(
  (n, a) => n + new TextEncoder().encode(a.body).length,
  0,
)
/** The same, as sent to a browser that accepts gzip. */
export const uiPageGzipBytes = () =>
  [PAGE, ...Object.values(ASSETS)].reduce((n, a) => n + (a.body.length > 1024 ? a.gzipped().length : a.body.length), 0)

export function registerUi(app: OpenAPIHono): void {
  const serve = (a: StaticAsset, cache: string) => serveStatic(a, cache, SECURITY_HEADERS)
  app.get('/ui', serve(PAGE, 'no-cache'))
  app.get('/ui/', serve(PAGE, 'no-cache'))
  for (const [path, a] of Object.entries(ASSETS)) app.get(path, serve(a, 'no-cache'))
  app.get('/favicon.ico', serve(ICON, 'public, max-age=86400'))
}
