import { z } from '@hono/zod-openapi'
import { nameProblem } from '../lib/names.ts'

/** The `model` field of a request: a name that passes `nameProblem`, refused with a 400 naming the field otherwise. */
export const ModelName = z.string().min(1).superRefine((v, ctx) => {
  const problem = nameProblem(v)
  if (problem) ctx.addIssue({ code: 'custom', message: `model ${problem}` })
})
