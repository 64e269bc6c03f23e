/**
 * `switchyard code [args…]`: CCR's `ccr code`. Makes sure the service answers (starting it in
 * the background when needed), runs Claude Code pointed at it with every argument passed
 * through, and, when the last concurrent session exits, stops a service a session started.
 * `switchyard codex [args…]` and `switchyard gemini [args…]` do the same for the Codex CLI and
 * the Gemini CLI.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { runtime } from '../runtime/index.ts'
import { claudeEnv, clientSettings, codexLaunch, localBaseUrl } from './env.ts'
import { geminiLaunch, readGeminiSettings } from './gemini.ts'
import type { CliOptions, Env } from './options.ts'
import { readPidFile } from './pidfile.ts'
import { answers, startInBackground, stopService } from './service.ts'
import { clearOwned, joinSession, leaveSession, markOwned, ownedService } from './sessions.ts'
import { dataDirOf } from './status.ts'
import { presetLaunch } from './preset.ts'

/** How long `code` waits for a service it started to answer (CCR waits about 11 s). */
const START_TIMEOUT_MS = 20_000

/** CCR's NON_INTERACTIVE_MODE: Claude Code in CI, with no terminal to talk to. */
const NON_INTERACTIVE_ENV = { CI: 'true', FORCE_COLOR: '0', NODE_NO_READLINE: '1', TERM: 'dumb' }

type Settings = NonNullable<Awaited<ReturnType<typeof clientSettings>>['settings']>

/** What an agent's launch may read beyond the settings: the caller's environment, the agent's arguments. */
interface LaunchContext {
  readonly env: Env
  readonly args: readonly string[]
  /** Claude Code's `--settings` as CCR 2.0 passes them: its status line (`StatusLine.enabled`). */
  readonly claudeSettings: Readonly<Record<string, unknown>>
}

interface Launch {
  readonly env: Readonly<Record<string, string | undefined>>
  /** Arguments put before the user's. */
  readonly args: readonly string[]
  /** Lines for the user (stderr) before the agent starts. */
  readonly notes?: readonly string[]
}

/** An agent CLI a session runs: how it is found, and how it is pointed at the service. */
interface AgentCli {
  /** The subcommand, for messages. */
  readonly command: 'code' | 'codex' | 'gemini'
  readonly label: string
  /** The variable (environment, else config file) naming its executable. */
  readonly pathVar: 'CLAUDE_PATH' | 'CODEX_PATH' | 'GEMINI_PATH'
  readonly executable: string
  readonly install: string
  readonly launch: (s: Settings, ctx: LaunchContext) => Launch
  /** False: the agent talks to its provider itself (a `noServer` preset); no service is started. */
  readonly needsService?: boolean
}

const CLAUDE_CODE: AgentCli = {
  command: 'code',
  label: 'Claude Code',
  pathVar: 'CLAUDE_PATH',
  executable: 'claude',
  install: 'npm install -g @anthropic-ai/claude-code',
  launch: (s, ctx) => ({ env: claudeEnv(s), args: settingsArgs(ctx.claudeSettings) }),
}

/** `--settings JSON` when there are settings to pass (Claude Code takes a file or the JSON itself). */
const settingsArgs = (settings: Readonly<Record<string, unknown>>): string[] =>
  Object.keys(settings).length > 0 ? ['--settings', JSON.stringify(settings)] : []

/** A word for a POSIX shell: Claude Code runs its statusLine command through one. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/**
 * CCR 2.0's `ccr code` gives Claude Code its status line when the config's `StatusLine.enabled`
 * is true: here `switchyard statusline`, run as this process was (script, or the binary), with
 * the same `--config`.
 */
function statusLineSettings(file: Record<string, unknown>, opts: CliOptions): Record<string, unknown> {
  const status = file.StatusLine as { enabled?: unknown } | undefined
  if (status?.enabled !== true) return {}
  const self = runtime.selfCommand(['statusline', ...(opts.config ? ['--config', opts.config] : [])])
  return { statusLine: { type: 'command', command: [self.cmd, ...self.args].map(shellWord).join(' '), padding: 0 } }
}

const CODEX: AgentCli = {
  command: 'codex',
  label: 'the Codex CLI',
  pathVar: 'CODEX_PATH',
  executable: 'codex',
  install: 'npm install -g @openai/codex',
  launch: codexLaunch,
}

const GEMINI: AgentCli = {
  command: 'gemini',
  label: 'the Gemini CLI',
  pathVar: 'GEMINI_PATH',
  executable: 'gemini',
  install: 'npm install -g @google/gemini-cli',
  launch: (s, ctx) =>
    geminiLaunch({
      host: s.host,
      port: s.port,
      apiKey: s.apiKey,
      env: ctx.env,
      args: ctx.args,
      settings: readGeminiSettings(ctx.env, process.cwd()),
    }),
}

export const runCode = (opts: CliOptions, env: Env): Promise<number> => runAgent(CLAUDE_CODE, opts, env)

/**
 * `switchyard <preset> [ARGS…]`: Claude Code with its base URL at the preset's routes
 * (`/preset/<name>`), its `claudeCodeSettings` applied, or (`noServer`) straight at its first
 * provider with no service at all, as CCR 2.0's `ccr <preset>` does.
 */
