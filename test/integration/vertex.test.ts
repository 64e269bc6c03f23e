/**
 * `vertex-gemini`: a service-account key file's JWT is exchanged at a local token endpoint for
 * an access token, which authenticates the Gemini calls, is cached, and is refreshed when it
 * expires. The endpoint checks the JWT's signature with the key's public half.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { configOf } from './helpers.ts'

const TOKEN_URI = 'http://oauth.test/token'
const b64 = (buf: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(buf)))
const unb64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

async function keyPair() {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    b64(await crypto.subtle.exportKey('pkcs8', pair.privateKey)).replace(/(.{64})/g, '$1\n')
  }\n-----END PRIVATE KEY-----\n`
  return { pem, publicKey: pair.publicKey }
}

describe('vertex-gemini with a service-account key', () => {
  it('exchanges a signed JWT for a token, sends it as a bearer, caches it and refreshes it on expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-vertex-'))
    const { pem, publicKey } = await keyPair()
    const keyFile = join(dir, 'sa.json')
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        client_email: 'sy@p.iam.gserviceaccount.com',
        private_key: pem,
        token_uri: TOKEN_URI,
      }),
    )
    let clock = 1_800_000_000_000
    let issued = 0
    let failToken = false
    const seenAuth: string[] = []
    const mock = createMockUpstream()
    const fetch = async (req: Request): Promise<Response> => {
      if (req.url === TOKEN_URI) {
        const form = new URLSearchParams(await req.text())
        assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        const [head, claims, sig] = (form.get('assertion') ?? '').split('.')
        const valid = await crypto.subtle.verify(
          'RSASSA-PKCS1-v1_5',
          publicKey,
          unb64url(sig!),
          new TextEncoder().encode(`${head}.${claims}`),
        )
        const c = JSON.parse(new TextDecoder().decode(unb64url(claims!))) as Record<string, unknown>
        if (
          !valid || c.iss !== 'sy@p.iam.gserviceaccount.com' || c.aud !== TOKEN_URI ||
          c.iat !== Math.floor(clock / 1000)
        ) return Response.json({ error: 'invalid_grant' }, { status: 400 })
        if (failToken) {
          return Response.json({ error: 'invalid_grant', error_description: 'key disabled' }, { status: 400 })
        }
        issued++
        return Response.json({ access_token: `tok-${issued}`, expires_in: 3600, token_type: 'Bearer' })
      }
      seenAuth.push(`${req.headers.get('authorization')}|${req.headers.get('x-goog-api-key')}`)
      return mock.fetch(req)
    }
    const config = configOf({
      LOG: false,
      Providers: [{
        name: 'vx',
        api_base_url: 'http://vertex.test/v1/projects/p/locations/us-central1/publishers/google/models/',
        api_key: keyFile,
        models: ['gemini-2.5-pro'],
        transformer: { use: ['vertex-gemini'] },
      }],
      Router: { default: 'vx,gemini-2.5-pro', fallbackToOtherTiers: false },
    })
    const app = await createInstance(config, {
      dataDir: ':memory:',
      fetch,
      now: () => clock,
      log: createLogger({ enabled: false }),
    })
    const ask = async () =>
      app.app.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
      })

    for (let i = 0; i < 2; i++) {
      const r = await ask()
      assert.equal(r.status, 200, await r.clone().text())
      assert.match(JSON.stringify(await r.json()), /\[0001\]/)
    }
    assert.equal(issued, 1, 'the token is cached')
    assert.deepEqual(seenAuth, ['Bearer tok-1|null', 'Bearer tok-1|null'])

    clock += 3_600_000
    assert.equal((await ask()).status, 200)
    assert.equal(issued, 2, 'an expired token is refreshed')
    assert.equal(seenAuth.at(-1), 'Bearer tok-2|null')

    clock += 3_600_000
    failToken = true
    const denied = await ask()
    const body = await denied.json() as { error: { message: string } }
    assert.equal(denied.status, 401)
    assert.match(body.error.message, /token endpoint answered HTTP 400/)
    assert.doesNotMatch(JSON.stringify(body), /PRIVATE KEY|eyJ/)
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
