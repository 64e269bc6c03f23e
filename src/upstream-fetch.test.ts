import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { createUpstreamFetch, isLoopback, proxyFor, proxySettings } from './upstream-fetch.ts'

const P = 'http://proxy.corp:3128'

describe('proxySettings', () => {
  it('the config proxy (PROXY_URL / HTTPS_PROXY keys) wins over the environment, for both schemes', () => {
    const s = proxySettings({ proxyUrl: P }, { HTTPS_PROXY: 'http://env:1', HTTP_PROXY: 'http://env:2' })
    assert.deepEqual([s.http, s.https], [P, P])
  })

  it('from the environment: HTTPS_PROXY for https, HTTP_PROXY for http, either case, ALL_PROXY last', () => {
    assert.deepEqual(proxySettings({}, { https_proxy: 'http://s:1', HTTP_PROXY: 'http://h:2' }), {
      https: 'http://s:1',
      http: 'http://h:2',
      noProxy: [],
    })
    const all = proxySettings({}, { ALL_PROXY: 'http://a:3', NO_PROXY: ' Example.com, .corp ,10.0.0.1:8080' })
    assert.deepEqual(all, {
      https: 'http://a:3',
      http: 'http://a:3',
      noProxy: ['example.com', '.corp', '10.0.0.1:8080'],
    })
    assert.deepEqual(proxySettings({}, { HTTPS_PROXY: '  ' }), { https: undefined, http: undefined, noProxy: [] })
  })
})

describe('proxyFor', () => {
  const s = (noProxy: string[] = []) => ({ http: P, https: P, noProxy })

  it('law: loopback hosts are always direct, whatever NO_PROXY says', () => {
    const octet = fc.integer({ min: 0, max: 255 })
    fc.assert(fc.property(octet, octet, octet, fc.integer({ min: 1, max: 65535 }), (a, b, c, port) => {
      assert.equal(proxyFor(`http://127.${a}.${b}.${c}:${port}/v1/messages`, s()), undefined)
    }))
    for (
      const u of ['http://localhost:11434/v1', 'https://LOCALHOST/x', 'http://[::1]:8080/', 'http://api.localhost/']
    ) assert.equal(proxyFor(u, s()), undefined, u)
    assert.equal(isLoopback('127.0.0.1.example.com'), false)
  })

  it('law: a NO_PROXY domain covers itself and every subdomain, and nothing that merely ends with its text', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/)
    fc.assert(fc.property(label, label, fc.array(label, { maxLength: 3 }), fc.boolean(), (name, tld, subs, dotted) => {
      const domain = `${name}.${tld}`
      const entry = dotted ? `.${domain}` : domain
      assert.equal(proxyFor(`https://${[...subs, domain].join('.')}/v1`, s([entry])), undefined)
      assert.equal(proxyFor(`https://x${domain}/v1`, s([entry])), P)
    }))
  })

  it('host:port entries match that port only; * turns the proxy off; other schemes never proxy', () => {
    assert.equal(proxyFor('http://10.0.0.1:8080/v1', s(['10.0.0.1:8080'])), undefined)
    assert.equal(proxyFor('http://10.0.0.1:9090/v1', s(['10.0.0.1:8080'])), P)
    assert.equal(proxyFor('https://api.example.com/v1', s(['api.example.com:443'])), undefined)
    assert.equal(proxyFor('https://api.example.com/v1', s(['*'])), undefined)
    assert.equal(proxyFor('https://api.example.com/v1', s(['*.example.com'])), undefined)
    assert.equal(proxyFor('ftp://api.example.com/', s()), undefined)
    assert.equal(proxyFor('not a url', s()), undefined)
    assert.equal(proxyFor('https://api.example.com/', { noProxy: [] }), undefined, 'no proxy configured')
  })
})

describe('createUpstreamFetch', () => {
  it('sends proxied URLs through one pooled client per proxy and the rest directly; close() closes the clients', async () => {
    const seen: string[] = []
    let made = 0
    let closed = 0
    const f = createUpstreamFetch({}, { HTTPS_PROXY: P, NO_PROXY: 'internal.corp' }, {
      direct: async (req) => {
        seen.push(`direct ${req.url}`)
        return new Response('d')
      },
      viaProxy: (proxy) => {
        made++
        return {
          fetch: async (req) => {
            seen.push(`${proxy} ${req.url}`)
            return new Response('p')
          },
          close: () => {
            closed++
          },
        }
      },
    })
    assert.equal(await (await f(new Request('https://api.example.com/v1'))).text(), 'p')
    assert.equal(await (await f(new Request('https://api.other.com/v1'))).text(), 'p')
    assert.equal(await (await f(new Request('https://svc.internal.corp/v1'))).text(), 'd')
    assert.equal(await (await f(new Request('http://127.0.0.1:9/v1'))).text(), 'd')
    assert.deepEqual(seen, [
      `${P} https://api.example.com/v1`,
      `${P} https://api.other.com/v1`,
      'direct https://svc.internal.corp/v1',
      'direct http://127.0.0.1:9/v1',
    ])
    assert.equal(made, 1)
    f.close()
    assert.equal(closed, 1)
  })

  it('a real forward proxy on 127.0.0.1 receives the absolute-form request for a proxied http:// upstream', async () => {
    const got: string[] = []
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        got.push(`${req.method} ${req.url} ${body}`)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ via: 'proxy' }))
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as AddressInfo).port
    const f = createUpstreamFetch({ proxyUrl: `http://127.0.0.1:${port}` }, {})
    try {
      const res = await f(
        new Request('http://upstream.test/v1/messages', {
          method: 'POST',
          body: '{"a":1}',
          signal: AbortSignal.timeout(5_000),
        }),
      )
      assert.deepEqual(await res.json(), { via: 'proxy' })
      assert.deepEqual(got, ['POST http://upstream.test/v1/messages {"a":1}'])
      // The proxy's own address is loopback: calls to it (a local model server) stay direct.
      const direct = await f(new Request(`http://127.0.0.1:${port}/local`, { signal: AbortSignal.timeout(5_000) }))
      await direct.text()
      assert.equal(got[1], 'GET /local ')
    } finally {
      f.close()
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})
