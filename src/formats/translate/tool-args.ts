import { jsonrepair } from 'jsonrepair'
import type { JsonObject } from '../types.ts'
import { isObject, tryParse } from './json.ts'

/**
 * Tool-call arguments (a JSON string from OpenAI) as the object Anthropic's `input` must be:
 * JSON first, then jsonrepair, then `{}`. Non-object results are wrapped rather than lost.
 * @example parseToolArgs('{"a":1') // { a: 1 }
 */
export function parseToolArgs(args: unknown): JsonObject {
  if (isObject(args)) return args
  if (typeof args !== 'string' || args.trim() === '') return {}
  const direct = tryParse(args)
  if (isObject(direct)) return direct
  if (direct !== undefined) return { value: direct }
  try {
    const repaired = tryParse(jsonrepair(args))
    if (isObject(repaired)) return repaired
  } catch {
    // jsonrepair throws on input it cannot make sense of; an empty input is the honest fallback.
  }
  return {}
}

/**
 * Normalise an argument string so it parses: valid JSON is returned unchanged, broken JSON is
 * repaired, hopeless input becomes `{}`.
 * @example repairToolArgsText('{"a":1') // '{"a":1}'
 */
export function repairToolArgsText(args: string): string {
  if (args.trim() === '') return '{}'
  if (tryParse(args) !== undefined) return args
  return JSON.stringify(parseToolArgs(args))
}
