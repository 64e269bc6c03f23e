/**
 * `switchyard model`: CCR's `ccr model`, for the part people use daily: which provider,model a
 * Router scenario goes to. Interactive (an arrow-key menu on a terminal, numbered menus when
 * stdin or stdout is not one), or `model set SCENARIO TARGET`, or `model show`. The file is edited as text (comments and $VAR references stay), validated
 * before it is written, backed up, and a running instance is told to reload (SIGHUP).
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { setJson5String, writeConfigFile } from '../config/edit.ts'
import { parseConfig } from '../config/load.ts'
import { SCENARIO_KEYS } from '../config/schema.ts'
import type { Config } from '../config/types.ts'
import { knownTransformer } from '../formats/index.ts'
import type { CliOptions, Env } from './options.ts'
import { readConfig } from './options.ts'
import { reloadRunning } from './pidfile.ts'
import { dataDirOf } from './status.ts'
import { arrowPick, type Terminal } from './picker.ts'

type Scenario = (typeof SCENARIO_KEYS)[number]

const targetsOf = (c: Config) => c.providers.flatMap((p) => p.models.map((m) => `${p.name},${m}`))
const current = (c: Config, s: Scenario) => (c.router as unknown as Record<string, string | undefined>)[s]

function show(c: Config): void {
  for (const s of SCENARIO_KEYS) console.log(`  ${s.padEnd(12)} ${current(c, s) ?? '-'}`)
}

/** Reads answers line by line (a terminal or a pipe). */
function prompter(): { ask(q: string): Promise<string | undefined>; close(): void } {
  const rl = createInterface({ input: process.stdin, terminal: false })
  const lines = rl[Symbol.asyncIterator]()
  return {
    async ask(q) {
      process.stdout.write(q)
      const r = await lines.next()
      return r.done ? undefined : String(r.value).trim()
    },
    close: () => rl.close(),
  }
}

/** The terminal for the arrow-key menu, when stdin and stdout are one and raw mode is available. */
function terminal(): Terminal | undefined {
  const input = process.stdin as typeof process.stdin & { setRawMode?: (on: boolean) => unknown }
  if (!input.isTTY || !process.stdout.isTTY || typeof input.setRawMode !== 'function') return undefined
  return { input: input as Terminal['input'], output: process.stdout }
}

/** A menu: the arrow-key one on a terminal, else numbered choices read line by line. */
interface Chooser {
  pick<T extends string>(
    title: string,
    options: readonly T[],
    label: (o: T) => string,
    initial?: T,
  ): Promise<T | undefined>
  close(): void
}

function chooser(): Chooser {
  const term = terminal()
  if (term) {
    return {
      pick: async (title, options, label, initial) => {
        const i = await arrowPick(term, {
          title,
          labels: options.map(label),
          initial: initial === undefined ? 0 : Math.max(0, options.indexOf(initial)),
        })
        return i === undefined ? undefined : options[i]
      },
      close: () => undefined,
    }
  }
  const p = prompter()
  return { pick: (title, options, label) => numberedPick(p, title, options, label), close: () => p.close() }
}

async function numberedPick<T extends string>(
  p: ReturnType<typeof prompter>,
  title: string,
  options: readonly T[],
  label: (o: T) => string,
): Promise<T | undefined> {
  console.log(title)
  options.forEach((o, i) => console.log(`  ${String(i + 1).padStart(2)}) ${label(o)}`))
  for (;;) {
    const a = await p.ask(`choose 1-${options.length} (empty to cancel): `)
    if (a === undefined || a === '') return undefined
    const n = Number(a)
    if (Number.isInteger(n) && n >= 1 && n <= options.length) return options[n - 1]
    if ((options as readonly string[]).includes(a)) return a as T
    console.log(`  "${a}" is not one of the choices`)
  }
}

export async function runModel(opts: CliOptions, env: Env): Promise<number> {
  const r = await readConfig(opts, env)
  if (r.errors.length) {
    for (const e of r.errors) console.error(e)
    return 2
  }
  if (!r.config) {
    console.error(
      `switchyard model: no config file at ${r.path} (write one: see the README's Configuration; switchyard start without one runs the demo)`,
    )
    return 2
  }
  const config = r.config
  const [sub, a, b] = opts.rest
  if (sub === 'show') {
    console.log(`${r.path}:`)
    show(config)
    return 0
  }

  let scenario: string | undefined
  let target: string | undefined
  if (sub === 'set') {
    scenario = a
    target = b
    if (!scenario || !target) {
      console.error('usage: switchyard model set SCENARIO PROVIDER,MODEL')
      return 2
    }
  } else if (sub === undefined) {
    const menu = chooser()
    try {
      scenario = await menu.pick(
        `Router scenarios in ${r.path}:`,
        SCENARIO_KEYS,
        (s) => `${s.padEnd(12)} ${current(config, s) ?? '-'}`,
      )
      const now = scenario ? current(config, scenario as Scenario) : undefined
      if (scenario) {
        target = await menu.pick(
          `Target for ${scenario}:`,
          targetsOf(config),
          (t) => (t === now ? `${t}  (current)` : t),
          now,
        )
      }
    } finally {
      menu.close()
    }
    if (!scenario || !target) {
      console.log('nothing changed')
      return 0
    }
  } else {
    console.error(`switchyard model: unknown subcommand "${sub}" (show, set, or nothing for the picker)`)
    return 2
  }

  if (!(SCENARIO_KEYS as readonly string[]).includes(scenario)) {
    console.error(`switchyard model: unknown scenario "${scenario}" (have: ${SCENARIO_KEYS.join(', ')})`)
    return 2
  }
  if (!targetsOf(config).includes(target)) {
    const have = targetsOf(config)
    console.error(
      `switchyard model: "${target}" is not a configured provider,model (${
        have.length > 0 ? `have: ${have.join(', ')}` : 'the config has no providers yet: add one first'
      })`,
    )
    return 2
  }

  const text = readFileSync(r.path, 'utf8')
  const routerKey = /["']?router["']?\s*:/i.exec(text) && !/["']?Router["']?\s*:/.test(text) ? 'router' : 'Router'
  let next: string
  try {
    next = setJson5String(text, [routerKey, scenario], target)
  } catch (e) {
    console.error(`switchyard model: ${(e as Error).message}`)
    return 1
  }
  const check = parseConfig(next, env, { knownTransformer })
  if (!check.ok) {
    console.error(`switchyard model: the edited file would not load, nothing written:\n  ${check.error.join('\n  ')}`)
    return 1
  }
  const backup = writeConfigFile(r.path, next)
  console.log(`Router.${scenario} = ${target}  (${r.path}; previous file saved as ${backup})`)

  console.log(await reloadRunning(dataDirOf(opts, env)))
  return 0
}
