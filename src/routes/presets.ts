/**
 * CCR 2.0's preset management routes, on the presets folder the service reads: every preset
 * file with what the service makes of it (`switchyard preset list` as JSON), one of them, and
 * removing one (then the instance reloads, as CCR's UI expects the preset to be gone). Keys are
 * never in an answer. Behind the management guard, as `/api/config` is.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { jsonResponse } from './openapi.ts'
import { PresetParam } from './preset-param.ts'

export interface PresetRouteDeps {
  /** Every preset file of the folder, described as the service reads it (none for an in-memory instance). */
  list(): Promise<PresetListing>
  /** Removes one; false when there is none of that name. */
  remove(name: string): Promise<boolean>
  /** Stores answers to a manifest's inputs; `found: false` when there is no such manifest; throws for an unknown input. */
  apply(name: string, answers: Readonly<Record<string, unknown>>): Promise<{ found: boolean; unanswered: string[] }>
  readonly reload?: () => Promise<string>
}

const PresetSchema = z.object({
  name: z.string().openapi({ example: 'team' }),
  path: z.string().openapi({ example: '/home/me/.claude-code-router/presets/team/manifest.json' }),
  version: z.string().optional(),
  description: z.string().optional(),
  author: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  served: z.boolean().openapi({ description: 'Whether /preset/{name}/… serves it' }),
  shadowed: z.boolean().openapi({ description: 'A config Presets entry of the same name serves instead' }),
  targets: z.record(z.string(), z.string()).openapi({ example: { default: 'team/deepseek,deepseek-chat' } }),
  providers: z.array(z.object({
    name: z.string().openapi({ example: 'team/deepseek' }),
    url: z.string(),
    format: z.string(),
    models: z.array(z.string()),
  })).openapi({ description: "Its own providers (a provider the config has is the config's); no keys" }),
  inputs: z.array(z.object({
    id: z.string(),
    type: z.string(),
    label: z.string(),
    answer: z.enum(['given', 'default', 'none']),
  })),
  problems: z.array(z.string()).openapi({ description: 'Why it is not served' }),
  warnings: z.array(z.string()),
}).openapi('Preset')

const ListSchema = z.object({
  presets: z.array(PresetSchema),
  errors: z.array(z.string()).openapi({ description: 'Files that could not be read' }),
}).openapi('PresetList')

export type PresetListing = z.infer<typeof ListSchema>

const ResultSchema = z.object({ ok: z.boolean(), message: z.string() }).openapi('PresetResult')

const listRoute = createRoute({
  method: 'get',
  path: '/api/presets',
  tags: ['Management'],
  summary: 'Every preset file, with what the service serves for it or why it skips it (CCR 2.0)',
  responses: {
    200: jsonResponse(ListSchema, 'The presets'),
  },
})

/** A route on one preset, `/api/presets/{name}`: its 200 answer, or a 404 when there is no such preset. */
const oneRoute = <S extends z.ZodType>(method: 'get' | 'delete', summary: string, ok: S, okDescription: string) =>
  createRoute({
    method,
    path: '/api/presets/{name}',
    tags: ['Management'],
    summary,
    request: { params: PresetParam },
    responses: { 200: jsonResponse(ok, okDescription), 404: jsonResponse(ResultSchema, 'No such preset') },
  })

const ApplySchema = z.object({
  secrets: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).openapi({
    description: "Answers by input id (CCR's name for them; API keys, usually), over those the preset has",
    example: { apiKey: 'sk-…' },
  }),
}).openapi('PresetApply')

const applyRoute = createRoute({
  method: 'post',
  path: '/api/presets/{name}/apply',
  tags: ['Management'],
  summary: "Answer a preset's inputs (CCR 2.0), then reload",
  request: { params: PresetParam, body: { required: true, content: { 'application/json': { schema: ApplySchema } } } },
  responses: {
    200: jsonResponse(ResultSchema, 'Stored'),
    400: jsonResponse(ResultSchema, 'An input the preset does not have, or a value of the wrong type'),
    404: jsonResponse(ResultSchema, 'No such preset'),
  },
})

const getRoute = oneRoute('get', 'One preset file, with what the service serves for it', PresetSchema, 'The preset')
const deleteRoute = oneRoute('delete', 'Remove a preset file (its folder), then reload', ResultSchema, 'Removed')

export function registerPresets(app: OpenAPIHono, deps: PresetRouteDeps): void {
  const missing = (name: string) => ({ ok: false, message: `No preset "${name}"` })
  /** `; <the reload's message>` (or why it failed), after a change to the presets folder. */
  const reloaded = async (): Promise<string> => {
    if (!deps.reload) return ''
    try {
      return `; ${await deps.reload()}`
    } catch (e) {
      return `; but the reload failed: ${(e as Error).message}`
    }
  }
  app.openapi(listRoute, async (c) => c.json(await deps.list(), 200))
  app.openapi(getRoute, async (c) => {
    const { name } = c.req.valid('param')
    const found = (await deps.list()).presets.find((p) => p.name === name)
    return found ? c.json(found, 200) : c.json(missing(name), 404)
  })
  app.openapi(applyRoute, async (c) => {
    const { name } = c.req.valid('param')
    let r: { found: boolean; unanswered: string[] }
    try {
      r = await deps.apply(name, c.req.valid('json').secrets)
    } catch (e) {
      return c.json({ ok: false, message: (e as Error).message }, 400)
    }
    if (!r.found) return c.json(missing(name), 404)
    const still = r.unanswered.length > 0 ? ` (still unanswered: ${r.unanswered.join(', ')})` : ''
    return c.json({ ok: true, message: `Stored the answers of preset "${name}"${still}${await reloaded()}` }, 200)
  })
  app.openapi(deleteRoute, async (c) => {
    const { name } = c.req.valid('param')
    if (!(await deps.remove(name))) return c.json(missing(name), 404)
    return c.json({ ok: true, message: `Removed preset "${name}"${await reloaded()}` }, 200)
  })
}
