import type { CliOptions } from './options.ts'
import { interpolateEnv } from '../config/interpolate.ts'
import { readConfig } from './options.ts'
import type { Env } from './options.ts'

/** Shell-quotes a value for an `export` line. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Where a local client reaches an instance listening on `host`: a wildcard address means this machine. */
export function localBaseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

export interface ClaudeEnvOptions {
  readonly host: string
  readonly port: number
  readonly apiKey?: string
  readonly apiTimeoutMs: number
  /** The config's `ANTHROPIC_SMALL_FAST_MODEL`, handed to Claude Code as CCR does (its model for background work). */
  readonly smallFastModel?: string
}

/**
 * The environment that points Claude Code at this instance, as CCR's `ccr code` sets it
 * (undefined: the variable is removed). `switchyard code` passes it to Claude Code,
 * `switchyard activate` prints it as `export` lines.
 */
export function claudeEnv(o: ClaudeEnvOptions): Readonly<Record<string, string | undefined>> {
  return {
    ANTHROPIC_BASE_URL: localBaseUrl(o.host, o.port),
    // Claude Code wants some token; the proxy checks it only when APIKEY is set.
    ANTHROPIC_AUTH_TOKEN: o.apiKey ?? 'switchyard',
    ANTHROPIC_API_KEY: '',
    API_TIMEOUT_MS: String(o.apiTimeoutMs),
    NO_PROXY: '127.0.0.1,localhost',
    DISABLE_TELEMETRY: '1',
    DISABLE_COST_WARNINGS: '1',
    // Beyond CCR: Claude Code then reads GET /v1/models (Anthropic shape) into its /model picker,
    // which lists the configured models whose id names claude or anthropic.
    CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1',
    CLAUDE_CODE_USE_BEDROCK: undefined,
    ...(o.smallFastModel ? { ANTHROPIC_SMALL_FAST_MODEL: o.smallFastModel } : {}),
  }
}

/**
 * The environment and leading arguments that point the Codex CLI at this instance: its own
 * OpenAI provider with `openai_base_url` set here (a `-c` override, so no config file changes),
 * which speaks the Responses API's WebSocket mode and compacts remotely; the key as OPENAI_API_KEY.
 */
export function codexLaunch(o: Pick<ClaudeEnvOptions, 'host' | 'port' | 'apiKey'>): {
  readonly env: Readonly<Record<string, string>>
  readonly args: readonly string[]
} {
  return {
    // Codex wants some key; the proxy checks it only when APIKEY is set.
    env: { OPENAI_API_KEY: o.apiKey ?? 'switchyard', NO_PROXY: '127.0.0.1,localhost' },
    args: ['-c', `openai_base_url="${localBaseUrl(o.host, o.port)}/v1"`],
  }
}

/** The lines `eval "$(switchyard activate)"` runs to point Claude Code at this instance (like `ccr activate`). */
export function envLines(o: ClaudeEnvOptions & { apiKeyRef?: string }): string[] {
  return Object.entries(claudeEnv(o)).map(([k, v]) => {
    if (v === undefined) return `unset ${k}`
    // A `$VAR` reference in the file stays a reference, so the key is resolved by the user's shell.
    if (k === 'ANTHROPIC_AUTH_TOKEN' && o.apiKeyRef) {
      return `export ${k}="${o.apiKeyRef.replace(/[^$A-Za-z0-9_{}]/g, '')}"`
    }
    return `export ${k}=${v === '1' ? v : q(v)}`
  })
}

/** Host, port, key and timeout a client of this config uses (CLI flags win over the file). */
export async function clientSettings(
  opts: CliOptions,
  env: Env,
): Promise<{ settings?: ClaudeEnvOptions & { apiKeyRef?: string }; raw?: unknown; errors: string[] }> {
  const r = await readConfig(opts, env)
  if (r.errors.length) return { errors: r.errors }
  const c = r.config
  const raw = r.raw as { APIKEY?: unknown; ANTHROPIC_SMALL_FAST_MODEL?: unknown } | undefined
  const rawKey = raw?.APIKEY
  const apiKeyRef = typeof rawKey === 'string' && /^\$(\{[^}]+\}|[A-Z_][A-Z0-9_]*)$/.test(rawKey) ? rawKey : undefined
  // Interpolated like every string of the file (CCR reads it after its $VAR pass).
  const small = interpolateEnv(raw?.ANTHROPIC_SMALL_FAST_MODEL, env).value
  return {
    settings: {
      host: opts.host ?? c?.host ?? '127.0.0.1',
      port: opts.port ?? c?.port ?? 3456,
      apiKey: c?.apiKey,
      apiKeyRef,
      apiTimeoutMs: c?.apiTimeoutMs ?? 600_000,
      ...(typeof small === 'string' && small !== '' ? { smallFastModel: small } : {}),
    },
    raw: r.raw,
    errors: [],
  }
}

export async function runEnv(opts: CliOptions, env: Env): Promise<number> {
  const { settings, errors } = await clientSettings(opts, env)
  if (!settings) {
    for (const e of errors) console.error(e)
    return 2
  }
  console.log(envLines(settings).join('\n'))
  return 0
}
