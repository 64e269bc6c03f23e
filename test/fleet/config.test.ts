import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../src/config/load.ts'
import { redactConfig } from '../../src/config/redact.ts'

const base = {
  Providers: [{ name: 'p', api_base_url: 'https://example.test/v1/chat/completions', api_key: 'k', models: ['m'] }],
}

describe('fleet config', () => {
  it('is off without Fleet or SWITCHYARD_REDIS_URL', () => {
    const r = parseConfig(JSON.stringify(base), {})
    assert.ok(r.ok && r.value.config.fleet === undefined)
  })

  it('reads the Fleet block with its defaults, and SWITCHYARD_REDIS_URL wins over Fleet.redis', () => {
    const file = JSON.stringify({ ...base, Fleet: { redis: 'redis://10.0.0.5:6379/0', heartbeatMs: 500 } })
    const r = parseConfig(file, {})
    assert.deepEqual(r.ok && r.value.config.fleet, {
      redis: 'redis://10.0.0.5:6379/0',
      keyPrefix: 'switchyard:',
      commandTimeoutMs: 50,
      heartbeatMs: 500,
      leaseTtlMs: 30_000,
      cluster: false,
    })
    const env = parseConfig(file, { SWITCHYARD_REDIS_URL: 'rediss://:pw@cache.internal:6380/2' })
    assert.deepEqual(env.ok && [env.value.config.fleet?.redis, env.value.config.fleet?.heartbeatMs], [
      'rediss://:pw@cache.internal:6380/2',
      500,
    ])
    const only = parseConfig(JSON.stringify(base), { SWITCHYARD_REDIS_URL: 'redis://127.0.0.1:6379' })
    assert.equal(only.ok && only.value.config.fleet?.commandTimeoutMs, 50)
  })

  it('bounds every setting and never quotes the URL in an error', () => {
    const bad = parseConfig(
      JSON.stringify({
        ...base,
        Fleet: { redis: 'redis://h', commandTimeoutMs: 5_000, heartbeatMs: 10, keyPrefix: 'a{b}' },
      }),
      {},
    )
    assert.ok(!bad.ok)
    const text = bad.ok ? '' : bad.error.join('\n')
    for (const field of ['Fleet.commandTimeoutMs', 'Fleet.heartbeatMs', 'Fleet.keyPrefix']) {
      assert.match(text, new RegExp(field.replace('.', '\\.')))
    }
    const env = parseConfig(JSON.stringify(base), { SWITCHYARD_REDIS_URL: 'http://user:s3cret@h' })
    assert.ok(!env.ok && env.error.join('').includes('SWITCHYARD_REDIS_URL') && !env.error.join('').includes('s3cret'))
  })

  it('shows Fleet.redis without its password in the redacted config', () => {
    const shown = redactConfig({ Fleet: { redis: 'redis://:hunter2@10.0.0.5:6379/0' } }) as { Fleet: { redis: string } }
    assert.equal(shown.Fleet.redis, 'redis://:***@10.0.0.5:6379/0')
  })
})
