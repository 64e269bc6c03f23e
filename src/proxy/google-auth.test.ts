import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ok } from '../lib/result.ts'
import {
  type CredentialSource,
  googleTokens,
  parseCredentials,
  PRODUCT_NAME_FILE,
  type TokenExchange,
} from './google-auth.ts'

const user = {
  type: 'authorized_user',
  client_id: 'cid.apps.googleusercontent.com',
  client_secret: 'csecret',
  refresh_token: '1//refresh',
  quota_project_id: 'quota-proj',
}

describe('parseCredentials', () => {
  it('reads a service account key and a gcloud application-default login, with the project each names', () => {
    const sa = parseCredentials(JSON.stringify({
      type: 'service_account',
      client_email: 'a@p.iam.gserviceaccount.com',
      private_key: 'PEM',
      project_id: 'sa-proj',
      token_uri: 'http://t.test/token',
    }))
    assert.deepEqual(sa, {
      ok: true,
      value: {
        type: 'service_account',
        key: { client_email: 'a@p.iam.gserviceaccount.com', private_key: 'PEM', token_uri: 'http://t.test/token' },
        project: 'sa-proj',
      },
    })
    const u = parseCredentials(JSON.stringify(user))
    assert.equal(u.ok && u.value.type, 'authorized_user')
    assert.equal(u.ok && u.value.project, 'quota-proj')
  })

  it('names what is wrong without quoting the file', () => {
    const ext = parseCredentials(JSON.stringify({ type: 'external_account', audience: 'secret-audience' }))
    assert.equal(ext.ok, false)
    assert.match(!ext.ok ? ext.error : '', /"external_account" are not supported/)
    assert.doesNotMatch(!ext.ok ? ext.error : '', /secret-audience/)
    assert.equal(parseCredentials('{nope').ok, false)
    const half = parseCredentials(JSON.stringify({ type: 'authorized_user', client_id: 'c', refresh_token: 'r' }))
    assert.match(!half.ok ? half.error : '', /neither/)
  })
})

describe('googleTokens', () => {
  function setup(files: Record<string, string>) {
    const forms: Array<{ uri: string; form: Readonly<Record<string, string>> }> = []
    let clock = 1_000_000
    let n = 0
    const exchange: TokenExchange = async (uri, form) => {
      forms.push({ uri, form })
      await new Promise((r) => setTimeout(r, 1))
      return ok({ token: `tok-${++n}`, expiresInS: 3600 })
    }
    const tokens = googleTokens({
      exchange,
      metadata: () => Promise.reject(new Error('these sources name no metadata server')),
      now: () => clock,
      readKey: async (path) => {
        const text = files[path]
        if (text === undefined) throw new Error('ENOENT')
        return text
      },
    })
    return { tokens, forms, tick: (ms: number) => (clock += ms) }
  }

  it("a user's refresh token is exchanged at Google's token endpoint; the next readable file wins", async () => {
    const { tokens, forms } = setup({ '/adc.json': JSON.stringify(user) })
    const source: CredentialSource = { id: 'a', files: ['/missing.json', '/adc.json'] }
    const r = await tokens.access(source, 'vx,m')
    assert.deepEqual(r, { ok: true, value: { token: 'tok-1', project: 'quota-proj' } })
    assert.deepEqual(forms, [{
      uri: 'https://oauth2.googleapis.com/token',
      form: {
        grant_type: 'refresh_token',
        client_id: user.client_id,
        client_secret: user.client_secret,
        refresh_token: user.refresh_token,
      },
    }])
  })

  it('concurrent requests share one exchange; the token is kept until a minute before it expires', async () => {
    const { tokens, forms, tick } = setup({ '/adc.json': JSON.stringify(user) })
    const source: CredentialSource = { id: 'a', files: ['/adc.json'] }
    const all = await Promise.all([1, 2, 3].map(() => tokens.access(source, 't')))
    assert.deepEqual(all.map((r) => r.ok && r.value.token), ['tok-1', 'tok-1', 'tok-1'])
    tick(3_540_000 - 1)
    assert.equal((await tokens.access(source, 't')).ok && forms.length, 1)
    tick(1)
    const again = await tokens.access(source, 't')
    assert.equal(again.ok && again.value.token, 'tok-2')
  })

  it('no readable file is a 401 naming what to set; an unusable one names why', async () => {
    const { tokens } = setup({ '/bad.json': JSON.stringify({ type: 'impersonated_service_account' }) })
    const none = await tokens.access({ id: 'n', files: ['/nope.json'] }, 'vx,m')
    assert.equal(none.ok, false)
    if (!none.ok) {
      assert.equal(none.error.kind, 'upstream_status')
      assert.match('message' in none.error ? none.error.message : '', /GOOGLE_APPLICATION_CREDENTIALS/)
    }
    const bad = await tokens.access({ id: 'b', files: ['/bad.json'] }, 'vx,m')
    assert.match(!bad.ok && 'message' in bad.error ? String(bad.error.message) : '', /impersonated_service_account/)
  })
})

describe('googleTokens: the metadata server', () => {
  function setupWith(files: Record<string, string>) {
    const asked: string[] = []
    const tokens = googleTokens({
      exchange: async () => ok({ token: 'from-file', expiresInS: 3600 }),
      metadata: async (host) => {
        asked.push(host)
        return ok({ token: 'from-metadata', expiresInS: 3600, project: 'vm-proj' })
      },
      now: () => 0,
      readKey: async (path) => {
        if (files[path] === undefined) throw new Error('ENOENT')
        return files[path]
      },
    })
    return { tokens, asked }
  }
  const adcOnly = (known: boolean): CredentialSource => ({
    id: 'adc',
    files: ['/nope.json'],
    metadata: { host: 'metadata.google.internal', known },
  })

  it('is asked when no file can be read and the environment says it is there, with the project it names', async () => {
    const { tokens, asked } = setupWith({})
    assert.deepEqual(await tokens.access(adcOnly(true), 't'), {
      ok: true,
      value: { token: 'from-metadata', project: 'vm-proj' },
    })
    assert.deepEqual(asked, ['metadata.google.internal'])
  })

  it('on a Compute Engine VM (its product name) without the environment saying so; elsewhere never', async () => {
    const gce = setupWith({ [PRODUCT_NAME_FILE]: 'Google Compute Engine\n' })
    assert.equal((await gce.tokens.access(adcOnly(false), 't')).ok, true)
    assert.equal(gce.asked.length, 1)
    const laptop = setupWith({ [PRODUCT_NAME_FILE]: 'ThinkPad X1\n' })
    const r = await laptop.tokens.access(adcOnly(false), 't')
    assert.equal(r.ok, false)
    assert.equal(laptop.asked.length, 0)
  })

  it('a readable credentials file comes first', async () => {
    const { tokens, asked } = setupWith({ '/adc.json': JSON.stringify(user) })
    const r = await tokens.access({ ...adcOnly(true), files: ['/adc.json'] }, 't')
    assert.equal(r.ok && r.value.token, 'from-file')
    assert.equal(asked.length, 0)
  })
})
