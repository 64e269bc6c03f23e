/**
 * Redis Cluster's hash slot of a key, as the server computes it (CRC16/XMODEM of the key, or of
 * the text inside its first non-empty `{…}`, mod 16384), and a FleetRedis that records every
 * script call's keys so a test can check that each call stays within one slot.
 */
import type { Arg, FleetRedis, Script } from '../../src/fleet/redis.ts'

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const b of bytes) {
    crc ^= b << 8
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

/** The hash slot of `key` (0..16383). */
export function keySlot(key: string): number {
  const open = key.indexOf('{')
  if (open >= 0) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) key = key.slice(open + 1, close)
  }
  return crc16(new TextEncoder().encode(key)) % 16384
}

export interface ScriptCall {
  readonly script: Script
  readonly keys: readonly string[]
}

/** `link` with every `run` recorded in `calls` (the keys as sent). */
export function recording(link: FleetRedis, calls: ScriptCall[]): FleetRedis {
  return {
    get state() {
      return link.state
    },
    url: link.url,
    usable: () => link.usable(),
    latencyMs: () => link.latencyMs(),
    run: (s: Script, keys: readonly string[], args: readonly Arg[]) => {
      calls.push({ script: s, keys: [...keys] })
      return link.run(s, keys, args)
    },
    publish: (c, m) => link.publish(c, m),
    subscribe: (c, on) => link.subscribe(c, on),
    ready: (ms) => link.ready(ms),
    onRecovered: (cb) => link.onRecovered(cb),
    close: () => link.close(),
  }
}

/** The calls whose keys span more than one slot, described for an assertion message. */
export function crossSlot(calls: readonly ScriptCall[]): string[] {
  return calls
    .filter((c) => new Set(c.keys.map(keySlot)).size > 1)
    .map((c) => `${c.script.lua.trim().split('\n')[0]!.slice(0, 60)} … keys ${JSON.stringify(c.keys)}`)
}
