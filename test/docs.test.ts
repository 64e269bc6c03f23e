/**
 * The repository stands on its own: every relative link in the Markdown docs resolves to a
 * file in it, every `docs/….md §N` a code comment cites names a file and a section that exist,
 * and no comment or doc points at notes kept outside the repository.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..')

function walk(dir: string, keep: (p: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : walk(p, keep)
    return keep(p) ? [p] : []
  })
}

const rel = (p: string) => relative(ROOT, p).split('\\').join('/')
const markdown = [
  join(ROOT, 'README.md'),
  ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md')),
  join(ROOT, 'harness', 'README.md'),
]
/** Every TypeScript file but this one, whose examples are deliberately wrong. */
const sources = ['src', 'harness', 'scripts', 'test'].flatMap((d) => walk(join(ROOT, d), (p) => p.endsWith('.ts')))
  .filter((p) => rel(p) !== 'test/docs.test.ts')

/** Relative Markdown link targets (`[text](path#anchor)`), without web and mail links. */
export function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#'))
    .map((t) => t.split('#')[0]!)
}

/** `docs/x.md §4.2` citations in a text, as [file, section]. */
export function citations(text: string): [string, string][] {
  return [...text.matchAll(/(docs\/[\w-]+\.md)((?:,? ?(?:and )?§\d+(?:\.\d+)?)*)/g)]
    .flatMap((m) => {
      const secs = [...m[2]!.matchAll(/§(\d+(?:\.\d+)?)/g)].map((s) => s[1]!)
      return secs.length === 0 ? [[m[1]!, ''] as [string, string]] : secs.map((s) => [m[1]!, s] as [string, string])
    })
}

/**
 * Markdown files a text names (`docs/x.md`, `../README.md`) that are not in the repository, read
 * from `file`: a path resolves against the naming file's folder or the repository root. A note
 * kept outside the repository is such a path, whatever folder it lives in.
 */
export function unresolvedMarkdown(text: string, file: string): string[] {
  return [...text.matchAll(/(?:^|[\s(`'"[])((?:\.{1,2}\/|~\/|\/)?[\w.-]+(?:\/[\w.-]+)*\.md)\b/g)]
    .map((m) => m[1]!)
    .filter((p) => {
      const candidates = [join(dirname(file), p), join(ROOT, p)]
      return !candidates.some((c) => !rel(c).startsWith('..') && existsSync(c))
    })
}
/** A bare `protocols.md §…` (the file is docs/protocols.md). */
const BARE_PROTOCOLS = /(^|[^/\w])protocols\.md §/

function headingNumbers(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return new Set([...text.matchAll(/^#{2,4} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]!))
}

describe('docs', () => {
  it('reads the docs and the sources (not vacuous)', () => {
    assert.ok(markdown.length >= 5 && sources.length > 100)
  })

  it('every relative link in README.md, docs/ and harness/README.md resolves inside the repository', () => {
    const bad = markdown.flatMap((md) =>
      relativeLinks(readFileSync(md, 'utf8'))
        .filter((t) => {
          const target = join(dirname(md), t)
          return rel(target).startsWith('..') || !existsSync(target)
        })
        .map((t) => `${rel(md)} → ${t}`)
    )
    assert.deepEqual(bad, [])
  })

  it('every docs/….md § a comment cites names an existing file and section', () => {
    const bad = [...sources, ...markdown].flatMap((f) =>
      citations(readFileSync(f, 'utf8'))
        .filter(([doc, sec]) => !existsSync(join(ROOT, doc)) || (sec !== '' && !headingNumbers(doc).has(sec)))
        .map(([doc, sec]) => `${rel(f)} → ${doc} §${sec}`)
    )
    assert.deepEqual(bad, [])
  })

  it('no comment or doc points outside the repository', () => {
    const bad = [...sources, ...markdown].flatMap((f) => {
      const t = readFileSync(f, 'utf8')
      return [...unresolvedMarkdown(t, f), ...(BARE_PROTOCOLS.test(t) ? ['a bare protocols.md §'] : [])]
        .map((what) => `${rel(f)} → ${what}`)
    })
    assert.deepEqual(bad, [])
  })

  it('the checks catch what they are for (a test of the test)', () => {
    assert.deepEqual(relativeLinks('see [a](docs/a.md#x), [b](https://x.y/z.md) and [c](#top)'), ['docs/a.md'])
    assert.deepEqual(citations('(docs/protocols.md §4.2, §5.3) and docs/tokens.md'), [['docs/protocols.md', '4.2'], [
      'docs/protocols.md',
      '5.3',
    ], ['docs/tokens.md', '']])
    const from = join(ROOT, 'src', 'x.ts')
    assert.deepEqual(unresolvedMarkdown(' * see ../../elsewhere/notes.md §2, docs/tokens.md and README.md', from), [
      '../../elsewhere/notes.md',
    ])
    assert.deepEqual(unresolvedMarkdown('(docs/no-such-page.md)', from), ['docs/no-such-page.md'])
    assert.ok(BARE_PROTOCOLS.test('the table (protocols.md §4.4)'))
    assert.ok(!BARE_PROTOCOLS.test('the table (docs/protocols.md §4.3)'))
    assert.ok(headingNumbers('docs/protocols.md').has('4.3'))
  })
})
