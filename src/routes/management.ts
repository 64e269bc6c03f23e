/**
 * Management: the running config with every secret redacted (never the interpolated value),
 * and a reload that re-validates the file and keeps the old config when the new one is bad.
 * Each call is written to the audit log by the management guard (middleware/rate-limit.ts).
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { redactConfig } from '../config/redact.ts'

export interface ManagementDeps {
  readonly raw?: unknown
  readonly reload?: () => Promise<string>
}

const ConfigSchema = z.object({ config: z.unknown() }).openapi('RedactedConfig', {
  example: { config: { APIKEY: '$CCR_APIKEY', Providers: [{ name: 'deepseek', api_key: '***', models: ['deepseek-chat'] }] } },
})
const ReloadSchema = z.object({ ok: z.boolean(), message: z.string() }).openapi('ReloadResult')

const getConfig = createRoute({
  method: 'get', path: '/api/config', tags: ['Management'], summary: 'The config file with every secret redacted',
  responses: { 200: { description: 'Redacted config', content: { 'application/json': { schema: ConfigSchema } } } },
})
const reload = createRoute({
  method: 'post', path: '/api/config/reload', tags: ['Management'], summary: 'Re-read and re-validate the config file without dropping streams',
  responses: {
    200: { description: 'Reloaded', content: { 'application/json': { schema: ReloadSchema } } },
    400: { description: 'The file is invalid: the running config stays', content: { 'application/json': { schema: ReloadSchema } } },
  },
})

export function registerManagement(app: OpenAPIHono, deps: ManagementDeps): void {
  app.openapi(getConfig, (c) => {
    return c.json({ config: deps.raw === undefined ? null : redactConfig(deps.raw) }, 200)
  })
  app.openapi(reload, async (c) => {
    if (!deps.reload) return c.json({ ok: false, message: 'Reload is not available for this instance (no config file)' }, 400)
    try {
      const message = await deps.reload()
      return c.json({ ok: true, message }, 200)
    } catch (e) {
      return c.json({ ok: false, message: (e as Error).message }, 400)
    }
  })
}
