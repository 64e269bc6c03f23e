/**
 * The layer rules of docs/architecture.md, checked by reading the sources: every import in
 * src/, harness/, scripts/ and the shared test helpers must go to a folder its own folder is
 * allowed to use (LAYERS), the import graph must have no cycle, and the capability rules hold
 * (a stray `fetch`, clock, `node:sqlite`, `Bun`/`Deno` or `process` fails here). The checker is
 * a pair of pure functions over an in-memory graph, so the last block can feed it a
 * deliberately wrong graph and show that it fails.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')

const isTest = (p: string) => p.endsWith('.test.ts') || p.endsWith('.bench.ts')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return sources(p)
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : []
  })
}

interface SourceFile {
  readonly path: string
  readonly text: string
}
interface Import {
  readonly spec: string
  readonly typeOnly: boolean
}

const all: SourceFile[] = ['src', 'harness', 'scripts', 'test']
  .flatMap((d) => sources(join(ROOT, d)))
  .map((p) => ({ path: relative(ROOT, p).split('\\').join('/'), text: readFileSync(p, 'utf8') }))
/** Product, harness and script code (tests may import anything they exercise). */
const files = all.filter((f) => !isTest(f.path))
const product = files.filter((f) => f.path.startsWith('src/'))

/** Block comments and whole-line `//` comments out, so an example in a doc comment is no import. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')

/** Static imports and re-exports (also multi-line and side-effect ones) and dynamic `import('…')`. */
export function importsOf(text: string): Import[] {
  const src = code(text)
  const out: Import[] = []
  for (const m of src.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s*)?['"]([^'"]+)['"]/gm)) {
    out.push({ spec: m[2]!, typeOnly: Boolean(m[1]) })
  }
  for (const m of src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false })
  return out
}

/** `from` → every repository file it imports (relative specifiers only; packages are not edges). */
export type Graph = ReadonlyMap<string, readonly string[]>

function graphOf(fs: readonly SourceFile[]): Graph {
  return new Map(fs.map((f) => [
    f.path,
    importsOf(f.text)
      .filter((i) => i.spec.startsWith('.'))
      .map((i) => normalize(join(dirname(f.path), i.spec)).split('\\').join('/')),
  ]))
}

/**
 * The layer a file belongs to: its folder under src/ (`routing`), a top-level src file by name
 * (`app.ts`), or `harness`, `scripts`, `test`. `deps.ts`, the interface the pipeline is handed,
 * belongs to proxy/. perf/'s pure model (run records, aggregates, score) is a layer of its own
 * below store/ and routing/, which persist and blend it; the rest of perf/ (engine, scheduler,
 * CLI) sits above them.
 */
const PERF_MODEL = new Set(['src/perf/types.ts', 'src/perf/aggregate.ts', 'src/perf/run-stats.ts', 'src/perf/score.ts'])
export function layerOf(path: string): string {
  if (PERF_MODEL.has(path)) return 'perf-model'
  // The interface the pipeline is handed belongs to the pipeline.
  if (path === 'src/deps.ts') return 'proxy'
  const parts = path.split('/')
  if (parts[0] !== 'src') return parts[0]!
  return parts[1]!
}

