/**
 * The dashboard's files, embedded in the binary (text imports): imported by `route.ts` on the
 * first dashboard request only, so an instance whose dashboard is never opened does not hold them.
 */
import { type StaticAsset, staticAsset as asset } from './static.ts'
import htmlText from './page/index.html' with { type: 'text' }
import appCss from './page/app.css' with { type: 'text' }
import appJs from './page/app.js' with { type: 'text' }
import uplotJs from '../../node_modules/uplot/dist/uPlot.iife.min.js' with { type: 'text' }
import uplotCss from '../../node_modules/uplot/dist/uPlot.min.css' with { type: 'text' }

export interface PageAssets {
  readonly page: StaticAsset
  /** By path; `route.ts` lists the same paths as public. */
  readonly assets: Readonly<Record<'/ui/app.js' | '/ui/app.css' | '/ui/uplot.js' | '/ui/uplot.css', StaticAsset>>
  readonly icon: StaticAsset
}

export function pageAssets(): PageAssets {
  return {
    // bun-types types `*.html` imports as HTML bundles; imported as text they are the file's text.
    page: asset(htmlText as unknown as string, 'text/html; charset=utf-8'),
    assets: {
      '/ui/app.js': asset(appJs, 'text/javascript; charset=utf-8'),
      '/ui/app.css': asset(appCss, 'text/css; charset=utf-8'),
      '/ui/uplot.js': asset(uplotJs, 'text/javascript; charset=utf-8'),
      '/ui/uplot.css': asset(uplotCss, 'text/css; charset=utf-8'),
    },
    /** Browsers ask for `/favicon.ico` on every page of the instance (the docs too): a small SVG, public. */
    icon: asset(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M3 5h9l-2-2M13 11H4l2 2" stroke="#fff" stroke-width="1.6" fill="none"/></svg>',
      'image/svg+xml',
    ),
  }
}
