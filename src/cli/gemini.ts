/**
 * How `switchyard gemini` points the Gemini CLI at this instance without touching its files.
 *
 * The base URL and key go in its environment (`GOOGLE_GEMINI_BASE_URL`, `GEMINI_API_KEY`). They
 * are used only under the "Gemini API key" auth type, which the CLI reads from its settings
 * alone (no flag or variable sets it; a system settings file could, but the CLI skips one not
 * owned by root): with another type selected, requests go to Google and never reach the proxy;
 * with none, a headless run fails ("Invalid auth method selected."). So the launch reads the
 * user's settings and says what to choose when they do not select it.
 *
 * The model: without one the CLI runs "auto", which asks a classifier model first, an extra
 * upstream request on every turn whose answer only picks between Gemini models that the Router
 * maps anyway. When neither `-m`, `GEMINI_MODEL` nor a settings file names one, `GEMINI_MODEL`
 * does.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import JSON5 from 'json5'
import { isObject } from '../formats/translate/json.ts'
import { localBaseUrl } from './env.ts'
import type { Env } from './options.ts'

/** The model named when the user names none: only a label here (the Router decides); a 2.5 name gets the CLI's modest thinking budget. */
export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-pro'

/** The auth type under which the CLI sends `GEMINI_API_KEY` to `GOOGLE_GEMINI_BASE_URL`. */
const API_KEY_AUTH = 'gemini-api-key'

/** What the user's Gemini settings say that the launch depends on. */
export interface GeminiSettings {
  /** `security.auth.selectedType`, the last file that sets it winning. */
  readonly selectedType?: string
  /** `model.name`, likewise. */
  readonly model?: string
  /** The user settings file, to name in a message. */
  readonly userFile: string
}

/** The CLI's user settings file: under `GEMINI_CLI_HOME` when set, else the home folder. */
export const geminiUserSettingsPath = (env: Env): string =>
  join(env.GEMINI_CLI_HOME || env.HOME || homedir(), '.gemini', 'settings.json')

const stringAt = (v: unknown, ...path: string[]): string | undefined => {
  for (const k of path) v = isObject(v) ? v[k] : undefined
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** Reads the user's settings, then the workspace's (`.gemini/settings.json` in `cwd`): missing or unreadable files say nothing. */
export function readGeminiSettings(env: Env, cwd: string): GeminiSettings {
  const userFile = geminiUserSettingsPath(env)
  let selectedType: string | undefined
  let model: string | undefined
  for (const path of [userFile, join(cwd, '.gemini', 'settings.json')]) {
    let file: unknown
    try {
      file = JSON5.parse(readFileSync(path, 'utf8'))
    } catch {
      continue // the CLI reports its own files' errors
    }
    selectedType = stringAt(file, 'security', 'auth', 'selectedType') ?? selectedType
    model = stringAt(file, 'model', 'name') ?? model
  }
  return { userFile, ...(selectedType ? { selectedType } : {}), ...(model ? { model } : {}) }
}

/** Does the CLI's argument list name a model (`-m X`, `--model X`, `--model=X`)? */
export const namesModel = (args: readonly string[]): boolean =>
  args.some((a) => a === '-m' || a === '--model' || a.startsWith('--model=') || /^-m[^-]/.test(a))

/** What to tell the user when their settings keep the CLI from going through the proxy. */
export function geminiAuthNote(s: GeminiSettings): string | undefined {
  const fix =
    `choose "Use Gemini API Key" in its /auth dialog, or put "security": { "auth": { "selectedType": "${API_KEY_AUTH}" } } in ${s.userFile}`
  if (s.selectedType === API_KEY_AUTH) return undefined
  if (s.selectedType === undefined) {
    return `the Gemini CLI has no auth type selected; to go through Switchyard (GEMINI_API_KEY is set to its key), ${fix} (a headless -p run needs it chosen first)`
  }
  return `the Gemini CLI's selected auth type is "${s.selectedType}", whose requests do not go through Switchyard: ${fix}`
}

export interface GeminiLaunchOptions {
  readonly host: string
  readonly port: number
  readonly apiKey?: string
  /** The caller's environment. */
  readonly env: Env
  /** The arguments the CLI runs with. */
  readonly args: readonly string[]
  readonly settings: GeminiSettings
}

/** The environment that points the Gemini CLI here, and what to tell the user first. */
export function geminiLaunch(o: GeminiLaunchOptions): {
  readonly env: Readonly<Record<string, string>>
  readonly args: readonly string[]
  readonly notes: readonly string[]
} {
  const modelNamed = namesModel(o.args) || !!o.env.GEMINI_MODEL || o.settings.model !== undefined
  const note = geminiAuthNote(o.settings)
  return {
    env: {
      GOOGLE_GEMINI_BASE_URL: localBaseUrl(o.host, o.port),
      // The CLI wants some key; the proxy checks it only when APIKEY is set.
      GEMINI_API_KEY: o.apiKey ?? 'switchyard',
      NO_PROXY: '127.0.0.1,localhost',
      ...(modelNamed ? {} : { GEMINI_MODEL: GEMINI_DEFAULT_MODEL }),
    },
    args: [],
    notes: note ? [note] : [],
  }
}
