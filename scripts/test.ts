/**
 * `npm test`: the whole suite on both runtimes, the type check, the OpenAPI drift check and the
 * harness stress run, ending with one plain `N passed, N failed` line (CI reads it).
 * Steps run one after another: the machine has 2 cores and the harness wants them.
 */
import { spawn } from 'node:child_process'

interface Step {
  readonly name: string
  readonly cmd: readonly string[]
  /** Reads the step's own pass/fail counts from its output; absent: the step counts as one test. */
  readonly count?: (out: string) => { passed: number; failed: number } | undefined
  readonly timeoutMs: number
}

const bin = (name: string) => `node_modules/.bin/${name}`
// deno-lint-ignore no-control-regex -- the escape character is what ANSI colour codes start with
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '')

const bunCounts = (out: string) => {
  const p = /^\s*(\d+) pass$/m.exec(out)
  const f = /^\s*(\d+) fail$/m.exec(out)
  return p ? { passed: Number(p[1]), failed: Number(f?.[1] ?? 0) } : undefined
}
const denoCounts = (out: string) => {
  // Deno counts test files and, in brackets, the it() steps inside them: count the steps.
  const m = /(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(out)
  if (!m) return undefined
  const passed = Number(m[2] ?? m[1])
  const failed = Number(m[4] ?? m[3])
  return { passed, failed }
}

const only = process.argv.slice(2)
const steps: Step[] = [
  { name: 'typecheck', cmd: [bin('tsc'), '-p', 'tsconfig.json', '--noEmit'], timeoutMs: 300_000 },
  { name: 'typecheck:pure', cmd: [bin('tsc'), '-p', 'tsconfig.pure.json', '--noEmit'], timeoutMs: 300_000 },
  // Rules and scope in deno.json: the formatter's check, then the linter.
  { name: 'fmt', cmd: [bin('deno'), 'fmt', '--check'], timeoutMs: 120_000 },
  { name: 'lint', cmd: [bin('deno'), 'lint'], timeoutMs: 120_000 },
  { name: 'openapi:check', cmd: [bin('bun'), 'scripts/openapi.ts', 'check'], timeoutMs: 60_000 },
  { name: 'bun test', cmd: [bin('bun'), 'test', '--timeout', '60000'], count: bunCounts, timeoutMs: 1_200_000 },
  {
    name: 'deno test',
    cmd: [bin('deno'), 'test', '-A', '--no-check', '--preload', 'test/fast-check-seed.ts', 'src', 'harness', 'test'],
    count: denoCounts,
    timeoutMs: 1_200_000,
  },
  {
    name: 'harness stress',
    cmd: [bin('bun'), 'run', 'harness', '--streams', '100', '--chunks', '20'],
    timeoutMs: 300_000,
  },
  // A fifth of the upstream streams cut mid-way: every client stream must still arrive whole (continuation).
  {
    name: 'harness continuation',
    cmd: [bin('bun'), 'run', 'harness', '--streams', '50', '--chunks', '10', '--cut-rate', '0.2'],
    timeoutMs: 120_000,
  },
  // The same through the hub to a Gemini client, whose stream must also carry no SSE comment.
  {
    name: 'harness continuation (gemini client)',
    cmd: [
      ...[bin('bun'), 'run', 'harness', '--streams', '50', '--chunks', '10', '--cut-rate', '0.2'],
      ...['--client', 'gemini', '--upstream', 'openai'],
    ],
    timeoutMs: 120_000,
  },
  // Agents at once over the Responses WebSocket mode and over HTTP, as separate processes: every turn checked whole.
  {
    name: 'harness sockets',
    cmd: [bin('bun'), 'harness/socket-turns.ts', '--clients', '20', '--turns', '10', '--rounds', '1', '--delay', '5'],
    timeoutMs: 120_000,
  },
  // One mock target slows ×3 mid-run: the alert must reach a webhook sink on 127.0.0.1 with its evidence, then resolve.
  { name: 'harness alerts', cmd: [bin('bun'), 'run', 'harness', 'alerts'], timeoutMs: 60_000 },
].filter((s) => only.length === 0 || only.some((o) => s.name.includes(o)))

function run(step: Step): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(step.cmd[0]!, step.cmd.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    })
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      process.stdout.write(d)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      out += `\n${step.name}: timed out after ${step.timeoutMs} ms\n`
      child.kill('SIGKILL')
    }, step.timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, out })
    })
  })
}

let passed = 0
let failed = 0
const summary: string[] = []
for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.cmd.join(' ')}`)
  const t0 = performance.now()
  const { code, out } = await run(step)
  // Each step's wall time in the summary: where CI's minutes go, on a VM whose speed varies.
  const took = `(${Math.round((performance.now() - t0) / 1000)} s)`
  const counts = step.count?.(strip(out))
  if (counts) {
    // A runner that exits non-zero without counting a failure (a crash, a load error) still fails.
    const extra = code !== 0 && counts.failed === 0 ? 1 : 0
    passed += counts.passed
    failed += counts.failed + extra
    summary.push(`${step.name}: ${counts.passed} passed, ${counts.failed + extra} failed ${took}`)
  } else {
    if (code === 0) passed++
    else failed++
    summary.push(`${step.name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} ${took}`)
  }
}
console.log(`\n${summary.join('\n')}`)
console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 && passed > 0 ? 0 : 1