/**
 * What each layer may import besides itself, bottom to top. A layer not listed here may import
 * nothing, so a new folder has to be placed in this list deliberately.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  'lib': [],
  'errors.ts': [],
  'version.ts': [],
  'config': ['lib'],
  'formats': ['config', 'errors.ts', 'lib'],
  'tokens': ['config', 'formats', 'lib'],
  'resilience': ['config', 'errors.ts', 'lib'],
  'metrics': ['lib'],
  // Pure trend and detector maths (change detectors, Pareto frontier, intervals, arm assignment).
  'analysis': ['lib'],
  'usage': ['formats', 'lib'],
  'perf-model': ['config', 'formats', 'lib'],
  'routing': ['config', 'errors.ts', 'formats', 'lib', 'perf-model', 'resilience', 'tokens'],
  // Named API keys: limits and usage per key (pure, `now` as an argument).
  'keys': ['config', 'lib', 'resilience'],
  // The response cache's key and store (the pipeline's side is proxy/cache.ts).
  'cache': ['formats', 'lib'],
  'runtime': ['lib'],
  'store': ['keys', 'lib', 'perf-model', 'usage'],
  'log.ts': ['config'],
  'perf': ['config', 'formats', 'lib', 'perf-model', 'routing', 'store'],
  'demo': ['config', 'formats', 'lib', 'runtime'],
  // The pipeline, with deps.ts, the interface it is handed.
  'proxy': [
    'cache',
    'config',
    'errors.ts',
    'formats',
    'keys',
    'lib',
    'log.ts',
    'perf-model',
    'resilience',
    'routing',
    'tokens',
  ],
  'fleet': [
    'config',
    'errors.ts',
    'formats',
    'keys',
    'lib',
    'log.ts',
    'metrics',
    'middleware',
    'perf-model',
    'proxy',
    'resilience',
    'routing',
    'usage',
  ],
  'telemetry.ts': ['errors.ts', 'formats', 'log.ts', 'proxy', 'routing'],
  'observability.ts': [
    'config',
    'errors.ts',
    'formats',
    'lib',
    'log.ts',
    'metrics',
    'proxy',
    'routing',
    'telemetry.ts',
    'tokens',
    'usage',
  ],
  'upstream-fetch.ts': ['config', 'proxy', 'runtime'],
  // Trends, alerts (with their webhooks), recommendations and experiments over the live traffic and the stores.
  'insights': [
    'analysis',
    'config',
    'errors.ts',
    'lib',
    'log.ts',
    'metrics',
    'proxy',
    'routing',
    'store',
    'telemetry.ts',
  ],
  // The edge.
  'middleware': ['config', 'errors.ts', 'formats', 'keys', 'lib', 'proxy', 'resilience'],
  'plugins': ['config', 'formats', 'lib', 'log.ts', 'proxy', 'routing'],
  'live': ['proxy'],
  'routes': [
    'config',
    'errors.ts',
    'formats',
    'insights',
    'lib',
    'live',
    'metrics',
    'middleware',
    'observability.ts',
    'perf',
    'perf-model',
    'proxy',
    'resilience',
    'routing',
    'store',
    'usage',
    'version.ts',
  ],
  // The dashboard and /docs embed page assets (uPlot, Scalar's bundle) from the installed packages as text.
  'ui': ['node_modules'],
  'app.ts': ['errors.ts', 'middleware', 'proxy', 'routes', 'ui', 'version.ts'],
  // The composition root builds every service and registers every route.
  'compose.ts': [
    'app.ts',
    'cache',
    'config',
    'fleet',
    'formats',
    'insights',
    'keys',
    'lib',
    'live',
    'log.ts',
    'observability.ts',
    'perf',
    'perf-model',
    'plugins',
    'proxy',
    'resilience',
    'routes',
    'routing',
    'runtime',
    'store',
    'telemetry.ts',
    'tokens',
    'upstream-fetch.ts',
    'usage',
    'version.ts',
  ],
  // The start-up warm-up: a throwaway app (services + edge) on the in-process demo mock.
  'warmup.ts': ['app.ts', 'compose.ts', 'config', 'demo', 'log.ts'],
  // The CLI is the top of the product; `probe` sends its tests through the pipeline's probe sender.
  'cli': [
    'compose.ts',
    'config',
    'demo',
    'formats',
    'lib',
    'live',
    'log.ts',
    'perf',
    'perf-model',
    'plugins',
    'proxy',
    'runtime',
    'store',
    'tokens',
    'version.ts',
    'warmup.ts',
  ],
  'cli.ts': ['cli', 'runtime', 'version.ts'],
  // Outside the product: they may use it, it never uses them.
  // The alerts scenario (harness/alerts.ts) runs a whole instance in process, on a simulated clock.
  // The bench sends an agent's conversation as the token estimator's benchmark builds it.
  'harness': ['compose.ts', 'config', 'demo', 'formats', 'lib', 'log.ts', 'runtime', 'tokens'],
  // Shared test helpers get their app from the composition root, never from the CLI.
  // test/doubles/ holds the fakes perf's tests drive (scheduler, sender).
  'test': [
    'app.ts',
    'compose.ts',
    'config',
    'demo',
    'fleet',
    'formats',
    'harness',
    'keys',
    'lib',
    'log.ts',
    'perf',
    'perf-model',
    'proxy',
    'resilience',
    'routes',
    'routing',
    'runtime',
    'version.ts',
  ],
  'scripts': ['compose.ts', 'test'],
}

/** Every import that leaves its layer for one the layer is not allowed to use, as `from → to`. */
export function layerViolations(graph: Graph, layers: Readonly<Record<string, readonly string[]>>): string[] {
  const bad: string[] = []
  for (const [from, tos] of graph) {
    const a = layerOf(from)
    for (const to of tos) {
      const b = layerOf(to)
      if (a !== b && !(layers[a] ?? []).includes(b)) bad.push(`${from} → ${to} (${a} may not import ${b})`)
    }
  }
  return bad
}

