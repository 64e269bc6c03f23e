import type { SseEvent, StreamTranslator, WireFormatName } from '../types.ts'
import { renderStreamError, streamErrorOf } from '../errors.ts'

/** The message every translator gives when an upstream stops without its terminator. */
export const ENDED_EARLY = { error: { type: 'api_error', message: 'Upstream stream ended before it was complete' } }

/** What every stream translator shares: an output buffer and the done / errored flags. */
export abstract class StreamBase implements StreamTranslator {
  #out: SseEvent[] = []
  #done = false
  #errored = false

  abstract push(ev: SseEvent): SseEvent[]
  abstract end(): SseEvent[]

  get done(): boolean {
    return this.#done
  }

  get errored(): boolean {
    return this.#errored
  }

  protected emit(...events: SseEvent[]): void {
    this.#out.push(...events)
  }

  /** Hand over what was emitted since the last call. */
  protected drain(): SseEvent[] {
    const out = this.#out
    this.#out = []
    return out
  }

  protected finish(): void {
    this.#done = true
  }

  /** End with an in-stream error in the client's format, built from an upstream error payload. */
  protected fail(format: WireFormatName, payload: unknown, target: string): void {
    this.failWith(renderStreamError(format, streamErrorOf(payload, target)))
  }

  /** End with these (already client-format) error events. */
  protected failWith(events: readonly SseEvent[]): void {
    this.emit(...events)
    this.#done = true
    this.#errored = true
  }
}
