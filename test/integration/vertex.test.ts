/**
 * Vertex AI providers. `vertex-gemini` with a key file path: a service-account key file's JWT is
 * exchanged at a local token endpoint for an access token, which authenticates the Gemini calls,
 * is cached, and is refreshed when it expires (the endpoint checks the JWT's signature with the
 * key's public half). Then the three Vertex transformers as CCR configures them: a host-only
 * `api_base_url`, Google's Application Default Credentials and `GOOGLE_CLOUD_PROJECT` from the
 * environment, or `vertex-openai`'s inline service account.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockUpstream } from '../../src/demo/upstream.ts'
import { createInstance } from '../../src/compose.ts'
import { createLogger } from '../../src/log.ts'
import { parseConfig } from '../../src/config/load.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import type { Config } from '../../src/config/types.ts'
import { configOf, sseEvents } from './helpers.ts'

const TOKEN_URI = 'http://oauth.test/token'
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token'
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

/** A config parsed as the CLI parses it, with `env` as the environment. */
function configWith(file: Record<string, unknown>, env: Record<string, string>) {
  return loadedWith(file, env).config
}

function loadedWith(file: Record<string, unknown>, env: Record<string, string>) {
  const r = parseConfig(JSON.stringify({ LOG: false, ...file }), env, { knownTransformer })
  if (!r.ok) throw new Error(r.error.join('; '))
  return r.value
}

/** An instance on `config` whose upstream calls go to `fetch`. */
const start = (config: Config, fetch: (req: Request) => Promise<Response>, rawConfig?: unknown) =>
  createInstance(config, { dataDir: ':memory:', fetch, log: createLogger({ enabled: false }), rawConfig })

/** A token endpoint that takes a user's refresh token or a service account's signed JWT, and the calls after it. */
function googleUpstream(opts: { publicKey?: CryptoKey } = {}) {
  const mock = createMockUpstream()
  const forms: Record<string, string>[] = []
  const calls: Array<{ url: string; auth: string | null; apiKey: string | null; body: Record<string, unknown> }> = []
  const fetch = async (req: Request): Promise<Response> => {
    // Google's own token endpoint too: this fetch answers in process, nothing leaves the machine.
    if (req.url === TOKEN_URI || req.url === GOOGLE_TOKEN_URI) {
      const form = Object.fromEntries(new URLSearchParams(await req.text()))
      forms.push({ ...form, uri: req.url })
      if (form.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && opts.publicKey) {
        const [head, claims, sig] = (form.assertion ?? '').split('.')
        const valid = await crypto.subtle.verify(
          'RSASSA-PKCS1-v1_5',
          opts.publicKey,
          unb64url(sig!),
          new TextEncoder().encode(`${head}.${claims}`),
        )
        if (!valid) return Response.json({ error: 'invalid_grant' }, { status: 400 })
      } else if (form.refresh_token !== '1//user-refresh') {
        return Response.json({ error: 'invalid_grant' }, { status: 400 })
      }
      return Response.json({ access_token: `tok-${forms.length}`, expires_in: 3600 })
    }
    if (req.url.startsWith('http://meta.test/computeMetadata/v1/')) {
      if (req.headers.get('metadata-flavor') !== 'Google') return new Response('no flavor', { status: 403 })
      return req.url.endsWith('/token')
        ? Response.json({ access_token: 'meta-token', expires_in: 3599, token_type: 'Bearer' })
        : new Response('vm-proj')
    }
    const text = await req.clone().text()
    calls.push({
      url: req.url,
      auth: req.headers.get('authorization'),
      apiKey: req.headers.get('x-api-key') ?? req.headers.get('x-goog-api-key'),
      body: JSON.parse(text) as Record<string, unknown>,
    })
    return mock.fetch(req)
  }
  return { fetch, forms, calls }
}

