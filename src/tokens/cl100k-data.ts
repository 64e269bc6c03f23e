/**
 * The cl100k_base rank file (`cl100k.bin` beside this module, written by scripts/cl100k-data.ts
 * from the `.tiktoken` file gpt-tokenizer ships): the tokens in rank order, each a length byte
 * (0 = unused rank) followed by its bytes. `cl100k.ts` reads it once, to build its table on the
 * first count, and keeps nothing of it: as a module (a 1 MB base64 literal) the same data stayed
 * in memory for the life of the process, its source and its string, ~2.3 MB of RSS under Bun and
 * ~3–4.5 MB under Deno (docs/benchmarks.md, "Fifth pass"). The one file a pure folder reads: data
 * that ships with the code, like an import. `npm run build` embeds it in the compiled binary
 * (`--asset-naming=[name].[ext]` keeps its name, and there every module's URL is the binary's,
 * so the same relative URL finds it).
 */
import { readFileSync } from 'node:fs'

export const cl100kRankFile = (): Uint8Array => readFileSync(new URL('./cl100k.bin', import.meta.url))
