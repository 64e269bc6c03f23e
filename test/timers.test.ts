/**
 * Every timer in the product whose delay is not a literal goes through `timerDelay`, which
 * clamps it to what timers accept: a delay past 2^31 - 1 ms fires at once, and a config or
 * upstream number that large used to turn "wait a long time" into "fire every millisecond".
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

/** The last top-level argument of the call whose `(` is at `open` (a trailing comma, as the formatter writes, ends no argument). */
function lastArgument(text: string, open: number): string {
  let depth = 0
  let start = open + 1
  let previous = ''
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === '(' || c === '[' || c === '{') depth++
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth === 0) return text.slice(start, i).trim() || previous
    } else if (c === ',' && depth === 1) {
      previous = text.slice(start, i).trim()
      start = i + 1
    }
  }
  return ''
}

describe('timers', () => {
  // src/demo is the mock upstream the tests and the demo talk to; its delays are its own knobs.
  const files = sources(join(ROOT, 'src')).filter((p) => !relative(ROOT, p).startsWith('src/demo/'))

  it('every non-literal timer delay in src/ is clamped by timerDelay', () => {
    const bad: string[] = []
    let seen = 0
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
      for (const m of text.matchAll(/\b(setTimeout|setInterval)\(/g)) {
        const arg = lastArgument(text, m.index + m[0].length - 1)
        if (/^\w+: /.test(arg)) continue // a method signature in an interface, not a call
        seen++
        // A literal or a named constant of the code is fine; anything else may come from config or an upstream.
        if (!/^[\d_]+$|^[A-Z][A-Z0-9_]*$/.test(arg) && !arg.startsWith('timerDelay(')) {
          bad.push(`${relative(ROOT, file)}: ${m[1]}(…, ${arg})`)
        }
      }
    }
    assert.ok(seen > 5, `only ${seen} timers found`)
    assert.deepEqual(bad, [])
  })
})
