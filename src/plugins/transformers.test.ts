import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger } from '../log.ts'
import { instantiate, requestStepOf } from './transformers.ts'

const collect = () => {
  const lines: { level: string; msg: string }[] = []
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { level: string; msg: string }) }) }
}

describe('transformer instances', () => {
  it('requestStepOf passes a copy of the body and unwraps {body, config}', () => {
    const { log } = collect()
    const inst = instantiate(class { name = 'x'; transformRequestIn(b: Record<string, unknown>) { b.mut = true; return { body: { ...b, y: 1 }, config: {} } } }, {}, log)
    const step = requestStepOf(inst, 'x', log)!
    const body = { a: 1 }
    assert.deepEqual(step(body, {}, { model: 'm' }), { a: 1, mut: true, y: 1 })
    assert.deepEqual(body, { a: 1 })
  })

  it('a hook that throws or returns nothing leaves the body as it was', () => {
    const { log, lines } = collect()
    const throwing = requestStepOf({ transformRequestIn: () => { throw new Error('bad') } }, 't', log)!
    assert.deepEqual(throwing({ a: 1 }, {}, { model: 'm' }), { a: 1 })
    assert.ok(lines.some((l) => /transformer t: transformRequestIn threw \(bad\)/.test(l.msg)))
    const empty = requestStepOf({ transformRequestIn: () => undefined }, 'e', log)!
    assert.deepEqual(empty({ a: 2 }, {}, { model: 'm' }), { a: 2 })
  })

  it('instantiate rejects a non-class and a nameless instance, and injects a logger', () => {
    const { log } = collect()
    assert.throws(() => instantiate({}, {}, log), /exports no class/)
    assert.throws(() => instantiate(class {}, {}, log), /no `name`/)
    assert.equal(typeof instantiate(class { name = 'n' }, {}, log).logger, 'object')
  })
})
