import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { warmupOption } from './start.ts'

describe('warmupOption (start)', () => {
  it("sends the runtime's default number of requests, or SWITCHYARD_WARMUP=N", () => {
    assert.deepEqual(warmupOption({}, {}, 512), { requests: 512 })
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: '200' }, 512), { requests: 200 })
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: 'on' }, 512), { requests: 512 })
  })

  it('a runtime whose default is none warms up only when SWITCHYARD_WARMUP=N asks', () => {
    assert.equal(warmupOption({}, {}, 0), undefined)
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: '64' }, 0), { requests: 64 })
  })

  it('is off with --no-warmup or SWITCHYARD_WARMUP=0 / off / false / no', () => {
    assert.equal(warmupOption({ noWarmup: true }, { SWITCHYARD_WARMUP: '200' }, 512), undefined)
    for (const v of ['0', 'off', 'false', 'no', ' OFF ']) {
      assert.equal(warmupOption({}, { SWITCHYARD_WARMUP: v }, 512), undefined)
    }
  })
})
