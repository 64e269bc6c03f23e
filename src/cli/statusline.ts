/**
 * `switchyard statusline`: Claude Code's statusLine command. Claude Code runs it often, so it
 * reads only the tail of the transcript and never talks to the network.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Config } from '../config/types.ts'
import { costUsd, priceFor } from '../tokens/pricing.ts'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { lastTurn, renderStatusLine, type StatusInput } from './statusline-render.ts'

/** The transcript's last bytes: enough for the last turns, bounded however long the session. */
const TAIL_BYTES = 512 * 1024

function readTail(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const len = Math.min(size, TAIL_BYTES)
    const buf = new Uint8Array(len)
    readSync(fd, buf, 0, len, size - len)
    return new TextDecoder().decode(buf)
  } finally {
    closeSync(fd)
  }
}

/** The branch in `.git/HEAD` of `dir` or a parent (no git process: this runs on every refresh). */
function gitBranch(dir: string): string | undefined {
  for (let d = dir, i = 0; i < 40; d = dirname(d), i++) {
    const head = join(d, '.git', 'HEAD')
    if (existsSync(head)) {
      const m = /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(head, 'utf8'))
      return m ? m[1]!.trim() : undefined
    }
    if (dirname(d) === d) break
  }
  return undefined
}

/** `provider,model` of the configured provider serving `model` (the first that lists it). */
function servedBy(
  config: Config | undefined,
  model: string,
): { target: string; provider?: Config['providers'][number] } {
  const p = config?.providers.find((x) => x.models.includes(model))
  return p ? { target: `${p.name},${model}`, provider: p } : { target: model }
}

async function readStdin(): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const c of process.stdin) {
    text += typeof c === 'string' ? c : decoder.decode(c as Uint8Array, { stream: true })
  }
  return text + decoder.decode()
}

export async function runStatusLine(opts: CliOptions, env: Env): Promise<number> {
  let input: StatusInput = {}
  try {
    input = JSON.parse((await readStdin()) || '{}') as StatusInput
  } catch { /* an empty or odd payload still gets a line */ }
  const r = await readConfig(opts, env)
  const dir = input.workspace?.current_dir ?? input.cwd ?? process.cwd()
  let turn
  try {
    turn = input.transcript_path ? lastTurn(readTail(input.transcript_path)) : undefined
  } catch { /* no transcript yet */ }
  const served = turn ? servedBy(r.config, turn.model) : undefined
  const turnCost = turn && served ? costUsd(turn, priceFor(served.provider, turn.model)) : undefined
  const line = renderStatusLine(
    {
      served: served?.target ?? input.model?.display_name,
      turn,
      // Claude Code's session cost assumes Anthropic prices; the last turn at the served model's price is exact.
      costUsd: turnCost ?? input.cost?.total_cost_usd,
      workDirName: basename(dir),
      gitBranch: gitBranch(dir),
    },
    (r.raw as { StatusLine?: unknown } | undefined)?.StatusLine,
    !env.NO_COLOR,
  )
  console.log(line)
  return 0
}
