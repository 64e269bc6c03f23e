/**
 * Finding user plugin modules (CUSTOM_ROUTER_PATH, `transformers[].path`); plugin-worker.ts
 * imports them. `import()` of a `file:` URL works the same in Bun and Deno, for ESM (`export default`) and
 * CommonJS (`module.exports`, which both runtimes expose as the default export; name such
 * files `.cjs` when the nearest package.json says `"type": "module"`).
 */
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface PathBase {
  /** The user's home directory, for `~/…` paths. */
  readonly home: string
  /** Relative paths resolve against this: the config file's directory, else the working directory. */
  readonly dir: string
}

/**
 * The absolute path of a plugin: `~/x` is under the home directory, an absolute path stays,
 * anything else is relative to `base.dir`.
 * @example resolvePluginPath('~/r.js', { home: '/h', dir: '/etc' }) // '/h/r.js'
 */
export function resolvePluginPath(path: string, base: PathBase): string {
  if (path === '~' || path.startsWith('~/')) return resolve(base.home, path.slice(2))
  return isAbsolute(path) ? path : resolve(base.dir, path)
}

/** A plugin's `file:` URL, which the plugin worker imports. */
export const moduleUrlOf = (absPath: string): string => pathToFileURL(absPath).href

/** The message of anything thrown, for a warning line. */
export const messageOfThrown = (e: unknown): string => (e instanceof Error ? e.message : String(e))
