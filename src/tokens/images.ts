/**
 * Image token rule. Anthropic documents `tokens ≈ width × height / 750` for an image that is
 * not resized (https://docs.anthropic.com/en/docs/build-with-claude/vision#calculate-image-costs),
 * and downsizes anything whose long edge exceeds 1568 px or that would cost more than about
 * 1,600 tokens (≈ 1.15 megapixels), so one image never counts more than that.
 * We read the dimensions from the PNG or JPEG header inside the base64 data; when they cannot be
 * read (URL sources, other formats, a truncated header) we count the flat cap.
 */

/** Tokens counted for an image whose size we cannot read; also the per-image ceiling. */
export const FLAT_IMAGE_TOKENS = 1600
const MAX_EDGE = 1568
/** Base64 characters decoded at most while looking for a JPEG SOF marker (EXIF can be long). */
const MAX_HEADER_B64 = 96 * 1024

const B64 = new Int16Array(128).fill(-1)
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i
})

/** Decode up to `maxChars` leading base64 characters (stops at padding or a bad character). */
export function decodeBase64Prefix(b64: string, maxChars: number): Uint8Array {
  const n = Math.min(b64.length, maxChars) & ~3
  const out = new Uint8Array((n / 4) * 3)
  let o = 0
  for (let i = 0; i < n; i += 4) {
    const a = B64[b64.charCodeAt(i)] ?? -1, b = B64[b64.charCodeAt(i + 1)] ?? -1
    const c = B64[b64.charCodeAt(i + 2)] ?? -1, d = B64[b64.charCodeAt(i + 3)] ?? -1
    if (a < 0 || b < 0) break
    out[o++] = (a << 2) | (b >> 4)
    if (c < 0) break
    out[o++] = ((b & 15) << 4) | (c >> 2)
    if (d < 0) break
    out[o++] = ((c & 3) << 6) | d
  }
  return out.subarray(0, o)
}

/** Width and height from a PNG IHDR or a JPEG SOFn segment, else undefined. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return { width: v.getUint32(16), height: v.getUint32(20) }
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes)
  return undefined
}

function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let i = 2
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined
    const marker = b[i + 1] ?? 0
    const len = ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)
    // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = ((b[i + 5] ?? 0) << 8) | (b[i + 6] ?? 0)
      const width = ((b[i + 7] ?? 0) << 8) | (b[i + 8] ?? 0)
      return { width, height }
    }
    i += 2 + len
  }
  return undefined
}

/**
 * Tokens for an image of the given size: scaled so the long edge is at most 1568 px, then
 * `ceil(w × h / 750)`, capped at {@link FLAT_IMAGE_TOKENS}.
 * @example imageTokensForSize(1000, 1000) // 1334
 */
export function imageTokensForSize(width: number, height: number): number {
  if (width <= 0 || height <= 0) return FLAT_IMAGE_TOKENS
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height))
  // A very thin image still keeps at least one pixel per edge after scaling.
  const w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale))
  const tokens = Math.ceil((w * h) / 750)
  return Math.min(tokens, FLAT_IMAGE_TOKENS)
}

/** Tokens for base64 image data (no `data:` prefix), falling back to the flat count. */
export function imageTokens(base64: string | undefined): number {
  if (base64 === undefined || base64.length === 0) return FLAT_IMAGE_TOKENS
  const size = imageSize(decodeBase64Prefix(base64, MAX_HEADER_B64))
  return size === undefined ? FLAT_IMAGE_TOKENS : imageTokensForSize(size.width, size.height)
}
