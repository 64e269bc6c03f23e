import type { JsonObject } from '../types.ts'

/** Narrow an unknown JSON value to a plain object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The value as an object, or an empty one. */
export function obj(v: unknown): JsonObject {
  return isObject(v) ? v : {}
}

/** The value as an array, or an empty one. */
export function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : []
}

/** The value when it is a string. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** The value when it is a finite number. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

/** A `data:<mime>;base64,…` URL as a hub base64 source; undefined for any other URL. */
export function dataUrlSource(url: string): JsonObject | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  return m ? { type: 'base64', media_type: m[1], data: m[2] } : undefined
}

/** Copy the listed keys that are present (not undefined) from one object to another. */
export function copyKeys(from: JsonObject, to: JsonObject, keys: readonly string[]): void {
  for (const k of keys) if (from[k] !== undefined) to[k] = from[k]
}

/** Parse JSON without throwing. */
export function tryParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
