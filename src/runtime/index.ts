/** Picks the adapter for the runtime we are on. The only place that asks which runtime this is. */
import { bunRuntime } from './bun.ts'
import { denoRuntime } from './deno.ts'
import type { Runtime } from './types.ts'

export type { Handler, Runtime, Served, ServeOptions } from './types.ts'

export const runtime: Runtime = 'Bun' in globalThis ? bunRuntime : denoRuntime
