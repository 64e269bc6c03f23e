import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeBase64Prefix, FLAT_IMAGE_TOKENS, imageSize, imageTokens, imageTokensForSize } from './images.ts'

const b64 = (bytes: number[]): string => btoa(String.fromCharCode(...bytes))

describe('image token rule', () => {
  it('reads a JPEG frame size past an APP segment', () => {
    const app0 = [0xff, 0xe0, 0x00, 0x06, 1, 2, 3, 4]
    const sof0 = [0xff, 0xc0, 0x00, 0x11, 8, 0x01, 0x90, 0x02, 0x58, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    const bytes = [0xff, 0xd8, ...app0, ...sof0]
    assert.deepEqual(imageSize(new Uint8Array(bytes)), { width: 600, height: 400 })
    assert.equal(imageTokens(b64(bytes)), Math.ceil((600 * 400) / 750))
  })

  it('scales the long edge to 1568 px and caps at the flat count', () => {
    assert.equal(imageTokensForSize(750, 1), 1)
    assert.equal(imageTokensForSize(4000, 4000), FLAT_IMAGE_TOKENS)
    assert.equal(imageTokensForSize(3136, 100), Math.ceil((1568 * 50) / 750))
  })

  it('falls back to the flat count for unknown or broken data', () => {
    assert.equal(imageTokens('R0lGODlhAQABAAAAACw='), FLAT_IMAGE_TOKENS)
    assert.equal(imageTokens('!!!'), FLAT_IMAGE_TOKENS)
    assert.equal(imageTokens(undefined), FLAT_IMAGE_TOKENS)
  })

  it('law: decodeBase64Prefix inverts btoa for any byte string', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 90 }), (bytes) => {
      assert.deepEqual([...decodeBase64Prefix(b64([...bytes]), 1000)], [...bytes])
    }))
  })

  it('law: image tokens are always within [1, flat cap]', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 1, max: 20000 }), (w, h) => {
      const n = imageTokensForSize(w, h)
      assert.ok(n >= 1 && n <= FLAT_IMAGE_TOKENS)
    }))
  })
})
