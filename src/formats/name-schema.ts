import { z } from '@hono/zod-openapi'
import { acceptsAs } from '../lib/fast-accept.ts'
import { nameProblem } from '../lib/names.ts'

/**
 * The `model` field of a request: a name that passes `nameProblem`, refused with a 400 naming the
 * field otherwise. Its predicate for `fastAccept` is the same two rules (a refinement cannot be read
 * from the schema).
 */
export const ModelName = acceptsAs(
  z.string().min(1).superRefine((v, ctx) => {
    const problem = nameProblem(v)
    if (problem) ctx.addIssue({ code: 'custom', message: `model ${problem}` })
  }),
  (v) => typeof v === 'string' && v.length >= 1 && !nameProblem(v),
)
