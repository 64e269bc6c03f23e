/**
 * CCR's project and session Routers. A Claude Code session whose transcript is
 * `~/.claude/projects/<project>/<session>.jsonl` is routed by the `Router` of
 * `~/.claude-code-router/<project>/<session>.json`, else of `~/.claude-code-router/<project>/config.json`,
 * else by the config's own. Such a Router names scenario targets (`default`, `longContext`,
 * `longContextThreshold`, `webSearch`, `think`); as in CCR, `background` and `image` stay the
 * config's, and so do its policies (retries, fallbacks, rules).
 *
 * Which projects have Router files is read at start (and on each reload); a session is looked
 * for in those only, one `stat` each. Where a session belongs is remembered; a session not found
 * is looked for again after `NOT_FOUND_TTL_MS`. Claude Code writes a new session's transcript
 * just after its first request: that request waits up to `FIRST_LOOK_RETRIES` ×
 * `FIRST_LOOK_WAIT_MS` for it (once per session; only when some project has Router files). A
 * Router file is read again at most every `FILE_TTL_MS`, so an edit applies within that time,
 * and a file that is not valid is reported once and leaves the config's Router.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import JSON5 from 'json5'
import { formatPath } from '../config/issues.ts'
import { configSchemas } from '../config/schema.ts'
import type { RouterConfig } from '../config/types.ts'
import type { ProjectRouters } from '../deps.ts'
import { type ProviderNames, resolveExplicit } from '../routing/target.ts'
import { messageOfThrown } from './load.ts'
import { LruMap } from '../lib/lru.ts'

/** Folders of `~/.claude-code-router` that are CCR's own, never a project. */
const NOT_PROJECTS = new Set(['presets', 'plugins', 'logs'])
/** A session id as Claude Code makes them (a UUID): nothing that could leave a folder in a path. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/
/** Sessions, Router files and reported problems remembered, each (CCR keeps 1,000 sessions). */
const MAX_ENTRIES = 2000
export const NOT_FOUND_TTL_MS = 5_000
/** A session seen for the first time and not found is looked for again this many times, this far apart. */
export const FIRST_LOOK_RETRIES = 4
export const FIRST_LOOK_WAIT_MS = 50
export const FILE_TTL_MS = 2_000

/** The scenario targets a project or session Router may set (CCR reads these from it). */
const PROJECT_KEYS = ['default', 'longContext', 'webSearch', 'think'] as const

/** The folders of `routerDir` that hold a Router file (`config.json` or `<session>.json`): the projects to look for sessions in. */
export async function projectsWithRouters(routerDir: string): Promise<string[]> {
  let entries: { name: string; isDirectory(): boolean }[]
  try {
    entries = await readdir(routerDir, { withFileTypes: true })
  } catch {
    return [] // no such folder: the common case
  }
  const projects: string[] = []
  for (const e of entries) {
    if (!e.isDirectory() || NOT_PROJECTS.has(e.name)) continue
    const files = await readdir(join(routerDir, e.name)).catch(() => [] as string[])
    if (files.some((f) => f.endsWith('.json'))) projects.push(e.name)
  }
  return projects.sort()
}

/**
 * A project or session file's Router over the config's `main`: its scenario targets replace
 * main's (one it does not name is off, as in CCR), `background`, `image` and the policies stay.
 * Undefined with no `Router` key; errors name each bad field.
 */
export function projectRouter(
  file: unknown,
  main: RouterConfig,
  providers: ProviderNames,
): { router?: RouterConfig; errors: string[] } {
  const raw = typeof file === 'object' && file !== null ? (file as { Router?: unknown }).Router : undefined
  if (raw === undefined) return { errors: [] }
  const parsed = configSchemas().preset.safeParse({ Router: raw })
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) }
  const src = (parsed.data.Router ?? {}) as Record<string, unknown>
  const errors: string[] = []
  const targets: Partial<Record<(typeof PROJECT_KEYS)[number], string>> = {}
  for (const k of PROJECT_KEYS) {
    const v = src[k]
    if (typeof v !== 'string' || v === '') continue
    if (resolveExplicit(v, providers)) targets[k] = v
    else errors.push(`Router.${k}: "${v}" names no configured provider`)
  }
  const threshold = (raw as { longContextThreshold?: unknown }).longContextThreshold
  const thresholdOk = threshold === undefined ||
    (typeof threshold === 'number' && Number.isInteger(threshold) && threshold > 0)
  if (!thresholdOk) errors.push(`Router.longContextThreshold: expected a positive whole number of tokens`)
  if (errors.length > 0) return { errors }
  return {
    router: {
      ...main,
      default: targets.default ?? main.default,
      longContext: targets.longContext,
      webSearch: targets.webSearch,
      think: targets.think,
      longContextThreshold: typeof threshold === 'number' ? threshold : main.longContextThreshold,
    },
    errors: [],
  }
}

