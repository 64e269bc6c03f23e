import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { presetLaunch } from './preset.ts'

describe('presetLaunch', () => {
  it('claudeCodeSettings: env into the environment (answers and $VARs applied), the rest as --settings', () => {
    const how = presetLaunch({
      version: '1.0.0',
      claudeCodeSettings: { env: { A: '{{a}}', N: 3, B: '$HOME_X', skip: { no: 1 } }, model: 'sonnet' },
      userValues: { a: 'answered' },
    }, { HOME_X: '/h' })
    assert.deepEqual(how.env, { A: 'answered', N: '3', B: '/h' })
    assert.deepEqual(how.settings, { model: 'sonnet' })
    assert.equal(how.direct, undefined)
  })

  it('noServer: the first provider, its URL without /v1/messages, its key; none named: through the service', () => {
    const how = presetLaunch({
      noServer: true,
      Providers: [{ name: 'a', api_base_url: 'https://api.example.test/v1/messages', api_key: '$K', models: ['m'] }],
    }, { K: 'sk-k' })
    assert.deepEqual(how.direct, { baseUrl: 'https://api.example.test', apiKey: 'sk-k' })
    assert.deepEqual(how.settings, {})
    assert.match(how.notes.join(), /talks to https:\/\/api\.example\.test itself/)
    const none = presetLaunch({ noServer: true, Router: { default: 'a,m' } }, {})
    assert.equal(none.direct, undefined)
    assert.match(none.notes.join(), /names no provider/)
    assert.deepEqual(presetLaunch({ route: 'a,m' }, {}), { env: {}, settings: {}, notes: [] })
  })
})
