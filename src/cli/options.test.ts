import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BUILTIN_COMMANDS, type CliOptions, parseCli, unexpectedWord } from './options.ts'
import { COMMANDS } from './commands.ts'

const parsed = (argv: string[], env: Record<string, string> = {}): CliOptions => {
  const o = parseCli(argv, env)
  assert.ok('command' in o && 'rest' in o, JSON.stringify(o))
  return o as CliOptions
}

describe('the command line', () => {
  it('a lone `--` (as `deno task start -- --port N` passes it) does not turn options into words', () => {
    const o = parsed(['start', '--', '--port', '3481', '--host', '0.0.0.0'])
    assert.equal(o.port, 3481)
    assert.equal(o.host, '0.0.0.0')
    assert.equal(unexpectedWord(o), undefined)
    assert.equal(parsed(['--', '--port', '3482']).port, 3482)
  })

  it('a word the command does not take is reported, not ignored', () => {
    assert.equal(unexpectedWord(parsed(['start', '3481'])), '3481')
    assert.equal(unexpectedWord(parsed(['status', 'now'])), 'now')
    assert.equal(unexpectedWord(parsed(['perf', 'export', 'f.json', 'g.json'])), 'g.json')
    assert.equal(unexpectedWord(parsed(['model', 'set', 'default', 'p,m', 'x'])), 'x')
    assert.equal(unexpectedWord(parsed(['help', 'start', 'now'])), 'now')
  })

  it('the words a command takes are its own', () => {
    assert.deepEqual(parsed(['perf', 'import', 'f.json', '--merge']).rest, ['import', 'f.json'])
    assert.equal(unexpectedWord(parsed(['model', 'set', 'default', 'p,m'])), undefined)
    assert.equal(unexpectedWord(parsed(['help', 'code'])), undefined)
    // Claude Code's arguments after `code` are passed through, words and flags alike.
    const code = parsed(['code', '-p', 'hello', 'world'])
    assert.deepEqual(code.passthrough, ['-p', 'hello', 'world'])
    assert.equal(unexpectedWord(code), undefined)
  })

  it("CCR's SERVICE_PORT is the port when --port is not given; a bad value is an error naming it", () => {
    assert.equal(parsed(['start'], { SERVICE_PORT: '4100' }).port, 4100)
    assert.equal(parsed(['status', '--port', '4200'], { SERVICE_PORT: '4100' }).port, 4200)
    assert.equal(parsed(['code'], { SERVICE_PORT: '' }).port, undefined, 'set but empty: the config decides')
    assert.equal(parsed(['code']).port, undefined)
    assert.throws(
      () => parseCli(['start'], { SERVICE_PORT: 'http' }),
      /^Error: SERVICE_PORT: expected a whole number, got "http"$/,
    )
    assert.throws(() => parseCli(['start', '--port', 'x']), /^Error: --port: expected a whole number/)
    assert.throws(() => parseCli(['start', '--port', ' ']), /--port: expected a whole number/)
  })

  it('preset and any word that is no command keep what follows (a preset run: `switchyard team -p hi`)', () => {
    assert.deepEqual(parsed(['--port', '4000', 'preset', 'export', 'x', '--author', 'a']).passthrough, [
      'export',
      'x',
      '--author',
      'a',
    ])
    const run = parsed(['team', '-p', 'hi', '--model', 'm'])
    assert.deepEqual([run.command, run.passthrough], ['team', ['-p', 'hi', '--model', 'm']])
    assert.deepEqual(parsed(['status', '--port', '4000']).passthrough, [], 'a built-in command keeps its options')
  })

  it('the built-in command words are exactly the commands there are (and help)', () => {
    assert.deepEqual([...BUILTIN_COMMANDS].sort(), [...Object.keys(COMMANDS), 'help'].sort())
  })

  it("CCR 2.0's --verbose is an option of every command (it used to be an unknown option)", () => {
    assert.equal(parsed(['--verbose', 'start']).verbose, true)
    assert.equal(parsed(['start']).verbose, undefined)
  })
})
