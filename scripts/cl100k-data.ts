/**
 * Generates src/tokens/cl100k.bin, the compact cl100k_base rank file the estimator tokenizes
 * with (read by src/tokens/cl100k-data.ts for src/tokens/cl100k.ts), from the `.tiktoken` file
 * gpt-tokenizer ships (`gpt-tokenizer/data/cl100k_base.tiktoken`: one `base64(token bytes) rank`
 * per line), or checks that the committed file is current (`check`).
 *
 * Format: the tokens in rank order, each as one length byte (1–255; 0 marks an unused rank)
 * followed by its bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const FILE = 'src/tokens/cl100k.bin'
const source = createRequire(import.meta.url).resolve('gpt-tokenizer/data/cl100k_base.tiktoken')
const byRank: Uint8Array[] = []
for (const line of readFileSync(source, 'utf8').split('\n')) {
  if (!line) continue
  const [b64, rank] = line.split(' ')
  byRank[Number(rank)] = new Uint8Array(Buffer.from(b64!, 'base64'))
}
const parts: number[] = []
for (let r = 0; r < byRank.length; r++) {
  const t = byRank[r]
  if (!t) {
    parts.push(0)
    continue
  }
  if (t.length > 255) throw new Error(`token ${r} is ${t.length} bytes`)
  parts.push(t.length, ...t)
}
const out = new Uint8Array(parts)
if ((process.argv[2] ?? 'check') === 'write') {
  writeFileSync(FILE, out)
  console.log(`wrote ${FILE} (${out.length} bytes, ${byRank.length} ranks)`)
} else if (!Buffer.from(readFileSync(FILE)).equals(out)) {
  console.error(`${FILE} is stale: run \`bun scripts/cl100k-data.ts write\``)
  process.exitCode = 1
}
