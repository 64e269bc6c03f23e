import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import JSON5 from 'json5'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setJson5String, writeConfigFile } from './edit.ts'

const FILE = `// my router config
{
  APIKEY: "$SWITCHYARD_KEY", /* stays a reference */
  'Providers': [
    { "name": "deepseek", "api_base_url": "https://api.deepseek.com/chat/completions", "api_key": "\${DEEPSEEK_API_KEY}", "models": ["deepseek-chat", "deepseek-reasoner"], },
  ],
  "Router": {
    "default": "deepseek,deepseek-chat", // everyday
    "think": 'deepseek,deepseek-chat',
  },
  "myOwnKey": { "x": [1, 2, 0x10, +Infinity] },
}
`

describe('setJson5String', () => {
  it('replaces one value in place: comments, $VAR references, unknown keys and quoting stay', () => {
    const out = setJson5String(FILE, ['Router', 'think'], 'deepseek,deepseek-reasoner')
    assert.equal(out, FILE.replace(`"think": 'deepseek,deepseek-chat'`, `"think": "deepseek,deepseek-reasoner"`))
    assert.equal((JSON5.parse(out) as { Router: { think: string } }).Router.think, 'deepseek,deepseek-reasoner')
  })

  it('adds a missing key, and a missing object, as the first entry', () => {
    const added = setJson5String(FILE, ['Router', 'background'], 'deepseek,deepseek-chat')
    assert.match(added, /"Router": \{\n {4}"background": "deepseek,deepseek-chat",\n {4}"default"/)
    const nested = setJson5String('{ "PORT": 3456 }', ['Router', 'default'], 'a,b')
    assert.deepEqual(JSON5.parse(nested), { Router: { default: 'a,b' }, PORT: 3456 })
    assert.deepEqual(JSON5.parse(setJson5String('{}', ['Router', 'think'], 'a,b')), { Router: { think: 'a,b' } })
  })

  it('law: for any JSON object, setting a string at a path gives exactly that object with that value', () => {
    const key = fc.oneof(
      fc.constantFrom('Router', 'think', 'default', 'a b', "it's", '$x'),
      fc.string({ maxLength: 5 }),
    )
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.array(key, { minLength: 1, maxLength: 3 }),
        fc.string(),
        fc.boolean(),
        (obj, path, value, pretty) => {
          // Only paths whose parents are objects (or missing) can be set.
          let cur: unknown = obj
          for (const k of path.slice(0, -1)) {
            if (cur === undefined) break
            if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return
            cur = Object.hasOwn(cur, k) ? (cur as Record<string, unknown>)[k] : undefined
          }
          if (cur !== undefined && (cur === null || typeof cur !== 'object' || Array.isArray(cur))) return
          const text = JSON.stringify(obj, null, pretty ? 2 : 0)
          const expected = JSON.parse(text) as Record<string, unknown>
          let o = expected
          for (const k of path.slice(0, -1)) {
            if (!Object.hasOwn(o, k)) {
              Object.defineProperty(o, k, { value: {}, enumerable: true, writable: true, configurable: true })
            }
            o = o[k] as Record<string, unknown>
          }
          Object.defineProperty(o, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true })
          const got = JSON5.parse(setJson5String(text, path, value)) as unknown
          assert.deepEqual(got, expected)
        },
      ),
    )
  })

  it('refuses to set inside a value that is not an object', () => {
    assert.throws(() => setJson5String('{ "Router": "x" }', ['Router', 'think'], 'a'), /Router is not an object/)
  })
})

describe('writeConfigFile', () => {
  it('writes atomically, keeps the file mode, and keeps the three newest backups', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-edit-'))
    const path = join(dir, 'config.json')
    writeFileSync(path, 'v0')
    chmodSync(path, 0o600)
    for (let i = 1; i <= 5; i++) writeConfigFile(path, `v${i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, i)))
    assert.equal(readFileSync(path, 'utf8'), 'v5')
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const backups = readdirSync(dir).filter((f) => f.endsWith('.bak')).sort()
    assert.equal(backups.length, 3)
    assert.deepEqual(backups.map((b) => readFileSync(join(dir, b), 'utf8')), ['v2', 'v3', 'v4'])
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [])
  })
})