/** One Router file of a project folder, as `validate` reports it: its Router, or what is wrong with it. */
export interface ProjectRouterFile {
  readonly path: string
  readonly router?: RouterConfig
  readonly problem?: string
}

/**
 * The Router of the file at `path` over `main`, or the problem that leaves it unread; neither
 * for a file with no `Router` key, or none at all (a session's own file usually is not there).
 */
async function readRouterFile(
  path: string,
  main: RouterConfig,
  providers: ProviderNames,
): Promise<{ router?: RouterConfig; problem?: string }> {
  try {
    const r = projectRouter(JSON5.parse(await readFile(path, 'utf8')), main, providers)
    return r.router ? { router: r.router } : r.errors.length > 0 ? { problem: r.errors.join('; ') } : {}
  } catch (e) {
    return (e as { code?: unknown }).code === 'ENOENT' ? {} : { problem: messageOfThrown(e) }
  }
}

/** Every Router file of the project folders under `routerDir`, read as a session of the project would read it. */
export async function checkProjectRouterFiles(
  routerDir: string,
  main: RouterConfig,
  providers: ProviderNames,
): Promise<ProjectRouterFile[]> {
  const out: ProjectRouterFile[] = []
  for (const project of await projectsWithRouters(routerDir)) {
    const names = (await readdir(join(routerDir, project))).filter((f) => f.endsWith('.json')).sort()
    for (const name of names) {
      const path = join(routerDir, project, name)
      const r = await readRouterFile(path, main, providers)
      out.push({ path, ...(r.router || r.problem ? r : { problem: 'no "Router" key: not read' }) })
    }
  }
  return out
}

interface Options {
  /** `~/.claude-code-router`: the projects' Router files. */
  readonly routerDir: string
  /** `~/.claude/projects`: Claude Code's transcripts, one folder per project. */
  readonly projectsDir: string
  /** Folders of `routerDir` with Router files (`projectsWithRouters`). */
  readonly projects: readonly string[]
  readonly main: RouterConfig
  readonly providers: ProviderNames
  readonly now: () => number
  /** How a first look waits for a transcript (a timer in production). */
  readonly sleep: (ms: number) => Promise<void>
  readonly warn: (message: string) => void
}

/** Project and session Routers for the sessions of `opts.projects`, found and read as the file comment says. */
export function createProjectRouters(opts: Options): ProjectRouters {
  /** Session → its project (null: in none of them, until `until`). */
  const sessions = new LruMap<string, { project: string | null; until: number }>(MAX_ENTRIES)
  /** Router file → its Router (undefined: absent, no Router, or not valid), until `until`. */
  const files = new LruMap<string, { router: RouterConfig | undefined; until: number }>(MAX_ENTRIES)
  /** The last problem reported for each file: said once, not on every read. */
  const reported = new LruMap<string, string>(MAX_ENTRIES)

  async function find(sessionId: string): Promise<string | null> {
    const found = await Promise.all(opts.projects.map(async (p) => {
      const transcript = join(opts.projectsDir, p, `${sessionId}.jsonl`)
      return (await stat(transcript).then((s) => s.isFile(), () => false)) ? p : undefined
    }))
    return found.find((p) => p !== undefined) ?? null
  }

  async function projectOf(sessionId: string): Promise<string | null> {
    const known = sessions.get(sessionId)
    if (known && known.until > opts.now()) return known.project
    let project = await find(sessionId)
    // A session's first request comes before its transcript: Claude Code writes it a few ms after
    // sending. Only then is the answer waited for, so a session of no project waits once.
    for (let i = 0; project === null && known === undefined && i < FIRST_LOOK_RETRIES; i++) {
      await opts.sleep(FIRST_LOOK_WAIT_MS)
      project = await find(sessionId)
    }
    sessions.setNewest(sessionId, { project, until: project === null ? opts.now() + NOT_FOUND_TTL_MS : Infinity })
    return project
  }

  async function routerIn(path: string): Promise<RouterConfig | undefined> {
    const cached = files.get(path)
    if (cached && cached.until > opts.now()) return cached.router
    const { router, problem } = await readRouterFile(path, opts.main, opts.providers)
    if (problem === undefined) reported.delete(path)
    else if (reported.get(path) !== problem) {
      opts.warn(`project Router ${path}: ${problem}: the config's Router serves its sessions`)
      reported.setNewest(path, problem)
    }
    files.setNewest(path, { router, until: opts.now() + FILE_TTL_MS })
    return router
  }

  return {
    async routerFor(sessionId) {
      if (!SESSION_ID.test(sessionId)) return undefined
      const project = await projectOf(sessionId)
      if (project === null) return undefined
      const dir = join(opts.routerDir, project)
      return (await routerIn(join(dir, `${sessionId}.json`))) ?? (await routerIn(join(dir, 'config.json')))
    },
  }
}
