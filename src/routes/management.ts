/**
 * Management: the running config with every secret redacted (never the interpolated value),
 * the file's text (redacted the same way, comments and `$VAR` references as written), saving an
 * edited config (validated first, written atomically with a backup, then reloaded) and a reload
 * that re-validates the file and keeps the old config when the new one is bad.
 * Each call is written to the audit log by the management guard (middleware/rate-limit.ts).
 */
import { createHash } from 'node:crypto'
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { redactConfig } from '../config/redact.ts'
import {
  applyValue,
  type ConfigFileAccess,
  lineOfIssue,
  parsePath,
  redactText,
  restoreRedacted,
  restoreRedactedValue,
} from '../config/write.ts'
import JSON5 from 'json5'
import { jsonContent, jsonResponse } from './openapi.ts'

export interface ManagementDeps {
  readonly raw?: unknown
  readonly reload?: () => Promise<string>
  /** The config file, when the instance runs from one (absent in demo mode): enables saving. */
  readonly file?: ConfigFileAccess
}

const IssueSchema = z.object({
  message: z.string().openapi({ example: 'Router.think: provider "deepsek" is not in Providers (have: deepseek)' }),
  path: z.string().optional().openapi({ example: 'Router.think' }),
  line: z.number().int().optional().openapi({ description: '1-based line in the text', example: 12 }),
}).openapi('ConfigIssue')
const ConfigSchema = z.object({
  config: z.unknown().openapi({
    description:
      'The running config as the file said at the last (re)load, secrets redacted, `$VAR` references as written',
  }),
  text: z.string().nullable().openapi({
    description: 'The file on disk now, redacted the same way, comments kept (null: no file, or it does not parse)',
  }),
  path: z.string().nullable(),
  etag: z.string().nullable().openapi({
    description: 'Send it back with a save to refuse overwriting a file changed meanwhile',
  }),
  errors: z.array(IssueSchema).openapi({
    description: 'Problems of the file as it is on disk now (empty when it is valid)',
  }),
}).openapi('RedactedConfig', {
  example: {
    config: { APIKEY: '$CCR_APIKEY', Providers: [{ name: 'deepseek', api_key: '***', models: ['deepseek-chat'] }] },
    text: '{\n  "APIKEY": "$CCR_APIKEY",\n  …',
    path: '/home/me/.claude-code-router/config.json',
    etag: '3f1c0a9d2b7e4c11',
    errors: [],
  },
})
const ReloadSchema = z.object({ ok: z.boolean(), message: z.string() }).openapi('ReloadResult')
const SaveRequest = z.object({
  text: z.string().optional().openapi({
    description: 'The whole file as JSON5 text (what GET returned as `text`, edited)',
  }),
  config: z.record(z.string(), z.unknown()).optional().openapi({
    description:
      'Or the whole config as JSON (what GET returned as `config`, edited): only changed values are rewritten in the file',
  }),
  etag: z.string().optional(),
  dry_run: z.boolean().optional().openapi({ description: 'Validate only: nothing is written' }),
}).openapi('ConfigSave', {
  example: {
    config: {
      APIKEY: '$CCR_APIKEY',
      Providers: [{ name: 'deepseek', api_key: '***', models: ['deepseek-chat'] }],
      Router: { default: 'deepseek,deepseek-chat' },
    },
  },
})
const SaveSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
  errors: z.array(IssueSchema).optional(),
  backup: z.string().optional().openapi({ description: 'Where the previous file was copied' }),
  etag: z.string().optional(),
}).openapi('ConfigSaveResult')

const getConfig = createRoute({
  method: 'get',
  path: '/api/config',
  tags: ['Management'],
  summary: 'The config file with every secret redacted, as data and as text',
  responses: { 200: jsonResponse(ConfigSchema, 'Redacted config') },
})
const saveResponses = {
  200: jsonResponse(SaveSchema, 'Validated, written atomically (previous file backed up) and reloaded'),
  400: jsonResponse(SaveSchema, 'Refused: every problem named with its field (and line); the file is untouched'),
  409: jsonResponse(SaveSchema, 'The file changed since it was read (etag mismatch): nothing written'),
}
const putConfig = createRoute({
  method: 'put',
  path: '/api/config',
  tags: ['Management'],
  summary:
    'Save the config: `$VAR` references, unknown keys, their order and untouched comments are kept; `***` stands for the value it redacted',
  request: { body: { required: true, content: jsonContent(SaveRequest) } },
  responses: saveResponses,
})
const postConfig = createRoute({
  method: 'post',
  path: '/api/config',
  tags: ['Management'],
  summary: "CCR's shape: the whole config object as the body; saved as PUT does",
  request: {
    body: { required: true, content: jsonContent(z.record(z.string(), z.unknown()).openapi('CcrConfigBody')) },
  },
  responses: saveResponses,
})
const reload = createRoute({
  method: 'post',
  path: '/api/config/reload',
  tags: ['Management'],
  summary: 'Re-read and re-validate the config file without dropping streams',
  responses: {
    200: { description: 'Reloaded', content: { 'application/json': { schema: ReloadSchema } } },
    400: {
      description: 'The file is invalid: the running config stays',
      content: { 'application/json': { schema: ReloadSchema } },
    },
  },
})

const etagOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16)

/** `path: message` lines as issues, with the line each one points at in `text`. */
function issuesOf(messages: readonly string[], text: string): z.infer<typeof IssueSchema>[] {
  return messages.map((message) => {
    const line = lineOfIssue(text, message)
    const colon = message.indexOf(': ')
    const path = colon > 0 && !message.startsWith('config is not valid JSON5') ? message.slice(0, colon) : undefined
    return { message, ...(path && parsePath(path).length ? { path } : {}), ...(line !== undefined ? { line } : {}) }
  })
}

