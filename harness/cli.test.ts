import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mockModel, parseHarnessArgs } from './cli.ts'

describe('harness CLI arguments', () => {
  it('defaults to the CI run shape and reads every flag', () => {
    const d = parseHarnessArgs(['--streams', '100', '--chunks', '20'])
    assert.deepEqual(d && [d.command, d.streams, d.chunks, d.delayMs, d.clientFormat, d.format, d.target], [
      'stress',
      100,
      20,
      10,
      'anthropic',
      'openai',
      undefined,
    ])
    const b = parseHarnessArgs([
      'bench',
      '--format',
      'anthropic',
      '--client-format',
      'openai',
      '--delay-ms',
      '5',
      '--json',
      'out.json',
      '--target',
      'http://127.0.0.1:3456/',
    ])
    assert.deepEqual(b && [b.command, b.format, b.clientFormat, b.delayMs, b.json, b.target], [
      'bench',
      'anthropic',
      'openai',
      5,
      'out.json',
      'http://127.0.0.1:3456',
    ])
    assert.equal(parseHarnessArgs(['--help']), undefined)
  })

  it('refuses targets off this machine, unknown formats and unknown commands', () => {
    assert.throws(() => parseHarnessArgs(['--target', 'https://api.example.com']), /only sends load to this machine/)
    assert.throws(() => parseHarnessArgs(['--format', 'cohere']), /Invalid format "cohere"/)
    assert.throws(() => parseHarnessArgs(['--client', 'gemini-ish']), /Invalid format "gemini-ish"/)
    assert.deepEqual([
      parseHarnessArgs(['--client', 'responses', '--upstream', 'gemini'])?.clientFormat,
      parseHarnessArgs(['--client', 'responses', '--upstream', 'gemini'])?.format,
    ], ['responses', 'gemini'])
    assert.throws(() => parseHarnessArgs(['stres']), /Unknown command "stres"/)
    assert.throws(() => parseHarnessArgs(['--streams=-3']), /Invalid --streams/)
    assert.throws(() => parseHarnessArgs(['--streams', 'many']), /Invalid --streams/)
    assert.throws(() => parseHarnessArgs(['--cut-rate', '1.5']), /Invalid --cut-rate/)
  })

  it('reads the recovery command and its flags', () => {
    const r = parseHarnessArgs(['recovery', '--outage-s', '60', '--every-ms', '4000'])
    assert.deepEqual(r && [r.command, r.outageS, r.everyMs], ['recovery', 60, 4000])
  })

  it('reads --cut-rate (default 0: nothing is cut)', () => {
    assert.equal(parseHarnessArgs([])?.cutRate, 0)
    assert.equal(parseHarnessArgs(['--cut-rate', '0.2'])?.cutRate, 0.2)
  })

  it('reads the fleet command and its instance count (at least two: one fleet needs company)', () => {
    const f = parseHarnessArgs(['fleet', '--instances', '3', '--quick'])
    assert.deepEqual(f && [f.command, f.instances, f.quick, f.timeoutS], ['fleet', 3, true, 300])
    assert.equal(parseHarnessArgs(['fleet', '--instances', '1'])?.instances, 2)
    assert.deepEqual([parseHarnessArgs(['bench', '--fleet', '--limits'])].map((b) => b && [b.fleet, b.limits]), [[
      true,
      true,
    ]])
    assert.equal(parseHarnessArgs(['bench'])?.limits, false)
    assert.equal(parseHarnessArgs([])?.instances, 3)
  })

  it('reads the burst-only bench: --only streams, the proxy runtime and another checkout as --root', () => {
    const b = parseHarnessArgs(['bench', '--only', 'streams', '--runtime', 'deno', '--root', '/tmp/x/'])
    assert.deepEqual(b && [b.command, b.only, b.runtime, b.root], ['bench', 'streams', 'deno', '/tmp/x'])
    const d = parseHarnessArgs(['bench'])
    assert.deepEqual(d && [d.only, d.runtime, d.root], [undefined, 'bun', undefined])
    assert.throws(() => parseHarnessArgs(['bench', '--only', 'json']), /Invalid --only "json"/)
    assert.throws(() => parseHarnessArgs(['bench', '--runtime', 'node']), /Invalid --runtime "node"/)
  })

  it('reads --floor, and refuses it across formats (the forwarder does not translate)', () => {
    const f = parseHarnessArgs(['bench', '--floor', '--upstream', 'anthropic'])
    assert.deepEqual(f && [f.floor, f.format, f.clientFormat], [true, 'anthropic', 'anthropic'])
    assert.equal(parseHarnessArgs(['bench'])?.floor, undefined)
    assert.throws(() => parseHarnessArgs(['bench', '--floor']), /same --client and --upstream/)
  })

  it('refuses with --floor what only a started Switchyard or another proxy can do', () => {
    const anth = ['--upstream', 'anthropic']
    assert.equal(parseHarnessArgs(['--floor', '--tap', ...anth])?.command, 'stress')
    assert.throws(() => parseHarnessArgs(['bench', '--floor', ...anth, '--root', '/tmp']), /do not apply/)
    assert.throws(() => parseHarnessArgs(['--floor', ...anth, '--runtime', 'deno']), /do not apply/)
    assert.throws(() => parseHarnessArgs(['--floor', ...anth, '--target', 'http://127.0.0.1:9']), /do not apply/)
    assert.throws(() => parseHarnessArgs(['--floor', ...anth, '--cut-rate', '0.3']), /passes the cut on/)
  })

  it('reads --tap as a variant of the --floor forwarder only', () => {
    const t = parseHarnessArgs(['bench', '--floor', '--tap', '--upstream', 'anthropic'])
    assert.deepEqual(t && [t.floor, t.tap], [true, true])
    assert.equal(parseHarnessArgs(['bench', '--floor', '--upstream', 'anthropic'])?.tap, undefined)
    assert.throws(() => parseHarnessArgs(['bench', '--tap', '--upstream', 'anthropic']), /give --floor too/)
  })

  it('puts the run shape into the mock model knobs', () => {
    assert.equal(mockModel({ chunks: 7, delayMs: 3, tokens: 2 }), 'mock-model:chunks=7:delay=3:tokens=2')
  })
})