/** Each import cycle once, as the files around it (Tarjan's strongly connected components). */
export function cyclesOf(graph: Graph): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const scc: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      scc.push(w)
    } while (w !== v)
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

/**
 * How many positional parameters each exported function declaration takes (`export function`,
 * also async and generic ones). A regex-and-bracket parse, not a type checker: enough to keep a
 * request's state from travelling as a row of values again.
 */
export function positionalParams(text: string): { name: string; count: number }[] {
  const src = code(text)
  const out: { name: string; count: number }[] = []
  for (const m of src.matchAll(/^export\s+(?:async\s+)?function\s*\*?\s*(\w+)\s*(?:<[^(]*>)?\s*\(/gm)) {
    let i = m.index! + m[0].length
    let depth = 1
    const start = i
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '(') depth++
      else if (src[i] === ')') depth--
    }
    // Arrows inside parameter types (`(x) => void`) must not count as brackets.
    const params = src.slice(start, i - 1).replace(/=>/g, '').replace(/,\s*$/, '')
    let level = 0
    let count = params.trim() === '' ? 0 : 1
    for (const ch of params) {
      if ('([{<'.includes(ch)) level++
      else if (')]}>'.includes(ch)) level--
      else if (ch === ',' && level === 0) count++
    }
    out.push({ name: m[1]!, count })
  }
  return out
}

/** Most exported functions take at most this many positional parameters; more go in an options object or the request context. */
const MAX_POSITIONAL = 3

/**
 * Exceptions, each with its reason. The pure reducers below share one shape,
 * `(state, event, now, params)`: the clock is an argument by the purity rule, and folding the
 * state into an options bag would hide which argument the function returns a new version of.
 */
const POSITIONAL_EXCEPTIONS: Readonly<Record<string, string>> = {
  'src/lib/window.ts windowAdd': 'pure reducer (window, key, n, now, params)',
  'src/lib/window.ts windowSum': 'pure reducer (window, key, now, params)',
  'src/resilience/bucket.ts bucketTake': 'pure reducer (bucket, cost, now, params)',
  'src/resilience/bucket.ts bucketSettle': 'pure reducer (bucket, reserved, actual, params)',
  'src/resilience/breaker.ts breakerNext': 'pure reducer (state, event, now, policy)',
  'src/perf/budget.ts reserve': 'pure reducer (budget, tokens, limit, now)',
  'src/perf/budget.ts settle': 'pure reducer (budget, reserved, actual, now)',
}

const graph = graphOf(files)
const within = (path: string, ...dirs: string[]) => dirs.some((d) => path.startsWith(`src/${d}/`))

/** Folders whose code is pure maths and data: no I/O, no clock, no randomness of their own. */
const PURE = ['routing', 'resilience', 'tokens', 'formats', 'metrics', 'usage', 'keys', 'analysis']

