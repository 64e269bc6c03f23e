import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { googleCloudFromEnv, vertexSettings } from './vertex.ts'

describe('vertexSettings', () => {
  it('reads the Vertex transformer of a chain (any case) with its options; none without one', () => {
    assert.equal(vertexSettings([{ name: 'gemini', options: {} }]), undefined)
    assert.deepEqual(vertexSettings([{ name: 'Vertex-Claude', options: { project: 'p', location: 'l' } }]), {
      publisher: 'anthropic',
      project: 'p',
      location: 'l',
    })
    assert.deepEqual(vertexSettings([{ name: 'vertex-gemini', options: { keyFile: '/k.json', project: '' } }]), {
      publisher: 'google',
      keyFile: '/k.json',
    })
  })

  it("vertex-openai's inline service account, its private_key's written \\n turned into newlines", () => {
    const v = vertexSettings([{
      name: 'vertex-openai',
      options: {
        client_email: 'a@p.iam',
        private_key: '-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END PRIVATE KEY-----',
      },
    }])
    assert.equal(v?.publisher, 'openai')
    assert.equal(v?.serviceAccount?.private_key, '-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----')
    assert.equal(
      vertexSettings([{ name: 'vertex-openai', options: { client_email: 'a@p.iam' } }])?.serviceAccount,
      undefined,
      'an email without a key is no service account',
    )
  })
})

describe('googleCloudFromEnv', () => {
  it("GOOGLE_APPLICATION_CREDENTIALS first, then gcloud's application-default file", () => {
    assert.deepEqual(
      googleCloudFromEnv({ GOOGLE_APPLICATION_CREDENTIALS: '/sa.json', HOME: '/home/u' }).credentialFiles,
      [
        '/sa.json',
        join('/home/u', '.config', 'gcloud', 'application_default_credentials.json'),
      ],
    )
    assert.deepEqual(googleCloudFromEnv({ CLOUDSDK_CONFIG: '/cfg', HOME: '/home/u' }).credentialFiles, [
      join('/cfg', 'application_default_credentials.json'),
    ])
    assert.deepEqual(googleCloudFromEnv({}).credentialFiles, [])
  })

  it('the project from GOOGLE_CLOUD_PROJECT, else GCLOUD_PROJECT; the location from GOOGLE_CLOUD_LOCATION', () => {
    const e = googleCloudFromEnv({ GOOGLE_CLOUD_PROJECT: 'a', GCLOUD_PROJECT: 'b', GOOGLE_CLOUD_LOCATION: 'us-east5' })
    assert.equal(e.project, 'a')
    assert.equal(e.location, 'us-east5')
    assert.equal(googleCloudFromEnv({ GCLOUD_PROJECT: 'b' }).project, 'b')
    assert.equal(googleCloudFromEnv({ GOOGLE_CLOUD_PROJECT: '' }).project, undefined)
  })

  it("the metadata server: GCE_METADATA_HOST, or Google's own on Cloud Run, Functions and App Engine; else none", () => {
    assert.equal(googleCloudFromEnv({ GCE_METADATA_HOST: '169.254.169.254' }).metadataHost, '169.254.169.254')
    assert.equal(googleCloudFromEnv({ K_SERVICE: 'router' }).metadataHost, 'metadata.google.internal')
    assert.equal(googleCloudFromEnv({ HOME: '/home/u' }).metadataHost, undefined)
  })
})