const parses = (text: string): boolean => {
  try {
    JSON5.parse(text)
    return true
  } catch {
    return false
  }
}

type SaveResult = { status: 200 | 400 | 409; body: z.infer<typeof SaveSchema> }

/** One save at a time: a second one waits for the first and then sees its file. */
function saver(deps: ManagementDeps) {
  let queue: Promise<unknown> = Promise.resolve()
  const refuse = (status: 400 | 409, message: string, errors: z.infer<typeof IssueSchema>[] = []): SaveResult => ({
    status,
    body: { ok: false, message, ...(errors.length ? { errors } : {}) },
  })
  async function save(
    input: { text?: string; config?: Record<string, unknown>; etag?: string; dry_run?: boolean },
  ): Promise<SaveResult> {
    const file = deps.file
    if (!file) {
      return refuse(400, 'Saving is not available for this instance: it runs the demo config, there is no file')
    }
    let before = ''
    try {
      before = await file.read()
    } catch { /* gone or unreadable: the save writes it afresh */ }
    if (input.etag !== undefined && input.etag !== etagOf(before)) {
      return refuse(409, `${file.path} changed since it was read: reload it and edit again`)
    }
    // A file that does not parse (hand-edited) has no values to keep: the edit is written whole.
    const base = parses(before) ? before : '{}'
    let text: string
    if (input.text !== undefined) {
      let restored: ReturnType<typeof restoreRedacted>
      try {
        restored = restoreRedacted(input.text, base, redactConfig)
      } catch (e) {
        const message = `config is not valid JSON5: ${(e as Error).message}`
        return refuse(400, 'Not saved: the text does not parse', issuesOf([message], input.text))
      }
      if (!restored.ok) {
        return refuse(400, 'Not saved: a redacted value cannot be placed', issuesOf(restored.errors, input.text))
      }
      text = restored.text
    } else if (input.config !== undefined) {
      const restored = restoreRedactedValue(input.config, JSON5.parse(base), redactConfig)
      if (!restored.ok) {
        return refuse(
          400,
          'Not saved: a redacted value cannot be placed',
          restored.errors.map((message) => ({ message, path: message.slice(0, message.indexOf(': ')) })),
        )
      }
      text = applyValue(base, restored.value)
    } else {
      return refuse(400, 'Nothing to save: send `text` (the file) or `config` (the object)', [{
        message: 'body: expected `text` or `config`',
        path: 'body',
      }])
    }
    const problems = file.validate(text)
    if (problems.length) {
      return refuse(
        400,
        `Not saved: ${problems.length} problem${problems.length === 1 ? '' : 's'} (the file is untouched)`,
        issuesOf(problems, text),
      )
    }
    if (input.dry_run) {
      return { status: 200, body: { ok: true, message: 'Valid: nothing written (dry run)', etag: etagOf(before) } }
    }
    if (text === before) {
      return { status: 200, body: { ok: true, message: 'No change: the file already says this', etag: etagOf(before) } }
    }
    const backup = await file.write(text)
    let message = `Saved ${file.path}${backup ? ` (previous file kept as ${backup})` : ''}`
    if (deps.reload) {
      try {
        message += `; ${await deps.reload()}`
      } catch (e) {
        return {
          status: 200,
          body: {
            ok: true,
            message: `${message}; but the reload failed, the running config stays: ${(e as Error).message}`,
            ...(backup ? { backup } : {}),
            etag: etagOf(text),
          },
        }
      }
    }
    return { status: 200, body: { ok: true, message, ...(backup ? { backup } : {}), etag: etagOf(text) } }
  }
  return (input: Parameters<typeof save>[0]): Promise<SaveResult> => {
    const run = queue.then(() => save(input))
    queue = run.catch(() => undefined)
    return run
  }
}

export function registerManagement(app: OpenAPIHono, deps: ManagementDeps): void {
  const save = saver(deps)
  app.openapi(getConfig, async (c) => {
    const config = deps.raw === undefined ? null : redactConfig(deps.raw)
    if (!deps.file) return c.json({ config, text: null, path: null, etag: null, errors: [] }, 200)
    let text: string
    try {
      text = await deps.file.read()
    } catch (e) {
      return c.json({
        config,
        text: null,
        path: deps.file.path,
        etag: null,
        errors: [{ message: `Cannot read ${deps.file.path}: ${(e as Error).message}` }],
      }, 200)
    }
    let shown: string
    try {
      shown = redactText(text, redactConfig)
    } catch (e) {
      // A file that does not parse cannot be redacted value by value: show none of it.
      return c.json({
        config,
        text: null,
        path: deps.file.path,
        etag: etagOf(text),
        errors: issuesOf([`config is not valid JSON5: ${(e as Error).message}`], text),
      }, 200)
    }
    return c.json({
      config,
      text: shown,
      path: deps.file.path,
      etag: etagOf(text),
      errors: issuesOf(deps.file.validate(text), text),
    }, 200)
  })
  app.openapi(putConfig, async (c) => {
    const r = await save(c.req.valid('json'))
    return c.json(r.body, r.status)
  })
  app.openapi(postConfig, async (c) => {
    const r = await save({ config: c.req.valid('json') })
    return c.json(r.body, r.status)
  })
  app.openapi(reload, async (c) => {
    if (!deps.reload) {
      return c.json({ ok: false, message: 'Reload is not available for this instance (no config file)' }, 400)
    }
    try {
      const message = await deps.reload()
      return c.json({ ok: true, message }, 200)
    } catch (e) {
      return c.json({ ok: false, message: (e as Error).message }, 400)
    }
  })
}
