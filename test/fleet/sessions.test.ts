/**
 * Fleet mode: CCR's last-usage rule across instances, in a real Redis (its own redis-server on a
 * free port). A session's answer on one instance is known to the others, so its next request
 * goes to `Router.longContext` wherever it lands; with Redis gone each instance keeps its own.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createInstance } from '../../src/compose.ts'
import { silentLogger } from '../../src/log.ts'
import { sessionUpdateOf } from '../../src/fleet/sessions.ts'
import { configOf, testConfigFile } from '../integration/helpers.ts'
import { redisForSuite, until } from './support.ts'
import { anthropicAnswer, sessionRequest, THRESHOLD } from '../integration/session-fixtures.ts'

describe('the last-usage rule across the fleet', () => {
  const suite = redisForSuite()
  const open = suite.open

  /** An instance of the fleet `prefix`; `models` lists the upstream models it asked, in order. */
  const start = async (prefix: string, instanceId: string) => {
    const models: string[] = []
    const file = testConfigFile({
      Fleet: { redis: suite.redis().url, keyPrefix: prefix, heartbeatMs: 200, commandTimeoutMs: 1_000, instanceId },
    }, { default: 'anth,mock-a', longContext: 'anth,claude-up', longContextThreshold: THRESHOLD })
    const built = await createInstance(configOf(file), {
      dataDir: ':memory:',
      log: silentLogger,
      fetch: async (req) => {
        const body = await req.json() as { model: string }
        models.push(body.model)
        return Response.json(anthropicAnswer(body.model))
      },
    })
    open.push(built)
    const ask = async (session: string) => {
      const res = await built.app.request('/v1/messages', sessionRequest(session))
      assert.equal(res.status, 200)
      await res.text()
      return models.at(-1)
    }
    return { built, models, ask, known: (session: string) => built.services.deps.sessions.get(session) }
  }

  it("a session's answer on one instance sends its next request to longContext on another", async () => {
    const a = await start('sess1:', 'a')
    const b = await start('sess1:', 'b')
    const c = await start('sess1:', 'c')
    assert.equal(await a.ask('s-1'), 'mock-a', 'the first request: no last usage, under the threshold')
    await until('b and c to learn the session', () => b.known('s-1') === 38_512 && c.known('s-1') === 38_512)
    assert.equal(await b.ask('s-1'), 'claude-up')
    assert.equal(await c.ask('s-1'), 'claude-up')
    // Another session, and another fleet's, learn nothing.
    assert.equal(await c.ask('s-2'), 'mock-a')
    const other = await start('sess-other:', 'd')
    await until('a to learn what c answered', () => a.known('s-2') === 38_512)
    assert.equal(other.known('s-1'), undefined)
    assert.equal(await other.ask('s-1'), 'mock-a')
  })

  it('with Redis gone, each instance keeps its own sessions and keeps serving; back, they share again', async () => {
    const a = await start('sess2:', 'a')
    const b = await start('sess2:', 'b')
    await suite.redis().kill()
    try {
      assert.equal(await a.ask('s-3'), 'mock-a')
      assert.equal(await a.ask('s-3'), 'claude-up', 'its own answer still counts')
      assert.equal(await b.ask('s-3'), 'mock-a', 'the other never heard of it')
    } finally {
      await suite.redis().restart()
    }
    // Resubscribed after the reconnect: an answer once the link is back reaches the other.
    await until('a to share again', async () => {
      await a.ask('s-4')
      return b.known('s-4') !== undefined
    }, 15_000)
    assert.equal(await b.ask('s-4'), 'claude-up')
  })
})

describe('sessionUpdateOf (a message from another instance)', () => {
  it('takes a well-formed figure from another instance, and nothing else', () => {
    assert.deepEqual(sessionUpdateOf('{"i":"b","s":"s-1","t":38512}', 'a'), { id: 's-1', tokens: 38_512 })
    for (
      const raw of [
        '{"i":"a","s":"s-1","t":1}', // its own, echoed back
        'not json',
        'null',
        '{"i":"b","s":"","t":1}',
        `{"i":"b","s":"${'x'.repeat(129)}","t":1}`,
        '{"i":"b","s":"s-1","t":-1}',
        '{"i":"b","s":"s-1","t":"12"}',
        '{"i":"b","s":7,"t":1}',
      ]
    ) assert.equal(sessionUpdateOf(raw, 'a'), undefined, raw)
  })
})
