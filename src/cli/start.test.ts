import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { warmupOption } from './start.ts'

describe('warmupOption (start)', () => {
  it('warms up by default, with SWITCHYARD_WARMUP=N sending N requests', () => {
    assert.deepEqual(warmupOption({}, {}), {})
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: '200' }), { requests: 200 })
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: 'on' }), {})
  })

  it('is off with --no-warmup or SWITCHYARD_WARMUP=0 / off / false / no', () => {
    assert.equal(warmupOption({ noWarmup: true }, { SWITCHYARD_WARMUP: '200' }), undefined)
    for (const v of ['0', 'off', 'false', 'no', ' OFF ']) {
      assert.equal(warmupOption({}, { SWITCHYARD_WARMUP: v }), undefined)
    }
  })
})
