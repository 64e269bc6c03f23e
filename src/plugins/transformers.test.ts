import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../log.ts'
import { workerStep } from './transformers.ts'

const collect = () => {
  const lines: { level: string; msg: string }[] = []
  return {
    lines,
    log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { level: string; msg: string }) }),
  }
}

/**
 * CommonJS plugin modules, one per export source, all written before any is imported (Bun's
 * resolver caches a directory's listing, so a file added after an import there is not found).
 */
const dir = mkdtempSync(join(tmpdir(), 'switchyard-transformers-'))
const SOURCES = {
  copy:
    `class { constructor() { this.name = 'x' } transformRequestIn(b) { b.mut = true; return { body: { ...b, y: 1 }, config: {} } } }`,
  throwing: `class { constructor() { this.name = 't' } transformRequestIn() { throw new Error('bad') } }`,
  empty: `class { constructor() { this.name = 'e' } transformRequestIn() { return undefined } }`,
  notClass: '{}',
  nameless: 'class {}',
  logging:
    `class { constructor(o) { this.name = 'l'; this.tag = o.tag } transformRequestIn(b) { this.logger.info('tag ' + this.tag); return b } }`,
}
const paths = Object.fromEntries(
  Object.entries(SOURCES).map(([k, src]) => {
    const path = join(dir, `${k}.cjs`)
    writeFileSync(path, `module.exports = ${src}\n`)
    return [k, path]
  }),
) as Record<keyof typeof SOURCES, string>
const plugin = (k: keyof typeof SOURCES): string => paths[k]

const ctx = { model: 'm', format: 'openai' as const }

describe('transformer plugins in a worker', () => {
  it('the hook gets a copy of the body; {body, config} is unwrapped', async () => {
    const { log } = collect()
    const path = plugin('copy')
    const w = await workerStep({ path, options: {} }, path, log)
    const body = { a: 1 }
    assert.deepEqual(await w.step!(body, {}, ctx), { a: 1, mut: true, y: 1 })
    assert.deepEqual(body, { a: 1 })
    w.close()
  })

  it('a hook that throws or returns nothing leaves the body as it was', async () => {
    const { log, lines } = collect()
    const throwing = plugin('throwing')
    const t = await workerStep({ path: throwing, options: {} }, throwing, log)
    assert.deepEqual(await t.step!({ a: 1 }, {}, ctx), { a: 1 })
    assert.ok(lines.some((l) => /transformer t: transformRequestIn threw \(bad\)/.test(l.msg)))
    const empty = plugin('empty')
    const e = await workerStep({ path: empty, options: {} }, empty, log)
    assert.deepEqual(await e.step!({ a: 2 }, {}, ctx), { a: 2 })
    t.close()
    e.close()
  })

  it('a non-class and a nameless instance are load errors; options reach the constructor and a logger is injected', async () => {
    const { log, lines } = collect()
    await assert.rejects(
      workerStep({ path: plugin('notClass'), options: {} }, plugin('notClass'), log),
      /exports no class/,
    )
    const nameless = plugin('nameless')
    await assert.rejects(workerStep({ path: nameless, options: {} }, nameless, log), /no `name`/)
    const logging = plugin('logging')
    const l = await workerStep({ path: logging, options: { tag: 'T1' } }, logging, log)
    await l.step!({}, {}, ctx)
    assert.ok(lines.some((x) => x.msg.endsWith(': tag T1')), JSON.stringify(lines))
    l.close()
  })
})
