import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { warmupOption } from './start.ts'
import { WARMUP_REQUESTS } from '../warmup.ts'

describe('warmupOption (start)', () => {
  it('is off unless asked for', () => {
    assert.equal(warmupOption({}, {}), undefined)
    for (const v of ['', '0', 'off', 'false', 'no', 'later', '-3', '2.5']) {
      assert.equal(warmupOption({}, { SWITCHYARD_WARMUP: v }), undefined, v)
    }
  })

  it('--warmup sends the default number of requests, or SWITCHYARD_WARMUP=N of them', () => {
    assert.deepEqual(warmupOption({ warmup: true }, {}), { requests: WARMUP_REQUESTS })
    assert.deepEqual(warmupOption({ warmup: true }, { SWITCHYARD_WARMUP: '64' }), { requests: 64 })
    // The flag asks for it: a variable saying off does not undo that.
    assert.deepEqual(warmupOption({ warmup: true }, { SWITCHYARD_WARMUP: '0' }), { requests: WARMUP_REQUESTS })
  })

  it('SWITCHYARD_WARMUP=N (or on / true / yes) asks for it without the flag', () => {
    assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: '200' }), { requests: 200 })
    for (const v of ['on', 'true', ' YES ']) {
      assert.deepEqual(warmupOption({}, { SWITCHYARD_WARMUP: v }), { requests: WARMUP_REQUESTS }, v)
    }
  })

  it('--no-warmup turns it off whatever the variable or --warmup say', () => {
    assert.equal(warmupOption({ noWarmup: true }, { SWITCHYARD_WARMUP: '200' }), undefined)
    assert.equal(warmupOption({ noWarmup: true, warmup: true }, {}), undefined)
  })
})
