import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Child } from './stress/proc.ts'
import { PATHS, requestBody, runStreams } from './stress/run.ts'
import { startForwarder, startMockProcess, viaProxy } from './stress/switchyard.ts'

const isBun = 'Bun' in globalThis

describe(
  'the floor forwarder (bench --floor [--tap])',
  { skip: !isBun && 'a Bun program; runs under bun test' },
  () => {
    let mock: Child
    before(async () => {
      mock = await startMockProcess()
    })
    after(async () => {
      await mock?.stop()
    })

    for (const tap of [false, true]) {
      it(`${tap ? 'reading the answer in JS (--tap)' : 'piping the answer'}: every stream arrives whole and checked`, async () => {
        const fwd = await startForwarder(mock.url, tap)
        try {
          assert.equal((await fetch(`${fwd.url}/health`)).status, 200)
          const r = await runStreams({
            url: fwd.url,
            clientFormat: 'anthropic',
            streams: 5,
            chunks: 8,
            tokensPerChunk: 2,
            model: viaProxy('mock-stream:chunks=8:delay=2:tokens=2'),
            timeoutMs: 10_000,
          })
          assert.deepEqual([r.completed, r.failed, r.sampleErrors], [5, 0, []])
          // A JSON answer arrives whole, with the mock's usage in it.
          const res = await fetch(`${fwd.url}${PATHS.anthropic}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
            body: requestBody('anthropic', viaProxy('mock-json:chunks=3:tokens=2'), false),
          })
          const json = (await res.json()) as { type?: string; usage?: { output_tokens?: number } }
          assert.deepEqual([res.status, json.type, json.usage?.output_tokens], [200, 'message', 6])
        } finally {
          await fwd.stop()
        }
      })
    }
  },
)
