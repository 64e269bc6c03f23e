import type { WireFormatName } from '../formats/types.ts'

/** The wire format a client speaks, judged by the path it called: errors are rendered in it. */
export function clientFormatOf(path: string): WireFormatName {
  if (path.startsWith('/v1beta/') || (path.startsWith('/v1/models/') && path.includes(':'))) return 'gemini'
  if (path.startsWith('/v1/responses') || path.includes('/v1/responses')) return 'responses'
  return path.endsWith('/chat/completions') || path.startsWith('/v1/models') ? 'openai' : 'anthropic'
}
