import type { CliOptions } from './options.ts'
import { readConfig } from './options.ts'
import type { Env } from './options.ts'

/** Shell-quotes a value for an `export` line. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Where a local client reaches an instance listening on `host`: a wildcard address means this machine. */
export function localBaseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

/** The lines `eval "$(switchyard env)"` runs to point Claude Code at this instance (like `ccr activate`). */
export function envLines(o: { host: string; port: number; apiKey?: string; apiKeyRef?: string; apiTimeoutMs: number }): string[] {
  return [
    `export ANTHROPIC_BASE_URL=${q(localBaseUrl(o.host, o.port))}`,
    // Claude Code wants some token; the proxy checks it only when APIKEY is set. A `$VAR`
    // reference in the file stays a reference, so the key is resolved by the user's shell.
    `export ANTHROPIC_AUTH_TOKEN=${o.apiKeyRef ? `"${o.apiKeyRef.replace(/[^$A-Za-z0-9_{}]/g, '')}"` : q(o.apiKey ?? 'switchyard')}`,
    `export ANTHROPIC_API_KEY=''`,
    `export API_TIMEOUT_MS=${q(String(o.apiTimeoutMs))}`,
    `export NO_PROXY=${q('127.0.0.1,localhost')}`,
    'export DISABLE_TELEMETRY=1',
    'export DISABLE_COST_WARNINGS=1',
    'unset CLAUDE_CODE_USE_BEDROCK',
  ]
}

export async function runEnv(opts: CliOptions, env: Env): Promise<number> {
  const r = await readConfig(opts, env)
  if (r.errors.length) { for (const e of r.errors) console.error(e); return 2 }
  const c = r.config
  const rawKey = (r.raw as { APIKEY?: unknown } | undefined)?.APIKEY
  const apiKeyRef = typeof rawKey === 'string' && /^\$(\{[^}]+\}|[A-Z_][A-Z0-9_]*)$/.test(rawKey) ? rawKey : undefined
  console.log(envLines({ host: opts.host ?? c?.host ?? '127.0.0.1', port: opts.port ?? c?.port ?? 3456, apiKey: c?.apiKey, apiKeyRef, apiTimeoutMs: c?.apiTimeoutMs ?? 600_000 }).join('\n'))
  return 0
}
