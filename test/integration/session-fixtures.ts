/**
 * What the last-usage rule's tests send and get: a prompt between the rule's floor and the
 * threshold they configure, and an Anthropic answer whose upstream reports a prompt past it.
 */

/** The `Router.longContextThreshold` these fixtures are made for. */
export const THRESHOLD = 30_000

/**
 * A prompt of 22,000 tokens: past the rule's 20,000 floor, under the threshold, and under it
 * too when its estimate runs out of time and counts bytes (27,500: a cold process).
 */
export const LONG_PROMPT = 'word '.repeat(22_000)

/** What the upstream reports as the prompt: mostly read from its cache, as Claude Code's prompts are (38,512 in all). */
export const REPORTED = { input_tokens: 12, cache_read_input_tokens: 38_000, cache_creation_input_tokens: 500 }

/** Claude Code 2.x's `metadata.user_id`: a JSON object text naming the session. */
export const userId = (session: string) =>
  JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: session })

/** An Anthropic answer of `model` with `REPORTED` usage. */
export function anthropicAnswer(model: string): Record<string, unknown> {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { ...REPORTED, output_tokens: 1 },
  }
}

/** A Claude Code style `POST /v1/messages` of `session` (JSON unless `stream`). */
export function sessionRequest(
  session: string,
  o: { prompt?: string; stream?: boolean; model?: string } = {},
): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: o.model ?? 'claude-sonnet-4-5',
      max_tokens: 100,
      ...(o.stream ? { stream: true } : {}),
      metadata: { user_id: userId(session) },
      messages: [{ role: 'user', content: o.prompt ?? LONG_PROMPT }],
    }),
  }
}
