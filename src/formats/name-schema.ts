import { z } from '@hono/zod-openapi'
import { withRule } from './schema-rule.ts'
import { nameProblem } from '../lib/names.ts'

/**
 * The `model` field of a request: a name that passes `nameProblem`, refused with a 400 naming the
 * field otherwise (`withRule`: the same rule for zod and for `fastAccept`).
 */
export const ModelName = withRule(z.string().min(1), (v) => {
  const problem = nameProblem(v)
  return problem ? { path: [], message: `model ${problem}` } : undefined
})
