/**
 * One line read from the terminal, optionally without echo (a key typed at `preset install`).
 * Raw mode is turned on for the line and always off again; the editing is a pure function.
 */

export interface LineState {
  readonly text: string
  /** Enter was pressed. */
  readonly done?: boolean
  /** Ctrl-C or Ctrl-D on an empty line. */
  readonly cancelled?: boolean
}

/** The line after one chunk of raw input: printable characters added, Backspace, Ctrl-U, Enter, Ctrl-C. */
export function editLine(state: LineState, chunk: string): LineState {
  let text = state.text
  for (const c of chunk) {
    if (c === '\r' || c === '\n') return { text, done: true }
    if (c === '\x03' || (c === '\x04' && text === '')) return { text: '', cancelled: true }
    if (c === '\x7f' || c === '\b') text = [...text].slice(0, -1).join('')
    else if (c === '\x15') text = ''
    else if (c >= ' ') text += c
  }
  return { text }
}

type RawInput = NodeJS.ReadStream & { setRawMode?: (on: boolean) => unknown }

/** Asks `question` on stdout and reads one line from stdin; undefined when cancelled or stdin ends. */
export function askLine(question: string, opts: { readonly hidden?: boolean } = {}): Promise<string | undefined> {
  const input = process.stdin as RawInput
  process.stdout.write(question)
  return new Promise((resolve) => {
    let state: LineState = { text: '' }
    const raw = input.isTTY === true && typeof input.setRawMode === 'function'
    if (raw) input.setRawMode!(true)
    const finish = (value: string | undefined) => {
      input.off('data', onData)
      input.off('end', onEnd)
      if (raw) input.setRawMode!(false)
      input.pause()
      process.stdout.write('\n')
      resolve(value)
    }
    const onData = (chunk: Buffer | string) => {
      const before = state.text
      state = editLine(state, String(chunk))
      if (state.cancelled) return finish(undefined)
      if (raw && !opts.hidden && state.text !== before) {
        // Echo what raw mode no longer shows: redraw the line.
        process.stdout.write(`\r\x1b[K${question}${state.text}`)
      }
      if (state.done) finish(state.text.trim())
    }
    const onEnd = () => finish(state.text === '' ? undefined : state.text.trim())
    input.on('data', onData)
    input.on('end', onEnd)
    input.resume()
  })
}
