/**
 * Management: the running config with every secret redacted (never the interpolated value),
 * and a reload that re-validates the file and keeps the old config when the new one is bad.
 * Each action is written to the audit log: who (a key fingerprint, never the key), what, when.
 */
import { createHash } from 'node:crypto'
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { redactConfig } from '../config/redact.ts'
import { presentedKey } from '../middleware/auth.ts'

export interface ManagementDeps {
  readonly raw?: unknown
  readonly reload?: () => Promise<string>
  readonly audit: (entry: Record<string, unknown>) => void
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

/** Who did it, without the key: the first 8 hex digits of its SHA-256 (or `anonymous`). */
const actorOf = (h: Headers) => {
  const k = presentedKey(h)
  return k ? `key:${createHash('sha256').update(k).digest('hex').slice(0, 8)}` : 'anonymous'
}

export function registerManagement(app: OpenAPIHono, deps: ManagementDeps): void {
  app.openapi(getConfig, (c) => {
    deps.audit({ action: 'config.read', actor: actorOf(c.req.raw.headers) })
    return c.json({ config: deps.raw === undefined ? null : redactConfig(deps.raw) }, 200)
  })
  app.openapi(reload, async (c) => {
    const actor = actorOf(c.req.raw.headers)
    if (!deps.reload) return c.json({ ok: false, message: 'Reload is not available for this instance (no config file)' }, 400)
    try {
      const message = await deps.reload()
      deps.audit({ action: 'config.reload', actor, ok: true })
      return c.json({ ok: true, message }, 200)
    } catch (e) {
      deps.audit({ action: 'config.reload', actor, ok: false })
      return c.json({ ok: false, message: (e as Error).message }, 400)
    }
  })
}
