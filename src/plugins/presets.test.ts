import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import { presetFromFile, withPresetFiles } from './presets.ts'

const config = configOf(testConfigFile())

describe('preset files', () => {
  it('the three shapes: route, Router object, Router keys at the top', () => {
    assert.equal(presetFromFile({ route: 'anth,mock-a' }, config.router).preset?.router.default, 'anth,mock-a')
    const nested = presetFromFile({ Router: { default: 'oai,mock-o', think: 'anth,claude-up' } }, config.router).preset!
    assert.deepEqual([nested.router.default, nested.router.think, nested.router.background], [
      'oai,mock-o',
      'anth,claude-up',
      undefined,
    ])
    const top = presetFromFile({ image: 'anth,claude-up', max_tokens: 99 }, config.router).preset!
    assert.deepEqual([top.router.default, top.router.image, top.maxTokens], [
      config.router.default,
      'anth,claude-up',
      99,
    ])
    assert.equal(top.router.ewmaAlpha, config.router.ewmaAlpha, 'main Router policies are kept')
  })

  it('an invalid file is reported by field; withPresetFiles keeps config presets on a clash', () => {
    assert.match(presetFromFile({ route: 42 }, config.router).errors.join(), /route/)
    const warnings: string[] = []
    const base = { ...config, presets: { a: presetFromFile({ route: 'oai,mock-o' }, config.router).preset! } }
    const merged = withPresetFiles(
      base,
      { a: { route: 'anth,mock-a' }, b: { route: 'anth,mock-a' }, c: { route: 1 } },
      (m) => warnings.push(m),
    )
    assert.equal(merged.presets.a?.router.default, 'oai,mock-o')
    assert.equal(merged.presets.b?.router.default, 'anth,mock-a')
    assert.equal(merged.presets.c, undefined)
    assert.equal(warnings.length, 1)
    assert.equal(withPresetFiles(config, {}, () => undefined), config)
  })
})
