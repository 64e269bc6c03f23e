import { z } from '@hono/zod-openapi'

/** The `{name}` of the `/preset/{name}/…` routes: a preset of the config or of the presets folder. */
export const PresetParam = z.object({
  name: z.string().min(1).openapi({ param: { name: 'name', in: 'path' }, example: 'fast' }),
})
