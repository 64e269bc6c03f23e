/**
 * Checks the import direction and capability rules of shared/architecture.md by reading the
 * sources: a stray `fetch`, clock, `node:sqlite`, `Bun`/`Deno` or upward import fails here.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return sources(p)
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.bench.ts') ? [p] : []
  })
}

const files = sources(join(ROOT, 'src')).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }))
const importsOf = (text: string) => [...text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ spec: m[3]!, typeOnly: Boolean(m[2]) }))
const within = (path: string, ...dirs: string[]) => dirs.some((d) => path.startsWith(`src/${d}/`))

/** Folders whose code is pure maths and data: no I/O, no clock, no randomness of their own. */
const PURE = ['routing', 'resilience', 'tokens', 'formats', 'metrics', 'usage']
/** Layers above the pure core, which pure code must never import (even for types). */
const UPPER = ['proxy/', 'routes/', 'middleware/', 'cli/', 'cli.ts', 'app.ts', 'compose.ts', 'store/', 'runtime/', 'perf/engine']

describe('architecture', () => {
  it('reads a meaningful number of source files (the rules below are not vacuous)', () => {
    assert.ok(files.length > 60, `only ${files.length} files found`)
  })

  it('only src/store/ imports node:sqlite', () => {
    const bad = files.filter((f) => !within(f.path, 'store') && importsOf(f.text).some((i) => i.spec === 'node:sqlite'))
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('only src/runtime/ touches the Bun or Deno globals', () => {
    const bad = files.filter((f) => !within(f.path, 'runtime') && /\b(Bun|Deno)\.[a-zA-Z]/.test(f.text))
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('only src/runtime/ and the CLI touch process', () => {
    const bad = files.filter((f) => !within(f.path, 'runtime', 'cli') && f.path !== 'src/cli.ts' && /\bprocess\.[a-zA-Z]/.test(f.text))
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('pure folders never read the clock, draw randomness or call fetch themselves', () => {
    const bad = files.filter((f) => within(f.path, ...PURE) && /Date\.now\(\)|Math\.random\(\)|\bfetch\(|setTimeout\(|setInterval\(/.test(f.text))
    assert.deepEqual(bad.map((f) => f.path), [])
  })

  it('pure folders never import the layers above them', () => {
    const bad = files.flatMap((f) => within(f.path, ...PURE)
      ? importsOf(f.text).filter((i) => i.spec.startsWith('.') && UPPER.some((u) => i.spec.includes(`/${u}`) || i.spec.endsWith(`/${u}`))).map((i) => `${f.path} → ${i.spec}`)
      : [])
    assert.deepEqual(bad, [])
  })

  it('formats/ never imports routing/ or resilience/ (a translator cannot know which tier it serves)', () => {
    const bad = files.flatMap((f) => within(f.path, 'formats')
      ? importsOf(f.text).filter((i) => /\/(routing|resilience)\//.test(i.spec)).map((i) => `${f.path} → ${i.spec}`)
      : [])
    assert.deepEqual(bad, [])
  })

  it('only proxy/upstream.ts sends upstream requests (other modules get fetch through Deps)', () => {
    const bad = files.filter((f) => within(f.path, 'proxy') && f.path !== 'src/proxy/upstream.ts' && /\bfetch\(|deps\.fetch\(/.test(f.text))
    assert.deepEqual(bad.map((f) => f.path), [])
  })
})
