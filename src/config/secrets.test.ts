import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { configOf, testConfigFile } from '../../test/integration/helpers.ts'
import { configSecrets, MIN_SECRET_CHARS, secretScrubber } from './secrets.ts'

describe('configured secrets', () => {
  it('collects provider keys, header values, the inbound key and URL credentials', () => {
    const file = testConfigFile({ APIKEY: 'inbound-key-1', PROXY_URL: 'http://puser:ppass%2Fword@proxy.invalid:8080' })
    const providers = (file['Providers'] as Record<string, unknown>[]).map((p, i) =>
      i === 0
        ? {
          ...p,
          headers: { 'x-auth': 'Bearer hdr-secret-9' },
          api_base_url: 'http://mock.test/v1/messages?sig=abcdef123',
        }
        : p
    )
    const s = configSecrets(configOf({ ...file, Providers: providers }))
    for (
      const x of [
        'inbound-key-1',
        'sk-ant-secret-1',
        'sk-oai-secret-2',
        'Bearer hdr-secret-9',
        'hdr-secret-9',
        'ppass%2Fword',
        'ppass/word',
        'abcdef123',
      ]
    ) assert.ok(s.includes(x), x)
    assert.ok(s.every((x) => x.length >= MIN_SECRET_CHARS))
  })

  it('law: no secret survives scrubbing, wherever it sits in the text', () => {
    const secret = fc.string({ minLength: MIN_SECRET_CHARS, maxLength: 30 }).filter((x) => !x.includes('[redacted]'))
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 4 }),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }),
        (secrets, filler) => {
          const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length)
          const text = filler.map((f, i) => f + (secrets[i % secrets.length] ?? '')).join('') + secrets.join(' ')
          const out = secretScrubber(sorted)(text)
          for (const x of sorted) assert.ok(!out.includes(x), `${JSON.stringify(x)} in ${JSON.stringify(out)}`)
        },
      ),
      { seed: 7, numRuns: 300 },
    )
  })
})
