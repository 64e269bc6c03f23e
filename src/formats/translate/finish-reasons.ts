/** The one stop_reason ⇄ finish_reason table (docs/protocols.md §4.3). */

const TO_ANTHROPIC: Readonly<Record<string, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  // `refusal` is valid in current SDKs; `stop_sequence` would promise a non-null stop_sequence.
  content_filter: 'refusal',
}

const TO_OPENAI: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}

/**
 * Anthropic stop_reason for an OpenAI finish_reason. Several compatible servers say `stop`
 * after emitting tool calls, so any seen tool call makes a natural stop `tool_use`.
 * @example anthropicStopOf('stop', true) // 'tool_use'
 */
export function anthropicStopOf(finish: string | null | undefined, sawTool: boolean): string {
  const mapped = finish ? TO_ANTHROPIC[finish] : undefined
  if (mapped === 'max_tokens' || mapped === 'refusal') return mapped
  return sawTool ? 'tool_use' : mapped ?? 'end_turn'
}

/**
 * OpenAI finish_reason for an Anthropic stop_reason (unknown → `stop`).
 * @example openaiFinishOf('max_tokens') // 'length'
 */
export function openaiFinishOf(stop: string | null | undefined): string {
  return (stop ? TO_OPENAI[stop] : undefined) ?? 'stop'
}