export function runPresetCode(preset: { name: string; file: unknown }, opts: CliOptions, env: Env): Promise<number> {
  const name = preset.name
  const how = presetLaunch(preset.file, env)
  for (const note of how.notes) console.error(`switchyard ${name}: ${note}`)
  return runAgent(
    {
      ...CLAUDE_CODE,
      needsService: how.direct === undefined,
      launch: (s, ctx) => ({
        env: {
          ...claudeEnv(s),
          ANTHROPIC_BASE_URL: how.direct?.baseUrl ??
            `${localBaseUrl(s.host, s.port)}/preset/${encodeURIComponent(name)}`,
          ...(how.direct ? { ANTHROPIC_AUTH_TOKEN: how.direct.apiKey } : {}),
          ...how.env,
        },
        // The preset's claudeCodeSettings over the status line, as CCR merges them.
        args: settingsArgs({ ...ctx.claudeSettings, ...how.settings }),
      }),
    },
    opts,
    env,
  )
}

export const runCodex = (opts: CliOptions, env: Env): Promise<number> => runAgent(CODEX, opts, env)
export const runGemini = (opts: CliOptions, env: Env): Promise<number> => runAgent(GEMINI, opts, env)

async function runAgent(agent: AgentCli, opts: CliOptions, env: Env): Promise<number> {
  const { settings, raw, errors } = await clientSettings(opts, env)
  if (!settings) {
    for (const e of errors) console.error(e)
    return 2
  }
  const file = (raw ?? {}) as Record<string, unknown>
  const fromFile = file[agent.pathVar]
  const cmd = env[agent.pathVar] || (typeof fromFile === 'string' && fromFile) || agent.executable
  // Before anything starts: no service is started (and stopped again) for an agent that is not there.
  if (findExecutable(cmd, env) === undefined) {
    console.error(notFound(agent, cmd))
    return 1
  }
  const dataDir = dataDirOf(opts, env)
  const baseUrl = localBaseUrl(settings.host, settings.port)

  if (agent.needsService !== false && !(await answers(baseUrl))) {
    console.error(`switchyard: starting the service on ${baseUrl} …`)
    const started = await startInBackground({
      opts,
      env,
      host: settings.host,
      port: settings.port,
      dataDir,
      timeoutMs: START_TIMEOUT_MS,
    })
    if (!started.ok) {
      console.error(`switchyard ${agent.command}: ${started.message}`)
      return 1
    }
    if (started.pid !== undefined) markOwned(dataDir, started.pid)
  }

  const nonInteractive = file.NON_INTERACTIVE_MODE === true || env.NON_INTERACTIVE_MODE === 'true'
  const launch = agent.launch(settings, { env, args: opts.passthrough, claudeSettings: statusLineSettings(file, opts) })
  for (const note of launch.notes ?? []) console.error(`switchyard ${agent.command}: ${note}`)
  const childEnv: Record<string, string> = {}
  const merged = { ...env, ...launch.env, ...(nonInteractive ? NON_INTERACTIVE_ENV : {}) }
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) childEnv[k] = v

  joinSession(dataDir, process.pid)
  let code: number
  try {
    code = await runChild(agent, cmd, [...launch.args, ...opts.passthrough], childEnv, nonInteractive)
  } finally {
    const others = leaveSession(dataDir, process.pid)
    const owned = ownedService(dataDir)
    const keep = opts.keepService === true || env.SWITCHYARD_KEEP_SERVICE === '1'
    if (others === 0 && owned !== undefined && !keep) {
      // Only the instance a session started, and only while it is still the one running.
      if (readPidFile(dataDir)?.pid === owned) await stopService(dataDir, 10_000)
      clearOwned(dataDir)
    }
  }
  return code
}

const notFound = (agent: AgentCli, cmd: string): string =>
  `switchyard ${agent.command}: ${agent.label} not found (tried "${cmd}"): install it (${agent.install}) or set ${agent.pathVar}`

const isExecutableFile = (path: string): boolean => {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Where `cmd` would be run from, the way spawn finds it: a name with a path separator as it is
 * (relative to the working directory), a bare name on `PATH` (with `PATHEXT` on Windows).
 * Undefined when there is nothing executable there.
 */
export function findExecutable(cmd: string, env: Env): string | undefined {
  if (cmd === '') return undefined
  const windows = process.platform === 'win32'
  const exts = windows ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : ['']
  const candidates = (base: string) => exts.map((e) => base + e)
  if (isAbsolute(cmd) || cmd.includes('/') || (windows && cmd.includes('\\'))) {
    return candidates(cmd).find(isExecutableFile)
  }
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (dir === '') continue
    const hit = candidates(join(dir, cmd)).find(isExecutableFile)
    if (hit !== undefined) return hit
  }
  return undefined
}

/** Runs the agent to completion and resolves to its exit code (1 with a clear message when it cannot start). */
function runChild(
  agent: AgentCli,
  cmd: string,
  args: readonly string[],
  env: Record<string, string>,
  nonInteractive: boolean,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { stdio: [nonInteractive ? 'ignore' : 'inherit', 'inherit', 'inherit'], env })
    // Ctrl-C reaches the agent too (same process group): it decides; this process stays to clean up.
    const offs = [
      runtime.onSignal('SIGINT', () => {}),
      runtime.onSignal('SIGTERM', () => child.kill('SIGTERM')),
      runtime.onSignal('SIGHUP', () => child.kill('SIGHUP')),
    ]
    const done = (code: number) => {
      for (const off of offs) off()
      resolve(code)
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      console.error(
        e.code === 'ENOENT' ? notFound(agent, cmd) : `switchyard ${agent.command}: cannot run ${cmd}: ${e.message}`,
      )
      done(1)
    })
    child.on(
      'exit',
      (c, signal) => done(c ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1) : 0)),
    )
  })
}
