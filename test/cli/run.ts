/**
 * Runs the real CLI (`src/cli.ts`) as a child process under the runtime running the tests, so
 * the same end-to-end checks cover Bun and Deno. Output is collected; every run is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const isBun = 'Bun' in globalThis
export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))

/** The command line that runs the CLI with `args` on this runtime. */
export function cliCommand(args: readonly string[]): [string, string[]] {
  return isBun ? [process.execPath, [CLI, ...args]] : [process.execPath, ['run', '-A', CLI, ...args]]
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Env for a child CLI: the caller's, minus what would make the test depend on the machine. */
export function cleanEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('SWITCHYARD_') || k === 'CCR_CONFIG' || k.startsWith('ANTHROPIC_')) continue
    env[k] = v
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return { NO_COLOR: '1', ...env }
}

/** Runs the CLI to completion (killed after `timeoutMs`), with `input` on stdin. */
export function runCli(
  args: readonly string[],
  o: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  const [cmd, argv] = cliCommand(args)
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: cleanEnv(o.env ?? {}), cwd: o.cwd })
  return collect(child, o.input, o.timeoutMs ?? 30_000)
}

export function collect(child: ChildProcess, input: string | undefined, timeoutMs: number): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdin?.end(input ?? '')
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n[test] killed after ${timeoutMs} ms`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts a long-running CLI command and resolves once its output matches `ready`. */
export function startCli(
  args: readonly string[],
  ready: RegExp,
  o: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; output: () => string; match: RegExpExecArray; exited: Promise<number | null> }> {
  const [cmd, argv] = cliCommand(args)
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(o.env ?? {}) })
  let out = ''
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no match for ${ready} within ${o.timeoutMs ?? 30_000} ms:\n${out}`))
    }, o.timeoutMs ?? 30_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = ready.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ child, output: () => out, match: m, exited })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${ready}:\n${out}`))
    })
  })
}
