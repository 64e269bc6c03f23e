/**
 * An arrow-key menu for a terminal (`switchyard model` on a TTY): ↑/↓ (or k/j) move, a digit
 * jumps to that entry, Enter chooses, Esc, q or Ctrl-C cancels. The terminal is put in raw
 * mode for the menu and always put back. Key decoding and drawing are pure functions.
 */

export type Key = 'up' | 'down' | 'home' | 'end' | 'enter' | 'cancel' | { readonly jump: number }

/** The keys in one chunk of raw terminal input (escape sequences of both cursor-key modes). */
export function parseKeys(chunk: string): Key[] {
  const keys: Key[] = []
  for (let i = 0; i < chunk.length;) {
    if (chunk.charCodeAt(i) === 27) {
      const rest = chunk.slice(i + 1)
      const cursor = /^[[O]([ABHF])/.exec(rest)
      if (cursor) {
        keys.push(({ A: 'up', B: 'down', H: 'home', F: 'end' } as const)[cursor[1] as 'A' | 'B' | 'H' | 'F'])
        i += 1 + cursor[0].length
        continue
      }
      // Other escape sequences (other keys, mouse) are skipped whole; a lone Esc cancels.
      const other = /^\[[0-9;?]*[~A-Za-z]/.exec(rest)
      if (other) {
        i += 1 + other[0].length
        continue
      }
    }
    const c = chunk[i]!
    i++
    if (c === '\r' || c === '\n') keys.push('enter')
    else if (c === '\x1b' || c === '\x03' || c === '\x04' || c === 'q') keys.push('cancel')
    else if (c === 'k') keys.push('up')
    else if (c === 'j') keys.push('down')
    else if (c >= '1' && c <= '9') keys.push({ jump: Number(c) - 1 })
  }
  return keys
}

export type Step = { readonly index: number } | { readonly chosen: number } | { readonly cancelled: true }

/** The menu after `key`: the cursor moves (wrapping), or the entry is chosen, or the menu is cancelled. */
export function step(index: number, count: number, key: Key): Step {
  if (key === 'enter') return { chosen: index }
  if (key === 'cancel') return { cancelled: true }
  if (key === 'up') return { index: (index - 1 + count) % count }
  if (key === 'down') return { index: (index + 1) % count }
  if (key === 'home') return { index: 0 }
  if (key === 'end') return { index: count - 1 }
  return { index: key.jump < count ? key.jump : index }
}

/** The visible lines: at most `height` entries around the cursor, the cursor's entry marked. */
export function menuLines(labels: readonly string[], index: number, height: number): string[] {
  const h = Math.max(1, Math.min(height, labels.length))
  const start = Math.min(Math.max(0, index - Math.floor(h / 2)), labels.length - h)
  return labels.slice(start, start + h).map((l, i) => `${start + i === index ? '❯' : ' '} ${l}`)
}

/** The terminal the menu runs on: a raw-mode-capable input and an output with a size. */
export interface Terminal {
  readonly input: {
    setRawMode(on: boolean): unknown
    on(ev: 'data', f: (d: string | Uint8Array) => void): unknown
    off(ev: 'data', f: (d: string | Uint8Array) => void): unknown
    resume(): unknown
    pause(): unknown
  }
  readonly output: { write(s: string): unknown; readonly rows?: number }
}

const HIDE_CURSOR = '\x1b[?25l'
const SHOW_CURSOR = '\x1b[?25h'
const CLEAR_LINE = '\r\x1b[2K'

/**
 * Shows `labels` under `title` (the cursor on `initial`) and resolves with the chosen index, or undefined when cancelled.
 * The menu is drawn in place; after it only the title and the choice stay on screen.
 */
export function arrowPick(
  term: Terminal,
  menu: { readonly title: string; readonly labels: readonly string[]; readonly initial?: number },
): Promise<number | undefined> {
  const { input, output } = term
  const { title, labels, initial = 0 } = menu
  const height = Math.max(3, (output.rows ?? 24) - 3)
  let index = Math.min(Math.max(0, initial), labels.length - 1)
  let drawn = 0
  const draw = () => {
    const lines = menuLines(labels, index, height)
    output.write((drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `${CLEAR_LINE}${l}\n`).join(''))
    drawn = lines.length
  }
  output.write(`${title}  (↑/↓ to move, Enter to choose, Esc to cancel)\n${HIDE_CURSOR}`)
  draw()
  return new Promise((resolve) => {
    const decoder = new TextDecoder()
    const done = (chosen: number | undefined) => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      // The menu gives way to one line with the choice.
      output.write(
        `\x1b[${drawn}A${'\x1b[2K\n'.repeat(drawn)}\x1b[${drawn}A${CLEAR_LINE}  ${
          chosen === undefined ? '(cancelled)' : labels[chosen]
        }\n${SHOW_CURSOR}`,
      )
      resolve(chosen)
    }
    const onData = (d: string | Uint8Array) => {
      for (const key of parseKeys(typeof d === 'string' ? d : decoder.decode(d))) {
        const s = step(index, labels.length, key)
        if ('chosen' in s) return done(s.chosen)
        if ('cancelled' in s) return done(undefined)
        index = s.index
      }
      draw()
    }
    input.setRawMode(true)
    input.on('data', onData)
    input.resume()
  })
}
