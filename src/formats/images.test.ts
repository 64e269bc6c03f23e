import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  anthropicImageBlock,
  IMAGE_OMITTED,
  imageKey,
  imagePlaces,
  imagesAsText,
  type ImageSource,
  imageSource,
  imageSourcesOf,
  isImagePart,
} from './images.ts'

const PNG = 'iVBORw0KGgo='
const anthImage = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }

describe('images in requests', () => {
  it('recognises the image parts of every wire format, and a tool result carrying one', () => {
    for (
      const p of [
        anthImage,
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'input_image', image_url: `data:image/png;base64,${PNG}` },
        { inlineData: { mimeType: 'image/png', data: PNG } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'gs://b/x.jpg' } },
        { type: 'tool_result', tool_use_id: 't', content: [anthImage] },
      ]
    ) assert.equal(isImagePart(p), true, JSON.stringify(p))
    for (const p of [{ type: 'text', text: 'image' }, { inlineData: { mimeType: 'application/pdf' } }, 'image', null]) {
      assert.equal(isImagePart(p), false, JSON.stringify(p))
    }
  })

  it('Anthropic: earlier images (a tool result’s too) become text; the last user turn keeps its own', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, anthImage] },
        { role: 'assistant', content: [{ type: 'text', text: 'a red square' }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [anthImage] }] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'and this?' }, anthImage] },
      ],
    }
    assert.deepEqual(imagePlaces(body), { last: true, earlier: true })
    const out = imagesAsText(body, 'anthropic')
    const text = { type: 'text', text: IMAGE_OMITTED }
    assert.deepEqual(out.messages, [
      { role: 'user', content: [{ type: 'text', text: 'look' }, text] },
      body.messages[1],
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [text] }] },
      body.messages[3],
      body.messages[4],
    ])
    assert.equal(body.messages[0]!.content[1], anthImage, 'the client’s body is not changed')
  })

  it('OpenAI, Responses and Gemini: the text part of each format', () => {
    const openai = {
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,x' } }] },
        { role: 'user', content: 'now text' },
      ],
    }
    assert.deepEqual(imagesAsText(openai, 'openai').messages, [
      { role: 'user', content: [{ type: 'text', text: IMAGE_OMITTED }] },
      openai.messages[1],
    ])
    const responses = {
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,x' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'now text' }] },
      ],
    }
    assert.deepEqual(
      (imagesAsText(responses, 'responses').input as { content: unknown[] }[])[0]!.content,
      [{ type: 'input_text', text: IMAGE_OMITTED }],
    )
    const gemini = {
      contents: [
        { role: 'user', parts: [{ text: 'see' }, { inlineData: { mimeType: 'image/png', data: 'x' } }] },
        { role: 'model', parts: [{ text: 'a cat' }] },
        { role: 'user', parts: [{ text: 'more' }] },
      ],
    }
    assert.deepEqual(imagePlaces(gemini), { last: false, earlier: true })
    assert.deepEqual((imagesAsText(gemini, 'gemini').contents as { parts: unknown[] }[])[0]!.parts, [
      { text: 'see' },
      { text: IMAGE_OMITTED },
    ])
  })

  it('a body without earlier images is returned as it is (no copy)', () => {
    const body = { messages: [{ role: 'user', content: [anthImage] }] }
    assert.equal(imagesAsText(body, 'anthropic'), body)
    const none = { messages: [{ role: 'user', content: 'hi' }] }
    assert.equal(imagesAsText(none, 'openai'), none)
    assert.deepEqual(imagePlaces({ prompt: 'x' }), { last: false, earlier: false })
  })
})

describe('image sources and descriptions', () => {
  it('one source, the same in every format: the base64 bytes with their type, or the address', () => {
    const b64 = { kind: 'base64', mediaType: 'image/png', data: PNG }
    assert.deepEqual(imageSource(anthImage), b64)
    assert.deepEqual(imageSource({ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }), b64)
    assert.deepEqual(imageSource({ type: 'input_image', image_url: `data:image/png;base64,${PNG}` }), b64)
    assert.deepEqual(imageSource({ inlineData: { mimeType: 'image/png', data: PNG } }), b64)
    assert.deepEqual(imageSource({ type: 'image_url', image_url: { url: 'https://x.test/a.png' } }), {
      kind: 'url',
      url: 'https://x.test/a.png',
    })
    assert.deepEqual(imageSource({ fileData: { mimeType: 'image/jpeg', fileUri: 'gs://b/x.jpg' } }), {
      kind: 'url',
      url: 'gs://b/x.jpg',
    })
    assert.equal(imageSource({ type: 'input_image', file_id: 'file-1' }), undefined)
    assert.deepEqual(anthropicImageBlock(b64 as ImageSource), anthImage)
  })

  it('law: a source read back from its Anthropic block is the same source', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            kind: fc.constant('base64' as const),
            mediaType: fc.constantFrom('image/png', 'image/jpeg'),
            data: fc.base64String(),
          }),
          fc.record({ kind: fc.constant('url' as const), url: fc.webUrl() }),
        ),
        (s) => assert.deepEqual(imageSource(anthropicImageBlock(s)), { ...s }),
      ),
    )
  })

  it("the earlier turns' images in order, a tool result's included; or the last user turn's alone", () => {
    const other = { type: 'image', source: { type: 'url', url: 'https://x.test/b.png' } }
    const body = {
      messages: [
        { role: 'user', content: [anthImage] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'read', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [other] }] },
        { role: 'assistant', content: 'seen' },
        { role: 'user', content: [anthImage, { type: 'text', text: 'and this?' }] },
      ],
    }
    assert.deepEqual(imageSourcesOf(body, 'earlier').map(imageKey), [PNG, 'https://x.test/b.png'])
    assert.deepEqual(imageSourcesOf(body, 'last').map(imageKey), [PNG])
  })

  it('a description stands where its image was; an image without one gets the plain line', () => {
    const other = { type: 'image', source: { type: 'url', url: 'https://x.test/b.png' } }
    const body = {
      messages: [
        { role: 'user', content: [anthImage, other] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'go on' },
      ],
    }
    const out = imagesAsText(body, 'openai', {
      describe: (s) => (s && imageKey(s) === PNG ? 'a red square' : undefined),
    })
    assert.deepEqual((out.messages as { content: unknown }[])[0]!.content, [
      { type: 'text', text: 'a red square' },
      { type: 'text', text: IMAGE_OMITTED },
    ])
  })
})
