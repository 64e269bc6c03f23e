import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  modelActionUrl,
  VERTEX_ANTHROPIC_VERSION,
  vertexBody,
  vertexLocation,
  vertexNeedsProject,
  vertexProject,
  vertexUrl,
} from './vertex.ts'

const HOST = 'https://us-east5-aiplatform.googleapis.com'
const place = { project: 'my-proj', location: 'us-east5' }

describe('vertexUrl', () => {
  it('builds the project path from a host-only base (CCR configs), per publisher and mode', () => {
    assert.equal(
      vertexUrl(HOST, 'anthropic', { ...place, model: 'claude-sonnet-4@20250514', stream: true }),
      `${HOST}/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict`,
    )
    assert.equal(
      vertexUrl(`${HOST}/`, 'anthropic', { ...place, model: 'claude-sonnet-4@20250514', stream: false }),
      `${HOST}/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict`,
    )
    assert.equal(
      vertexUrl(HOST, 'google', { ...place, model: 'gemini-2.5-pro', stream: true }),
      `${HOST}/v1beta1/projects/my-proj/locations/us-east5/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
    )
    assert.equal(
      vertexUrl(HOST, 'openai', { ...place, model: 'google/gemini-2.5-pro', stream: true }),
      `${HOST}/v1/projects/my-proj/locations/us-east5/endpoints/openapi/chat/completions`,
    )
  })

  it('keeps a written path, filling {project}, {location} and {model} and replacing a written action', () => {
    const written =
      'https://proxy.test/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict'
    assert.equal(
      vertexUrl(written, 'anthropic', { ...place, model: 'claude-opus-4@1', stream: true }),
      'https://proxy.test/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-opus-4@1:streamRawPredict',
    )
    const models = 'http://vertex.test/v1/projects/p/locations/us-central1/publishers/google/models/'
    assert.equal(
      vertexUrl(models, 'google', { project: '', location: 'x', model: 'gemini-2.5-flash', stream: false }),
      `${models}gemini-2.5-flash:generateContent`,
    )
    const openai = 'https://gw.test/v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions'
    assert.equal(
      vertexUrl(openai, 'openai', { ...place, model: 'm', stream: false }),
      'https://gw.test/v1/projects/my-proj/locations/us-east5/endpoints/openapi/chat/completions',
    )
  })

  it('law: the model id comes back whole from its path segment, and the host is never changed', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.boolean(), (model, stream) => {
        const url = new URL(vertexUrl(HOST, 'anthropic', { ...place, model, stream }))
        assert.equal(url.origin, HOST)
        const seg = url.pathname.slice(url.pathname.lastIndexOf('/') + 1)
        const action = stream ? ':streamRawPredict' : ':rawPredict'
        assert.ok(seg.endsWith(action))
        assert.equal(decodeURIComponent(seg.slice(0, -action.length)), model)
        const placed = new URL(
          modelActionUrl('https://x.test/m/{model}:rawPredict', 'anthropic', { model, stream }),
        )
        assert.equal(decodeURIComponent(placed.pathname.slice(3, -action.length)), model)
      }),
    )
  })
})

describe('modelActionUrl', () => {
  it('appends to a models/ base with or without its slash, and fills a {model} placeholder', () => {
    assert.equal(
      modelActionUrl('https://g.test/v1beta/models', 'google', { model: 'gemini-2.5-pro', stream: true }),
      'https://g.test/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    )
    assert.equal(
      modelActionUrl('https://g.test/v1beta/models/{model}:streamGenerateContent?alt=sse', 'google', {
        model: 'a/b',
        stream: false,
      }),
      'https://g.test/v1beta/models/a%2Fb:generateContent',
    )
  })
})

describe('vertexNeedsProject / vertexProject / vertexLocation', () => {
  it('a host alone or a {project} placeholder needs a project; a written path does not', () => {
    assert.equal(vertexNeedsProject(HOST), true)
    assert.equal(vertexNeedsProject(`${HOST}/`), true)
    assert.equal(vertexNeedsProject('https://x.test/v1/projects/{project}/locations/l/'), true)
    assert.equal(vertexNeedsProject('https://x.test/v1/projects/p/locations/l/publishers/google/models/'), false)
  })

  it('the option wins over the environment, which wins over the credentials; locations default per publisher', () => {
    const env = { credentialFiles: [], project: 'env-p', location: 'europe-west1' }
    assert.equal(vertexProject({ publisher: 'google', project: 'opt-p' }, env, 'cred-p'), 'opt-p')
    assert.equal(vertexProject({ publisher: 'google' }, env, 'cred-p'), 'env-p')
    assert.equal(vertexProject({ publisher: 'google' }, { credentialFiles: [] }, 'cred-p'), 'cred-p')
    assert.equal(vertexProject({ publisher: 'google' }, undefined, undefined), undefined)
    assert.equal(vertexLocation({ publisher: 'anthropic', location: 'asia-east1' }, env), 'asia-east1')
    assert.equal(vertexLocation({ publisher: 'anthropic' }, env), 'europe-west1')
    assert.equal(vertexLocation({ publisher: 'anthropic' }, undefined), 'us-east5')
    assert.equal(vertexLocation({ publisher: 'google' }, undefined), 'us-central1')
  })
})

describe('vertexBody', () => {
  it("a Claude body loses its model and gains Vertex's anthropic_version; others are unchanged", () => {
    const body = { model: 'claude', max_tokens: 5, stream: true, messages: [] }
    assert.deepEqual(vertexBody(body, 'anthropic'), {
      anthropic_version: VERTEX_ANTHROPIC_VERSION,
      max_tokens: 5,
      stream: true,
      messages: [],
    })
    assert.equal(vertexBody(body, 'openai'), body)
    assert.equal(body.model, 'claude', 'the input is not changed')
  })
})