describe('Vertex AI as CCR configures it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-vertex-ccr-'))
  const adc = join(dir, 'application_default_credentials.json')
  writeFileSync(
    adc,
    JSON.stringify({
      type: 'authorized_user',
      client_id: 'cid.apps.googleusercontent.com',
      client_secret: 'csecret',
      refresh_token: '1//user-refresh',
      token_uri: TOKEN_URI,
    }),
  )
  const post = (
    app: { request: (p: string, i: RequestInit) => Response | Promise<Response> },
    path: string,
    body: unknown,
  ) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it('vertex-claude: GOOGLE_APPLICATION_CREDENTIALS and GOOGLE_CLOUD_PROJECT, a host-only base; a stream read to its end and a translated JSON answer', async () => {
    const up = googleUpstream()
    const config = configWith({
      Providers: [{
        name: 'vc',
        api_base_url: 'https://us-east5-aiplatform.googleapis.com',
        api_key: '',
        models: ['claude-sonnet-4@20250514'],
        transformer: { use: ['vertex-claude'] },
      }],
      Router: { default: 'vc,claude-sonnet-4@20250514' },
    }, { GOOGLE_APPLICATION_CREDENTIALS: adc, GOOGLE_CLOUD_PROJECT: 'my-proj', HOME: dir })
    const app = await start(config, up.fetch)
    try {
      const streamed = await post(app.app, '/v1/messages', {
        model: 'x',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      })
      assert.equal(streamed.status, 200)
      const events = sseEvents(await streamed.text())
      assert.equal(events.at(-1)?.event, 'message_stop')
      const chat = await post(app.app, '/v1/chat/completions', {
        model: 'x',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
      })
      assert.equal(chat.status, 200, await chat.clone().text())
      assert.match(JSON.stringify(await chat.json()), /chat\.completion/)

      const base =
        'https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514'
      assert.deepEqual(up.calls.map((c) => c.url), [`${base}:streamRawPredict`, `${base}:rawPredict`])
      for (const c of up.calls) {
        assert.equal(c.auth, 'Bearer tok-1')
        assert.equal(c.apiKey, null)
        assert.equal(c.body.anthropic_version, 'vertex-2023-10-16')
        assert.equal('model' in c.body, false)
      }
      assert.equal(up.forms.length, 1, 'one token for both calls')
      assert.equal(up.forms[0]!.grant_type, 'refresh_token')
    } finally {
      await app.close()
    }
  })

  it("vertex-gemini: the project is the key file's own when the environment names none; gcloud's file under HOME", async () => {
    const { pem, publicKey } = await keyPair()
    const home = mkdtempSync(join(tmpdir(), 'switchyard-vertex-home-'))
    const gcloud = join(home, '.config', 'gcloud')
    mkdirSync(gcloud, { recursive: true })
    writeFileSync(
      join(gcloud, 'application_default_credentials.json'),
      JSON.stringify({
        type: 'service_account',
        project_id: 'key-proj',
        client_email: 'sy@key-proj.iam.gserviceaccount.com',
        private_key: pem,
        token_uri: TOKEN_URI,
      }),
    )
    const up = googleUpstream({ publicKey })
    const config = configWith({
      Providers: [{
        name: 'vg',
        api_base_url: 'https://us-central1-aiplatform.googleapis.com/',
        api_key: 'sk-not-a-path',
        models: ['gemini-2.5-pro'],
        transformer: { use: ['vertex-gemini'] },
      }],
      Router: { default: 'vg,gemini-2.5-pro' },
    }, { HOME: home })
    const app = await start(config, up.fetch)
    try {
      const r = await post(app.app, '/v1/messages', {
        model: 'x',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      })
      assert.equal(sseEvents(await r.text()).at(-1)?.event, 'message_stop')
      assert.deepEqual(up.calls.map((c) => [c.url, c.auth, c.apiKey]), [[
        'https://us-central1-aiplatform.googleapis.com/v1beta1/projects/key-proj/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
        'Bearer tok-1',
        null,
      ]])
    } finally {
      await app.close()
      rmSync(home, { recursive: true, force: true })
    }
  })

  it("vertex-openai: the transformer's inline service account (its key's \\n written out) and the OpenAI endpoint", async () => {
    const { pem, publicKey } = await keyPair()
    const up = googleUpstream({ publicKey })
    const loaded = loadedWith({
      Providers: [{
        name: 'vo',
        api_base_url: 'https://us-central1-aiplatform.googleapis.com',
        api_key: '',
        models: ['google/gemini-2.5-flash'],
        transformer: {
          use: [['vertex-openai', {
            client_email: 'sy@p.iam.gserviceaccount.com',
            private_key: pem.replace(/\n/g, '\\n'),
            project: 'opt-proj',
          }]],
        },
      }],
      Router: { default: 'vo,google/gemini-2.5-flash' },
    }, {})
    const app = await start(loaded.config, up.fetch, loaded.raw)
    try {
      const r = await post(app.app, '/v1/messages', {
        model: 'x',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
      })
      assert.equal(r.status, 200, await r.clone().text())
      assert.deepEqual(up.calls.map((c) => [c.url, c.auth, c.body.model]), [[
        'https://us-central1-aiplatform.googleapis.com/v1/projects/opt-proj/locations/us-central1/endpoints/openapi/chat/completions',
        'Bearer tok-1',
        'google/gemini-2.5-flash',
      ]])
      assert.equal(up.forms[0]!.grant_type, 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      assert.equal(up.forms[0]!.uri, GOOGLE_TOKEN_URI, "an inline key has no token_uri: Google's")
      const apiConfig = await app.app.request('/api/config')
      const shown = await apiConfig.text()
      assert.equal(apiConfig.status, 200)
      assert.match(shown, /"private_key":"\*\*\*"/, 'the config is shown, its key hidden')
      assert.doesNotMatch(shown, /PRIVATE KEY/, 'but never its private key')
    } finally {
      await app.close()
    }
  })

  it("no project or no credentials: an error in the client's format that says what to set, and no call", async () => {
    const up = googleUpstream()
    const provider = {
      name: 'vc',
      api_base_url: 'https://us-east5-aiplatform.googleapis.com',
      models: ['claude-sonnet-4@20250514'],
      transformer: { use: ['vertex-claude'] },
    }
    const file = { Providers: [provider], Router: { default: 'vc,claude-sonnet-4@20250514' } }
    const noProject = await start(configWith(file, { GOOGLE_APPLICATION_CREDENTIALS: adc }), up.fetch)
    const noCreds = await start(configWith(file, { GOOGLE_CLOUD_PROJECT: 'p', HOME: join(dir, 'nobody') }), up.fetch)
    try {
      const a = await post(noProject.app, '/v1/chat/completions', {
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
      })
      const aBody = await a.json() as { error: { message: string } }
      assert.match(aBody.error.message, /no project to call: set GOOGLE_CLOUD_PROJECT/)
      const b = await post(noCreds.app, '/v1/messages', {
        model: 'x',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      })
      const bBody = await b.json() as { type: string; error: { message: string } }
      assert.equal(bBody.type, 'error')
      assert.match(bBody.error.message, /no Google credentials could be read: set GOOGLE_APPLICATION_CREDENTIALS/)
      assert.equal(up.calls.length, 0)
    } finally {
      await noProject.close()
      await noCreds.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
