/**
 * The line `switchyard statusline` prints, from what Claude Code sends on stdin and the last
 * assistant turn of its transcript. Pure: the caller reads files and prices.
 * With a CCR `StatusLine` config its modules are rendered ({{model}}, {{inputTokens}}, …).
 */

/** What Claude Code sends a statusLine command (only the fields used). */
export interface StatusInput {
  readonly model?: { readonly id?: string; readonly display_name?: string }
  readonly workspace?: { readonly current_dir?: string }
  readonly cwd?: string
  readonly transcript_path?: string
  readonly cost?: { readonly total_cost_usd?: number }
}

/** The last assistant turn of the transcript: the model that actually answered and its usage. */
export interface LastTurn {
  readonly model: string
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheCreationTokens: number
}

export interface StatusFacts {
  /** `provider,model` when the model is a configured one, else the model id. */
  readonly served?: string
  readonly turn?: LastTurn
  /** Session cost from Switchyard's prices, when every turn's price is known; else Claude Code's figure. */
  readonly costUsd?: number
  readonly workDirName: string
  readonly gitBranch?: string
}

interface Module {
  readonly type?: unknown
  readonly icon?: unknown
  readonly text?: unknown
  readonly color?: unknown
}

const COLORS: Readonly<Record<string, string>> = {
  black: '30',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
  white: '37',
  bright_black: '90',
  bright_red: '91',
  bright_green: '92',
  bright_yellow: '93',
  bright_blue: '94',
  bright_magenta: '95',
  bright_cyan: '96',
  bright_white: '97',
}

/** 1234 → "1.2k", 2_500_000 → "2.5M". */
export function compact(n: number): string {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`
  return `${(n / 1_000_000).toFixed(1)}M`
}

const money = (usd: number) => `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`

/** Values of CCR's template variables (and `{{cost}}`, a Switchyard addition). */
function variables(
  f: StatusFacts,
): { model: string; inputTokens: string; outputTokens: string; workDirName: string; gitBranch: string; cost: string } {
  const t = f.turn
  return {
    model: f.served ?? t?.model ?? '',
    inputTokens: t ? compact(t.inputTokens + t.cacheReadTokens + t.cacheCreationTokens) : '0',
    outputTokens: t ? compact(t.outputTokens) : '0',
    workDirName: f.workDirName,
    gitBranch: f.gitBranch ?? '',
    cost: f.costUsd === undefined ? '' : money(f.costUsd),
  }
}

/** The CCR StatusLine modules of the current style, when the config enables them. */
function modulesOf(statusLine: unknown): readonly Module[] | undefined {
  if (statusLine === null || typeof statusLine !== 'object') return undefined
  const s = statusLine as { enabled?: unknown; currentStyle?: unknown } & Record<string, unknown>
  if (s.enabled !== true) return undefined
  const style = typeof s.currentStyle === 'string' && Object.hasOwn(s, s.currentStyle) ? s[s.currentStyle] : s.default
  const modules = (style as { modules?: unknown } | undefined)?.modules
  return Array.isArray(modules) && modules.length > 0 ? (modules as Module[]).slice(0, 5) : undefined
}

export function renderStatusLine(f: StatusFacts, statusLine: unknown, color: boolean): string {
  const vars = variables(f)
  const table: Readonly<Record<string, string>> = vars
  const fill = (s: string) =>
    s.replace(/\{\{(\w+)\}\}/g, (whole, k: string) => (Object.hasOwn(table, k) ? table[k]! : whole))
  const modules = modulesOf(statusLine)
  if (modules) {
    return modules
      .filter((m) => m.type !== 'script') // CCR runs a Node script here; Switchyard runs no code from the config.
      .map((m) => {
        const text = [typeof m.icon === 'string' ? m.icon : '', typeof m.text === 'string' ? fill(m.text) : ''].filter(
          Boolean,
        ).join(' ')
        const code = color && typeof m.color === 'string' && Object.hasOwn(COLORS, m.color)
          ? COLORS[m.color]
          : undefined
        return code ? `\x1b[${code}m${text}\x1b[0m` : text
      })
      .filter((s) => s !== '')
      .join('  ')
  }
  const parts = [vars.model || 'no turn yet', `${vars.inputTokens} in · ${vars.outputTokens} out`]
  if (vars.cost) parts.push(vars.cost)
  parts.push(f.gitBranch ? `${vars.workDirName} (${f.gitBranch})` : vars.workDirName)
  return parts.filter(Boolean).join(' │ ')
}

/**
 * The last assistant turn with usage in transcript JSONL `text` (Claude Code appends one JSON
 * object per line; the newest is last). Lines that do not parse are skipped.
 */
export function lastTurn(text: string): LastTurn | undefined {
  const lines = text.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!
    if (!line.includes('"assistant"') || !line.includes('"usage"')) continue
    let entry: { type?: unknown; message?: { model?: unknown; usage?: Record<string, unknown> } }
    try {
      entry = JSON.parse(line) as typeof entry
    } catch {
      continue
    }
    const m = entry.message
    if (entry.type !== 'assistant' || typeof m?.model !== 'string' || !m.usage) continue
    const n = (k: string) => (typeof m.usage![k] === 'number' ? (m.usage![k] as number) : 0)
    return {
      model: m.model,
      inputTokens: n('input_tokens'),
      outputTokens: n('output_tokens'),
      cacheReadTokens: n('cache_read_input_tokens'),
      cacheCreationTokens: n('cache_creation_input_tokens'),
    }
  }
  return undefined
}
