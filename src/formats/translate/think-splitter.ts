/** Streaming-safe `<think>…</think>` splitter (docs/protocols.md §4.5). */

export interface ThinkSegment {
  readonly kind: 'thinking' | 'text'
  readonly text: string
}

export interface ThinkSplitter {
  push(text: string): ThinkSegment[]
  /** End of a content run (end of stream, or a tool call follows): releases anything held back. */
  flush(): ThinkSegment[]
  /** True once a closing tag was seen. */
  readonly closed: boolean
  /** Past the thinking section with nothing held back: `push(text)` gives `text` back as one text segment (or none when empty). */
  readonly plain: boolean
}

type Phase = 'start' | 'thinking' | 'after' | 'text'

/** Options: the section may start open (template pre-inserted the tag); the tag pair is configurable. */
export interface ThinkOptions {
  readonly startsOpen?: boolean
  /** Opening and closing tags; `<think>` / `</think>` unless given (some models use `<thinking>`). */
  readonly tags?: readonly [string, string]
}

/** Length of the longest suffix of `s` that is a proper prefix of `tag` (what to hold back). */
function partialTagAt(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) {
    if (tag.startsWith(s.slice(s.length - n))) return n
  }
  return 0
}

/**
 * A per-choice state machine. Only a tag at the very start (after whitespace) opens a thinking
 * section; a later `<think>` is literal text (code). Tags may be split across chunks: a
 * possible partial tag is held back until the next chunk decides it.
 * @example const s = createThinkSplitter(); s.push('<th'); s.push('ink>hm</think> ok') // [thinking 'hm', text 'ok']
 */
export function createThinkSplitter(opts: ThinkOptions = {}): ThinkSplitter {
  return new Splitter(opts)
}

/** One object with methods, not closures over a scope: every open translated stream keeps one. */
class Splitter implements ThinkSplitter {
  readonly #openTag: string
  readonly #closeTag: string
  #phase: Phase
  #buf = ''
  #closed = false
  #leading = true

  constructor(opts: ThinkOptions) {
    const [openTag, closeTag] = opts.tags ?? ['<think>', '</think>']
    this.#openTag = openTag
    this.#closeTag = closeTag
    this.#phase = opts.startsOpen ? 'thinking' : 'start'
  }

  get closed(): boolean {
    return this.#closed
  }

  get plain(): boolean {
    return this.#phase === 'text'
  }

  push(text: string): ThinkSegment[] {
    const out: ThinkSegment[] = []
    this.#buf += text
    this.#step(out)
    return out
  }

  flush(): ThinkSegment[] {
    const out: ThinkSegment[] = []
    const phase = this.#phase
    if (this.#buf.length > 0 && phase !== 'after') {
      out.push({ kind: phase === 'thinking' ? 'thinking' : 'text', text: this.#buf })
    }
    this.#buf = ''
    // Content went on past the start (e.g. a tool call came): a tag can no longer open thinking.
    if (phase === 'start') this.#phase = 'text'
    return out
  }

  #step(out: ThinkSegment[]): void {
    const openTag = this.#openTag
    const closeTag = this.#closeTag
    let buf = this.#buf
    if (this.#phase === 'start') {
      const lead = buf.trimStart()
      if (lead.startsWith(openTag)) {
        this.#phase = 'thinking'
        buf = lead.slice(openTag.length)
      } else if (lead.length === 0 || openTag.startsWith(lead)) return
      else this.#phase = 'text'
    }
    if (this.#phase === 'thinking') {
      if (this.#leading) {
        // Models write `<think>\n…`: the newline is layout, not reasoning.
        buf = buf.trimStart()
        if (buf.length === 0) return void (this.#buf = buf)
        this.#leading = false
      }
      const at = buf.indexOf(closeTag)
      if (at < 0) {
        const keep = partialTagAt(buf, closeTag)
        if (buf.length > keep) out.push({ kind: 'thinking', text: buf.slice(0, buf.length - keep) })
        this.#buf = buf.slice(buf.length - keep)
        return
      }
      if (at > 0) out.push({ kind: 'thinking', text: buf.slice(0, at) })
      buf = buf.slice(at + closeTag.length)
      this.#phase = 'after'
      this.#closed = true
    }
    if (this.#phase === 'after') {
      buf = buf.trimStart()
      if (buf.length === 0) return void (this.#buf = buf)
      this.#phase = 'text'
    }
    if (buf.length > 0) out.push({ kind: 'text', text: buf })
    this.#buf = ''
  }
}

/**
 * Split a whole (non-streamed) content string. When the text starts inside a thinking
 * section but never closes it, it was really the answer: everything becomes text. Output with
 * only a closing tag (the template inserted `<think>`) needs `startsOpen`, exactly as streams do,
 * so a JSON answer and the same answer streamed always agree.
 */
export function splitThink(text: string, opts: ThinkOptions = {}): { thinking: string; text: string } {
  const startsOpen = opts.startsOpen === true
  const s = createThinkSplitter(opts)
  const segs = [...s.push(text), ...s.flush()]
  if (startsOpen && !s.closed) return { thinking: '', text }
  const join = (k: ThinkSegment['kind']) => segs.filter((g) => g.kind === k).map((g) => g.text).join('')
  return { thinking: join('thinking'), text: join('text') }
}
