import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { arrowPick, menuLines, parseKeys, step, type Terminal } from './picker.ts'

/** A terminal double: keys are fed to the menu's data listener; raw mode and output are recorded. */
function fakeTerminal(rows = 24) {
  const listeners: ((d: string | Uint8Array) => void)[] = []
  const raw: boolean[] = []
  let out = ''
  const term: Terminal = {
    input: {
      setRawMode: (on) => raw.push(on),
      on: (_ev, f) => listeners.push(f),
      off: (_ev, f) => listeners.splice(listeners.indexOf(f), 1),
      resume: () => undefined,
      pause: () => undefined,
    },
    output: {
      write: (s) => {
        out += s
      },
      rows,
    },
  }
  return {
    term,
    raw,
    out: () => out,
    type: (s: string | Uint8Array) => {
      for (const l of [...listeners]) l(s)
    },
    listening: () => listeners.length,
  }
}

describe('arrow-key picker', () => {
  it('decodes cursor keys of both modes, vi keys, digits, Enter and the cancel keys; other sequences are skipped', () => {
    assert.deepEqual(parseKeys('\x1b[A\x1b[B\x1bOA\x1bOB\x1b[H\x1b[F'), ['up', 'down', 'up', 'down', 'home', 'end'])
    assert.deepEqual(parseKeys('kj3\r'), ['up', 'down', { jump: 2 }, 'enter'])
    assert.deepEqual(parseKeys('\x1b'), ['cancel'])
    assert.deepEqual(parseKeys('\x03'), ['cancel'])
    assert.deepEqual(parseKeys('q'), ['cancel'])
    assert.deepEqual(parseKeys('\x1b[5~\x1b[1;5Cx0'), [])
  })

  it('moves with wrap-around, jumps only to existing entries, chooses and cancels', () => {
    assert.deepEqual(step(0, 3, 'up'), { index: 2 })
    assert.deepEqual(step(2, 3, 'down'), { index: 0 })
    assert.deepEqual(step(1, 3, 'end'), { index: 2 })
    assert.deepEqual(step(1, 3, { jump: 0 }), { index: 0 })
    assert.deepEqual(step(1, 3, { jump: 7 }), { index: 1 })
    assert.deepEqual(step(1, 3, 'enter'), { chosen: 1 })
    assert.deepEqual(step(1, 3, 'cancel'), { cancelled: true })
  })

  it('shows a window of the list around the cursor when it is taller than the terminal', () => {
    const labels = Array.from({ length: 10 }, (_, i) => `t${i}`)
    assert.deepEqual(menuLines(labels.slice(0, 3), 1, 10), ['  t0', '❯ t1', '  t2'])
    assert.deepEqual(menuLines(labels, 0, 4), ['❯ t0', '  t1', '  t2', '  t3'])
    assert.deepEqual(menuLines(labels, 6, 4), ['  t4', '  t5', '❯ t6', '  t7'])
    assert.deepEqual(menuLines(labels, 9, 4), ['  t6', '  t7', '  t8', '❯ t9'])
  })

  it('runs in raw mode and puts the terminal back, chosen or cancelled', async () => {
    const t = fakeTerminal()
    const chosen = arrowPick(t.term, { title: 'Pick', labels: ['a', 'b', 'c'], initial: 1 })
    t.type('\x1b[B')
    t.type(new TextEncoder().encode('\x1b[B'))
    t.type('\r')
    assert.equal(await chosen, 0)
    assert.deepEqual(t.raw, [true, false])
    assert.equal(t.listening(), 0)
    assert.ok(t.out().endsWith('\x1b[?25h'), 'the cursor is shown again')
    const u = fakeTerminal()
    const cancelled = arrowPick(u.term, { title: 'Pick', labels: ['a', 'b'] })
    u.type('j\x1b')
    assert.equal(await cancelled, undefined)
    assert.deepEqual(u.raw, [true, false])
    assert.match(u.out(), /\(cancelled\)/)
  })
})