describe('architecture', () => {
  it('reads a meaningful number of source files and imports (the rules below are not vacuous)', () => {
    assert.ok(product.length > 60, `only ${product.length} files found`)
    const edges = [...graph.values()].reduce((n, tos) => n + tos.length, 0)
    assert.ok(edges > 300, `only ${edges} imports found`)
  })

  it('every relative import names a file that exists', () => {
    const known = new Set(all.map((f) => f.path))
    const bad = [...graph].flatMap(([from, tos]) =>
      tos.filter((to) => to.endsWith('.ts') && !to.endsWith('.d.ts') && !known.has(to)).map((to) => `${from} → ${to}`)
    )
    assert.deepEqual(bad, [])
  })

  it('every file belongs to a layer of the allow-list', () => {
    const unknown = [...new Set(files.map((f) => layerOf(f.path)))].filter((l) => !(l in LAYERS))
    assert.deepEqual(unknown, [])
  })

  it('every import goes to a layer its own layer may use', () => {
    assert.deepEqual(layerViolations(graph, LAYERS), [])
  })

  it('the import graph has no cycles (type-only imports included)', () => {
    assert.deepEqual(cyclesOf(graph), [])
  })

  it('the layers themselves form no cycle (so the allow-list has a bottom and a top)', () => {
    const layerGraph: Graph = new Map(Object.entries(LAYERS))
    assert.deepEqual(cyclesOf(layerGraph), [])
  })

  it('only src/store/ imports node:sqlite', () => {
    const bad = product.filter((f) =>
      !within(f.path, 'store') && importsOf(f.text).some((i) => i.spec === 'node:sqlite')
    )
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('only src/runtime/ touches the Bun or Deno globals', () => {
    const bad = product.filter((f) => !within(f.path, 'runtime') && /\b(Bun|Deno)\.[a-zA-Z]/.test(f.text))
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('only src/runtime/ and the CLI touch process', () => {
    const bad = product.filter((f) =>
      !within(f.path, 'runtime', 'cli') && f.path !== 'src/cli.ts' && /\bprocess\.[a-zA-Z]/.test(f.text)
    )
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('pure folders never read the clock, draw randomness or call fetch themselves', () => {
    const bad = product.filter((f) =>
      within(f.path, ...PURE) && /Date\.now\(\)|Math\.random\(\)|\bfetch\(|setTimeout\(|setInterval\(/.test(f.text)
    )
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  // The one exception: the tokenizer's rank table ships as a data file beside its module and is
  // read like an import (once, on the first count); anything else a pure folder needs comes in
  // as an argument.
  const READS_SHIPPED_DATA = new Set(['src/tokens/cl100k-data.ts'])
  it('pure folders import no node: module (no I/O), save the one file that reads shipped data', () => {
    const bad = product.filter((f) =>
      within(f.path, ...PURE) && !isTest(f.path) && !READS_SHIPPED_DATA.has(f.path) &&
      importsOf(f.text).some((i) => i.spec.startsWith('node:'))
    )
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('pure folders import only pure layers (even for types)', () => {
    const pureLayers = new Set([...PURE, 'lib', 'config', 'errors.ts', 'perf-model'])
    const bad = [...graph].flatMap(([from, tos]) =>
      pureLayers.has(layerOf(from)) && PURE.includes(layerOf(from))
        ? tos.filter((to) => !pureLayers.has(layerOf(to))).map((to) => `${from} → ${to}`)
        : []
    )
    assert.deepEqual(bad, [])
  })

  it(`no exported function in src/ takes more than ${MAX_POSITIONAL} positional parameters (justified exceptions listed)`, () => {
    const over = product.filter((f) => !isTest(f.path)).flatMap((f) =>
      positionalParams(f.text)
        .filter((p) => p.count > MAX_POSITIONAL && !(`${f.path} ${p.name}` in POSITIONAL_EXCEPTIONS))
        .map((p) => `${f.path} ${p.name} (${p.count})`)
    )
    assert.deepEqual(over, [])
    const stale = Object.keys(POSITIONAL_EXCEPTIONS).filter((k) => {
      const [path, name] = k.split(' ')
      const f = product.find((x) => x.path === path)
      return !f || !positionalParams(f.text).some((p) => p.name === name && p.count > MAX_POSITIONAL)
    })
    assert.deepEqual(stale, [], 'an exception that no longer applies should leave the list')
  })

  it('only proxy/upstream.ts sends upstream requests (other modules get fetch through Deps)', () => {
    const bad = product.filter((f) =>
      within(f.path, 'proxy') && f.path !== 'src/proxy/upstream.ts' && /\bfetch\(|deps\.fetch\(/.test(f.text)
    )
    assert.deepEqual(bad.map((f) => f.path), [])
  })
})

describe('architecture checker (a test of the test)', () => {
  const ok: Graph = new Map([
    ['src/routing/plan.ts', ['src/resilience/breaker.ts', 'src/config/types.ts']],
    ['src/resilience/breaker.ts', ['src/config/types.ts']],
    ['src/config/types.ts', []],
  ])

  it('accepts a graph that follows the rules', () => {
    assert.deepEqual(layerViolations(ok, LAYERS), [])
    assert.deepEqual(cyclesOf(ok), [])
  })

  it('flags a deliberately added upward import', () => {
    const upward = new Map(ok).set('src/resilience/breaker.ts', ['src/config/types.ts', 'src/routing/window.ts'])
    assert.deepEqual(layerViolations(upward, LAYERS), [
      'src/resilience/breaker.ts → src/routing/window.ts (resilience may not import routing)',
    ])
    const shipsHarness = new Map([['src/cli/start.ts', ['harness/mock-server.ts']]])
    assert.equal(layerViolations(shipsHarness, LAYERS).length, 1)
  })

  it('flags a cycle, also one inside a single layer', () => {
    const cycle = new Map([
      ['src/metrics/registry.ts', ['src/metrics/exposition.ts']],
      ['src/metrics/exposition.ts', ['src/metrics/registry.ts']],
      ['src/metrics/prometheus.ts', ['src/metrics/registry.ts']],
    ])
    assert.deepEqual(layerViolations(cycle, LAYERS), [])
    assert.deepEqual(cyclesOf(cycle), [['src/metrics/exposition.ts', 'src/metrics/registry.ts']])
    assert.deepEqual(cyclesOf(new Map([['src/a.ts', ['src/a.ts']]])), [['src/a.ts']])
  })

  it('counts positional parameters, not the commas inside their types or defaults', () => {
    const text = [
      'export function a(x: number, y: Map<string, number>, f: (p: string, q: string) => void = () => {}, o: { k: 1; j: [2, 3] }): void {}',
      'export async function b<T extends Record<string, unknown>>(\n  x: T,\n  y = [1, 2],\n): Promise<void> {}',
      'export function c(): void {}',
      'function d(a: 1, b: 2, c: 3, e: 4) {}',
    ].join('\n')
    assert.deepEqual(positionalParams(text), [{ name: 'a', count: 4 }, { name: 'b', count: 2 }, {
      name: 'c',
      count: 0,
    }])
  })

  it('reads multi-line, type-only, re-export, side-effect and dynamic imports, and skips commented ones', () => {
    const text = [
      "import {\n  a,\n  b,\n} from './multi.ts'",
      "import type { T } from './types.ts'",
      "export { x } from './re.ts'",
      "import './side.ts'",
      "const m = await import('./lazy.ts')",
      '/** @example import { z } from "./doc.ts" */',
      "// import { y } from './line.ts'",
    ].join('\n')
    assert.deepEqual(importsOf(text).map((i) => i.spec), [
      './multi.ts',
      './types.ts',
      './re.ts',
      './side.ts',
      './lazy.ts',
    ])
    assert.equal(importsOf(text).find((i) => i.spec === './types.ts')?.typeOnly, true)
  })
})
