import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import JSON5 from 'json5'
import fc from 'fast-check'
import { redactConfig } from './redact.ts'
import { applyValue, lineOfIssue, redactText, restoreRedacted, restoreRedactedValue, setJson5Value } from './write.ts'

/** The parsed test file, as far as the tests look into it. */
type Cfg = { Router: Record<string, string>; Providers: { api_key?: string }[]; [key: string]: unknown }
const parse = (text: string) => JSON5.parse(text) as Cfg

const FILE = `{
  // the key clients send
  "APIKEY": "$SWITCHYARD_KEY",
  "PORT": 3456,
  Providers: [
    { "name": "deepseek", "api_base_url": "https://api.deepseek.com/chat/completions",
      "api_key": "sk-literal-secret", "models": ["deepseek-chat"] }, // literal key, on purpose
    { name: 'local', api_base_url: "http://127.0.0.1:9/v1/messages", api_key: "\${LOCAL_KEY}", models: ['m'] },
  ],
  "Router": { "default": "deepseek,deepseek-chat" /* the usual */ },
  "CUSTOM_THING": { "kept": true }, // unknown to Switchyard
}
`

describe('config/write', () => {
  it('applyValue changes one value and keeps comments, $VAR references, unknown keys and their order', () => {
    const v = parse(FILE)
    v.Router.default = 'local,m'
    const out = applyValue(FILE, v)
    assert.equal(out, FILE.replace('"default": "deepseek,deepseek-chat"', '"default": "local,m"'))
  })

  it('applyValue removes and adds keys without breaking the syntax', () => {
    const v = parse(FILE)
    delete v.CUSTOM_THING
    v.LOG = true
    v.Router.think = 'local,m'
    const out = applyValue(FILE, v)
    assert.deepEqual(JSON5.parse(out), v)
    assert.match(out, /\/\/ the key clients send/)
    assert.match(out, /\/\* the usual \*\//)
    assert.doesNotMatch(out, /unknown to Switchyard/)
    const w = parse(FILE)
    delete w.Router.default
    assert.deepEqual(JSON5.parse(applyValue(FILE, w)), w)
    const x = { ...parse(FILE), Providers: [] }
    assert.deepEqual(JSON5.parse(applyValue(FILE, x)), x)
  })

  it('applyValue(text, v) always parses to v, from JSON or JSON5 text with comments (property)', () => {
    // Keys and strings from a small alphabet so that edits collide with existing keys often.
    const key = fc.constantFrom('a', 'b', 'c', 'Router', 'api_key', 'k-1', '$x')
    const leaf = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('', 'x', '$VAR', '${V}', 'a "q"', "it's", 'line\nbreak', '// not a comment'),
    )
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    }))
    const obj = fc.dictionary(key, value, { maxKeys: 6, noNullPrototype: true })
    const styles = [
      (v: unknown) => JSON.stringify(v, null, 2),
      (v: unknown) => JSON5.stringify(v, null, 2),
      (v: unknown) => `// header\n${JSON.stringify(v, null, 2).replace(/,\n/g, ', // note\n')}\n/* end */\n`,
      (v: unknown) => JSON.stringify(v),
    ]
    fc.assert(
      fc.property(obj, obj, fc.integer({ min: 0, max: styles.length - 1 }), (a, b, s) => {
        const text = styles[s]!(a)
        assert.deepEqual(JSON5.parse(applyValue(text, b)), b)
        // Shown redacted and saved back untouched, the file comes back byte for byte, with no secret shown.
        const shown = redactText(text, redactConfig)
        const back = restoreRedacted(shown, text, redactConfig)
        assert.ok(back.ok && back.text === text, shown)
        assert.deepEqual(JSON5.parse(shown), redactConfig(a))
      }),
      { numRuns: 300 },
    )
  })

  it('setJson5Value sets one path', () => {
    const out = setJson5Value(FILE, ['Router', 'background'], 'local,m')
    assert.equal(parse(out).Router.background, 'local,m')
    assert.match(out, /"\$\{LOCAL_KEY\}"/)
  })

  it('redactText hides literal secrets only, and restoreRedacted puts them back', () => {
    const shown = redactText(FILE, redactConfig)
    assert.doesNotMatch(shown, /sk-literal-secret/)
    assert.match(shown, /"api_key": "\*\*\*"/)
    assert.match(shown, /\$SWITCHYARD_KEY/)
    assert.match(shown, /literal key, on purpose/)
    const edited = shown.replace('"PORT": 3456', '"PORT": 4000')
    const r = restoreRedacted(edited, FILE, redactConfig)
    assert.ok(r.ok)
    assert.equal(r.text, FILE.replace('"PORT": 3456', '"PORT": 4000'))
  })

  it('a redacted value that moved is refused with its path', () => {
    const shown = redactText(FILE, redactConfig)
    const v = parse(shown)
    v.Providers.reverse()
    const r = restoreRedacted(JSON.stringify(v), FILE, redactConfig)
    assert.equal(r.ok, false)
    assert.match(!r.ok ? r.errors[0]! : '', /^Providers\[1\]\.api_key: holds a redacted value/)
    const o = restoreRedactedValue(v, JSON5.parse(FILE), redactConfig)
    assert.equal(o.ok, false)
    const same = restoreRedactedValue(JSON5.parse(shown), JSON5.parse(FILE), redactConfig)
    assert.deepEqual(same.ok && same.value, JSON5.parse(FILE))
  })

  it('works with a redaction that hides whole values (an allow-list hiding unknown keys) and with shadowed duplicate keys', () => {
    const hideUnknown = (raw: unknown) => {
      const r = redactConfig(raw) as Record<string, unknown>
      return { ...r, CUSTOM_THING: '***' }
    }
    const shown = redactText(FILE, hideUnknown)
    assert.match(shown, /"CUSTOM_THING": "\*\*\*", \/\/ unknown to Switchyard/)
    const back = restoreRedacted(shown.replace('"PORT": 3456', '"PORT": 4000'), FILE, hideUnknown)
    assert.ok(back.ok)
    assert.equal(back.text, FILE.replace('"PORT": 3456', '"PORT": 4000'))
    const dup = '{ "api_key": "sk-shadowed", "api_key": "$K" }'
    assert.doesNotMatch(redactText(dup, redactConfig), /sk-shadowed/)
  })

  it('lineOfIssue points at the value a validation error names', () => {
    assert.equal(lineOfIssue(FILE, 'Router.default: provider "x" is not in Providers'), 10)
    assert.equal(lineOfIssue(FILE, 'Providers[1].api_base_url: bad'), 8)
  })
})
