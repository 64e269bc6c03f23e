import { type OpenAPIHono, z } from '@hono/zod-openapi'
import { getRoute } from './openapi.ts'
import type { Deps } from '../deps.ts'

const ModelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
})
const ModelListSchema = z
  .object({ object: z.literal('list'), data: z.array(ModelSchema) })
  .openapi('ModelList', {
    example: {
      object: 'list',
      data: [{ id: 'deepseek,deepseek-chat', object: 'model', created: 0, owned_by: 'deepseek' }],
    },
  })

const route = getRoute(
  '/v1/models',
  'The configured provider,model pairs, in OpenAI list shape',
  ModelListSchema,
  'Inference',
)

export function registerModels(app: OpenAPIHono, deps: Deps): void {
  const data = deps.config.providers.flatMap((p) =>
    p.models.map((m) => ({ id: `${p.name},${m}`, object: 'model' as const, created: 0, owned_by: p.name }))
  )
  app.openapi(route, (c) => c.json({ object: 'list' as const, data }, 200))
}
