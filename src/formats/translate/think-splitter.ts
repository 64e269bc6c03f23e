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
  const [openTag, closeTag] = opts.tags ?? ['<think>', '</think>']
  let phase: Phase = opts.startsOpen ? 'thinking' : 'start'
  let buf = ''
  let closed = false
  let leading = true

  const step = (out: ThinkSegment[]): void => {
    if (phase === 'start') {
      const lead = buf.trimStart()
      if (lead.startsWith(openTag)) {
        phase = 'thinking'
        buf = lead.slice(openTag.length)
      } else if (lead.length === 0 || openTag.startsWith(lead)) return
      else phase = 'text'
    }
    if (phase === 'thinking') {
      if (leading) {
        // Models write `<think>\n…`: the newline is layout, not reasoning.
        buf = buf.trimStart()
        if (buf.length === 0) return
        leading = false
      }
      const at = buf.indexOf(closeTag)
      if (at < 0) {
        const keep = partialTagAt(buf, closeTag)
        if (buf.length > keep) out.push({ kind: 'thinking', text: buf.slice(0, buf.length - keep) })
        buf = buf.slice(buf.length - keep)
        return
      }
      if (at > 0) out.push({ kind: 'thinking', text: buf.slice(0, at) })
      buf = buf.slice(at + closeTag.length)
      phase = 'after'
      closed = true
    }
    if (phase === 'after') {
      buf = buf.trimStart()
      if (buf.length === 0) return
      phase = 'text'
    }
    if (buf.length > 0) out.push({ kind: 'text', text: buf })
    buf = ''
  }

  return {
    push(text: string): ThinkSegment[] {
      const out: ThinkSegment[] = []
      buf += text
      step(out)
      return out
    },
    flush(): ThinkSegment[] {
      const out: ThinkSegment[] = []
      if (buf.length > 0 && phase !== 'after') out.push({ kind: phase === 'thinking' ? 'thinking' : 'text', text: buf })
      buf = ''
      // Content went on past the start (e.g. a tool call came): a tag can no longer open thinking.
      if (phase === 'start') phase = 'text'
      return out
    },
    get closed() {
      return closed
    },
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
