import type { z } from '@hono/zod-openapi'
import { acceptsAs, fastAccept } from '../lib/fast-accept.ts'

/** Where a value breaks a rule its schema's shape cannot express, and why. */
export interface Problem {
  readonly path: readonly (string | number)[]
  readonly message: string
}

/**
 * `shape` with one rule more, written once for both readers: zod reports the problem at its path
 * (the 400 names the field), and `fastAccept` answers with the shape's own predicate and the same
 * rule, as it cannot read a refinement from the schema.
 */
export function withRule<S extends z.ZodType>(shape: S, problemOf: (v: z.output<S>) => Problem | undefined): S {
  const accepts = fastAccept(shape)
  return acceptsAs(
    shape.superRefine((v, ctx) => {
      const problem = problemOf(v)
      if (problem) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message })
    }),
    (v) => accepts(v) && !problemOf(v as z.output<S>),
  )
}
