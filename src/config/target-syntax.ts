/**
 * The `"provider,model"` syntax, in a zod-free leaf so that pure routing code can share it
 * with the config checks.
 */

/**
 * Splits `"provider,model"` at the FIRST comma (model ids may contain commas, as in CCR).
 * Undefined when there is no comma or either half is empty.
 * @example splitTarget('or,a,b') // { provider: 'or', model: 'a,b' }
 */
export function splitTarget(s: string): { provider: string; model: string } | undefined {
  const i = s.indexOf(',')
  if (i < 0) return undefined
  const provider = s.slice(0, i).trim()
  const model = s.slice(i + 1).trim()
  return provider && model ? { provider, model } : undefined
}
