/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * against a real instance on 127.0.0.1 (the demo mock upstream behind it, a config file in a
 * temp dir), under Bun and under Deno. Skipped, with the reason printed, when Chromium is
 * missing, except in CI, which installs it and fails without it (.ci/run). `UI_SCREENSHOTS=docs/ui` also writes the screenshots.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startMockServer } from '../../src/demo/server.ts'
import { buildServer, type RunningServer } from '../../src/cli/server.ts'
import { parseConfig } from '../../src/config/load.ts'
import { knownTransformer } from '../../src/formats/index.ts'
import { createLogger } from '../../src/log.ts'
import { uiPageBytes } from '../../src/ui/route.ts'
import { openerFor, runUi } from '../../src/cli/ui.ts'
import { startRedis, type TestRedis } from '../../harness/stress/redis.ts'
import { freePort } from '../../harness/stress/proc.ts'

const API_KEY = 'ui-test-key-not-a-secret'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const chromiumPresent = () => existsSync(CHROMIUM)

/** Fleet mode for the instance: a Redis shared with others, and its name in the fleet. */
interface FleetOpt {
  readonly redis: string
  readonly id: string
}

function configText(mockUrl: string, fleet?: FleetOpt): string {
  return `{
  // Switchyard UI test config: the comment, $VAR references and CUSTOM_UNKNOWN must survive a save.
  "APIKEY": "$SY_UI_KEY",
  "LOG": false,
  "Providers": [
    { "name": "mock", "api_base_url": "${mockUrl}/v1/messages", "api_key": "\${SY_UI_UPSTREAM_KEY}",
      "models": ["fast:ttft=20:delay=5", "slow:ttft=120:delay=20", "bad:status=500"], "transformer": { "use": ["Anthropic"] },
      "pricing": { "input_per_million": 3, "output_per_million": 15 } },
    { "name": "oai", "api_base_url": "${mockUrl}/v1/chat/completions", "api_key": "sk-literal-upstream-secret", "models": ["gpt-mock"] }
  ],
  "Router": { "default": "mock,fast:ttft=20:delay=5", "background": "oai,gpt-mock", "think": "mock,slow:ttft=120:delay=20",
    "minSamples": 1000 },
  "CUSTOM_UNKNOWN": { "keep": ["me", 1] },
  "performance": { "enabled": false, "dailyTokenBudget": 50000 },
  "Alerts": { "evaluateIntervalMs": 300 }${
    fleet
      ? `,
  "Fleet": { "redis": "${fleet.redis}", "instanceId": "${fleet.id}", "keyPrefix": "sy-ui-fleet:", "heartbeatMs": 200, "commandTimeoutMs": 1000 }`
      : ''
  }
}
`
}

interface UiInstance {
  readonly url: string
  readonly path: string
  readonly dir: string
  readonly server: RunningServer
  stop(): Promise<void>
}

async function startUiInstance(fleet?: FleetOpt): Promise<UiInstance> {
  const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
  const dir = mkdtempSync(join(tmpdir(), 'sy-ui-'))
  const path = join(dir, 'config.json')
  writeFileSync(path, configText(mock.url, fleet))
  const env = { SY_UI_KEY: API_KEY, SY_UI_UPSTREAM_KEY: 'sk-env-upstream' }
  const parsed = parseConfig(configText(mock.url, fleet), env, { knownTransformer })
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  // Two preset files: one the service serves (its own provider, an input not answered), one it skips.
  mkdirSync(join(dir, 'presets', 'team'), { recursive: true })
  writeFileSync(
    join(dir, 'presets', 'team', 'manifest.json'),
    JSON.stringify({
      name: 'team',
      version: '1.2.0',
      Providers: [{ name: 'o', api_base_url: `${mock.url}/v1/chat/completions`, api_key: '{{key}}', models: ['t'] }],
      Router: { default: 'o,t' },
      schema: [{ id: 'key', label: 'Key' }],
    }),
  )
  writeFileSync(join(dir, 'presets', 'broken.json'), JSON.stringify({ route: 'nowhere,x' }))
  const server = await buildServer(parsed.value.config, {
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'data'),
    log: createLogger({ enabled: false }),
    configPath: path,
    env,
    rawConfig: parsed.value.raw,
    presetDir: join(dir, 'presets'),
  })
  return {
    url: server.url,
    path,
    dir,
    server,
    stop: async () => {
      await server.shutdown(1000)
      await mock.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Sends `n` requests to `model` (non-streaming and streaming alternately), ignoring failures. */
async function traffic(url: string, model: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) =>
    fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({
        model,
        max_tokens: 64,
        stream: i % 2 === 1,
        messages: [{ role: 'user', content: `hello ${i}` }],
      }),
    }).then((r) => r.text()).catch(() => '')))
}

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--mute-audio',
  '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication',
]

const skip = chromiumPresent() || process.env.SWITCHYARD_REQUIRE_BROWSER
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install chromium)`
if (skip) console.log(`ui browser tests skipped: ${skip}`)

type Browser = import('playwright-core').Browser
type Page = import('playwright-core').Page

const VIEWS = [
  'overview',
  'targets',
  'alerts',
  'usage',
  'tokens',
  'performance',
  'requests',
  'fleet',
  'config',
] as const

describe('dashboard in Chromium', { skip }, () => {
  let ui: UiInstance
  let browser: Browser
  let page: Page
  const consoleErrors: string[] = []
  const offInstance: string[] = []

  before(async () => {
    ui = await startUiInstance()
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    page = await ctx.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`))
    page.on('request', (r) => {
      if (!r.url().startsWith(`${ui.url}/`) && !/^(data|blob):/.test(r.url())) offInstance.push(r.url())
    })
    await traffic(ui.url, 'mock,fast:ttft=20:delay=5', 6)
  })
  after(async () => {
    await browser?.close()
    await ui?.stop()
  })

  const open = async (view: string) => {
    await page.goto(`${ui.url}/ui/#${view}`)
    await page.waitForSelector(`main[data-view="${view}"][data-updated]`, { timeout: 10_000 })
  }

  it('asks for the API key, keeps it for the tab, and then shows data', async () => {
    await page.goto(`${ui.url}/ui/`)
    await page.waitForSelector('dialog#login[open]', { timeout: 10_000 })
    await page.fill('#login-key', API_KEY)
    await page.click('#login-form button[type=submit]')
    await page.waitForSelector('main[data-view="overview"][data-updated]', { timeout: 10_000 })
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchyard.apiKey')), API_KEY)
    // The 401 of the first load is the only failed request; it is not a console error of the page's own.
    consoleErrors.length = 0
  })

  it('renders every view with no console error and no request off the instance, first paint under 1 s', async () => {
    for (const v of VIEWS) {
      await open(v)
      assert.ok((await page.locator('main').innerText()).length > 40, `${v} is empty`)
    }
    // Keyboard: the view tabs are links in the tab order, and Enter opens one.
    await page.focus('#tabs a[href="#usage"]')
    await page.keyboard.press('Enter')
    await page.waitForSelector('main[data-view="usage"][data-updated]')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')])
    const csv = readFileSync((await download.path())!, 'utf8')
    assert.match(csv, /^day_utc,tier,target,requests,errors,input_tokens,output_tokens,cost_usd\n\d{4}-\d\d-\d\d,/)
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1)
    assert.ok(fcp > 0 && fcp < 1000, `first contentful paint ${fcp} ms`)
    console.log(`ui: first contentful paint ${Math.round(fcp)} ms, page weight ${await uiPageBytes()} bytes`)
    await page.goto(`${ui.url}/docs`)
    await page.waitForFunction(() => document.body.innerText.includes('Switchyard'), undefined, { timeout: 20_000 })
    assert.deepEqual(offInstance, [])
    assert.deepEqual(consoleErrors, [])
    const bytes = await uiPageBytes()
    assert.ok(bytes < 150_000, `page weight ${bytes} bytes`)
  })

  it('Fleet shows one row per instance when /health has a fleet block', async () => {
    // The fleet block as fleet mode's /health serves it (a single instance here has none).
    await page.route(`${ui.url}/health`, async (route) => {
      const real = await (await route.fetch()).json() as Record<string, unknown>
      await route.fulfill({
        json: {
          ...real,
          fleet: {
            instance_id: 'sy-a',
            state: 'ok',
            redis: 'redis://***@10.0.0.5:6379',
            redis_latency_ms: 0.8,
            perf_leader: true,
            members: [{ id: 'sy-a', ttl_ms: 9000, self: true, version: '0.1.0', host: '10.0.0.1' }, {
              id: 'sy-b',
              ttl_ms: 7000,
              self: false,
              version: '0.1.0',
              host: '10.0.0.2',
            }],
          },
        },
      })
    })
    try {
      await open('fleet')
      assert.equal(await page.locator('#fl tbody tr').count(), 2)
      assert.match(await page.locator('#fl').innerText(), /sy-b[\s\S]*10\.0\.0\.2/)
    } finally {
      await page.unroute(`${ui.url}/health`)
    }
  })

  it('numbers move while traffic flows, and the charts are drawn', async () => {
    await open('requests')
    const rows = async () => Number((await page.locator('#rq-count').innerText()).split(' of ')[1])
    const before = await rows()
    await traffic(ui.url, 'mock,fast:ttft=20:delay=5', 8)
    await page.waitForFunction(
      (n) => Number(document.getElementById('rq-count')?.textContent?.split(' of ')[1]) > n,
      before,
      { timeout: 8_000 },
    )
    assert.ok(await rows() >= before + 8)
    await open('overview')
    const rps = () => page.locator('#stat-rps .value').innerText()
    const first = await rps()
    await traffic(ui.url, 'mock,fast:ttft=20:delay=5', 20)
    await page.waitForFunction((v) => document.querySelector('#stat-rps .value')?.textContent !== v, first, {
      timeout: 8_000,
    })
    const inked = await page.evaluate(() => {
      const c = document.querySelector('#ch-rps canvas') as HTMLCanvasElement | null
      if (!c) return 0
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++
      return n
    })
    assert.ok(inked > 500, `chart canvas has ${inked} drawn pixels`)
    // The per-tier table names each tier and shows its tokens (it once read ccr-rust's list and
    // showed rows "0", "1", … with a dash for every number).
    await open('usage')
    const tierRows = await page.locator('#us-tiers tbody tr').allInnerTexts()
    const tier0 = tierRows.find((r) => r.startsWith('tier-0'))
    assert.ok(tier0, tierRows.join('\n'))
    const cells = tier0!.split('\t')
    assert.ok(Number(cells[1]!.replace(/,/g, '')) >= 34, `requests of tier-0: ${tier0}`)
    assert.notEqual(cells[2], '–', `input tokens of tier-0: ${tier0}`)
  })

  it('shows a breaker opened by a failing upstream within a few seconds', async () => {
    await open('targets')
    await traffic(ui.url, 'mock,bad:status=500', 8)
    const cell = page.locator('tr[data-target="mock,bad:status=500"] td[data-breaker]')
    await page.waitForFunction(
      () => {
        const td = document.querySelector('tr[data-target="mock,bad:status=500"] td[data-breaker]') as
          | HTMLElement
          | null
        return td !== null && td.dataset.breaker !== 'closed'
      },
      undefined,
      { timeout: 5_000 },
    ).catch(async (e: Error) => {
      // Once in about fifteen local runs this wait has failed; say what the page and the API showed.
      const shown = await page.locator('#tg-table').innerText().catch(() => '(no table)')
      const api = await fetch(`${ui.url}/v1/latencies`, { headers: { 'x-api-key': API_KEY } }).then((r) => r.text())
      throw new Error(`${e.message}\npage:\n${shown}\n/v1/latencies: ${api.slice(0, 2000)}`)
    })
    assert.match(await cell.innerText(), /open/)
    // Rank per scenario is a column: the default target is first in the plans of default (and of the scenarios
    // routed to it), not in think's; a target no route names is in no plan. (Plans keep config order here:
    // minSamples 1000. Scored, a plan's head is drawn among close targets, and a measured fallback faster than
    // the default target leads: once in about fifteen runs the fallbacks had their samples and default read 2.)
    const ranks = (t: string) => page.locator(`tr[data-target="${t}"] td.ranks`)
    const fast = (await ranks('mock,fast:ttft=20:delay=5').getAttribute('data-ranks')) ?? ''
    assert.match(fast, /(^| )default:1( |$)/)
    assert.doesNotMatch(fast, /think:1/)
    assert.match(await ranks('mock,bad:status=500').innerText(), /in no plan/)
    assert.match(await page.locator('#tg-table thead').innerText(), /Rank per scenario/)
  })

  it('Alerts shows a firing alert with its evidence (the breaker of the failing upstream), its history and the recommendations', async () => {
    await traffic(ui.url, 'mock,bad:status=500', 8)
    await open('alerts')
    const row = 'tr[data-rule="breaker_open"][data-subject="mock,bad:status=500"]'
    await page.waitForSelector(row, { timeout: 8_000 })
    assert.match(await page.locator(row).innerText(), /warning|critical/)
    assert.ok((await page.locator(`${row} ul.evidence li`).count()) > 0, 'the evidence is listed')
    assert.match(await page.locator('#al-history').innerText(), /breaker_open/)
    // Recommendations: a card per scenario with traffic, listing the targets that served it.
    await page.waitForSelector('#al-recs [data-scenario]', { timeout: 8_000 })
    assert.match(await page.locator('#al-recs').innerText(), /mock,fast:ttft=20:delay=5/)
    assert.deepEqual(consoleErrors, [])
  })

  it('saves a config edit with $VAR references, unknown keys, comments and literal secrets intact, and refuses a bad one naming the field', async () => {
    const seen = async () =>
      ((await (await fetch(`${ui.url}/v1/requests`, { headers: { 'x-api-key': API_KEY } })).json()) as {
        requests: unknown[]
      }).requests.length
    const requestsBefore = await seen()
    await open('config')
    await page.waitForSelector('#cf-presets td')
    const presets = await page.$$eval('#cf-presets tbody tr', (rows) => rows.map((r) => r.textContent ?? ''))
    assert.deepEqual(presets.length, 2, presets.join('\n'))
    assert.match(presets[0]!, /^broken–.*skipped default: "nowhere,x" names no provider/)
    assert.match(presets[1]!, /^team1\.2\.0team\/o,tteam\/okey: not answeredserved, 1 warning/)
    const text = await page.inputValue('#cf-text')
    assert.doesNotMatch(text, /sk-literal-upstream-secret/)
    await page.fill(
      '#cf-text',
      text.replace('"background": "oai,gpt-mock"', '"background": "mock,slow:ttft=120:delay=20"'),
    )
    // A stream in flight while the config is saved and reloaded finishes normally.
    const inFlight = fetch(`${ui.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({
        model: 'mock,slow:ttft=120:delay=20:chunks=40',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'long' }],
      }),
    }).then((r) => r.text())
    await page.click('#cf-save')
    await page.waitForSelector('#cf-result .notice.ok', { timeout: 10_000 })
    assert.match(await inFlight, /message_stop/)
    const saved = readFileSync(ui.path, 'utf8')
    for (
      const kept of [
        '"$SY_UI_KEY"',
        '"${SY_UI_UPSTREAM_KEY}"',
        '"sk-literal-upstream-secret"',
        '"CUSTOM_UNKNOWN": { "keep": ["me", 1] }',
        '// Switchyard UI test config',
      ]
    ) {
      assert.ok(saved.includes(kept), `${kept} lost:\n${saved}`)
    }
    assert.match(saved, /"background": "mock,slow:ttft=120:delay=20"/)
    assert.equal(readdirSync(ui.dir).filter((f) => f.endsWith('.bak')).length, 1)
    const plan =
      await (await fetch(`${ui.url}/v1/routing/plan?scenario=background`, { headers: { 'x-api-key': API_KEY } }))
        .json() as { target: string }
    assert.equal(plan.target, 'mock,slow:ttft=120:delay=20', 'the saved config was reloaded')
    assert.ok(await seen() >= requestsBefore, 'the reload kept the recent requests')

    await page.fill(
      '#cf-text',
      (await page.inputValue('#cf-text')).replace('"think": "mock,slow:ttft=120:delay=20"', '"think": "nowhere,model"'),
    )
    await page.click('#cf-save')
    await page.waitForSelector('#cf-result .notice.bad', { timeout: 10_000 })
    // Chromium logs the expected 400 answer as a failed resource: that one line is not a page error.
    const refused = consoleErrors.splice(0).filter((e) => !/status of 400/.test(e))
    assert.deepEqual(refused, [])
    assert.match(await page.locator('#cf-issues').innerText(), /line \d+\s*Router\.think: .*nowhere/)
    assert.equal(readFileSync(ui.path, 'utf8'), saved, 'a refused edit leaves the file alone')
  })

  it('starts a performance test from the page and watches it complete', async () => {
    await open('performance')
    await page.waitForSelector('#pf-models input[name=model]')
    await page.click('#pf-start')
    await page.waitForSelector('#pf-job-status[data-status="done"]', { timeout: 30_000 })
    await page.waitForFunction(
      () => !document.querySelector('#pf-metrics')?.textContent?.includes('No test has run yet'),
      undefined,
      { timeout: 15_000 },
    )
    assert.deepEqual(consoleErrors, [])
    assert.deepEqual(offInstance, [])
  })

  const shots = process.env.UI_SCREENSHOTS
  it('writes a screenshot of every view in light and dark (UI_SCREENSHOTS=dir only)', {
    skip: shots ? false : 'set UI_SCREENSHOTS=docs/ui to write them',
  }, async () => {
    for (const m of ['mock,fast:ttft=20:delay=5', 'mock,slow:ttft=120:delay=20', 'oai,gpt-mock']) {
      await traffic(ui.url, m, 12)
    }
    await traffic(ui.url, 'mock,bad:status=500', 6)
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      // Every view in light; the dark theme of the busiest ones (the page follows the system setting).
      for (const v of scheme === 'light' ? VIEWS : ['overview', 'targets', 'alerts', 'config'] as const) {
        await open(v)
        await page.waitForTimeout(v === 'performance' ? 2500 : 600)
        if (v === 'config') {
          // Show a refused edit: the problem is listed with its line, and nothing is written.
          await page.fill(
            '#cf-text',
            (await page.inputValue('#cf-text')).replace('"dailyTokenBudget": 50000', '"dailyTokenBudget": "lots"'),
          )
          await page.click('#cf-validate')
          await page.waitForSelector('#cf-result .notice.bad')
        }
        await page.screenshot({ path: join(shots!, `${v}-${scheme}.png`) })
      }
    }
    await page.emulateMedia({ colorScheme: 'light' })
  })
})

const redisPresent = () =>
  process.env.REDIS_SERVER !== undefined || existsSync('/usr/bin/redis-server') ||
  existsSync('/usr/local/bin/redis-server')
const fleetSkip = skip || (redisPresent() ? false : 'no redis-server (apt-get install redis-server)')

describe('a chart with a single sample', { skip }, () => {
  it('spans two minutes around it, not years', async () => {
    const ui = await startUiInstance()
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
    try {
      await traffic(ui.url, 'mock,fast:ttft=20:delay=5', 1)
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      await page.goto(`${ui.url}/ui/#tokens`)
      await page.fill('#login-key', API_KEY)
      await page.keyboard.press('Enter')
      await page.waitForSelector('main[data-view="tokens"][data-updated]', { timeout: 10_000 })
      await page.waitForFunction(() => (document.getElementById('tk-chart') as { _u?: unknown } | null)?._u, null, {
        timeout: 10_000,
      })
      const x = await page.evaluate(() => {
        const u = (document.getElementById('tk-chart') as unknown as {
          _u: { scales: { x: { min: number; max: number } }; data: number[][] }
        })._u
        return { min: u.scales.x.min, max: u.scales.x.max, points: u.data[0]!.length }
      })
      assert.equal(x.points, 1)
      assert.ok(x.max - x.min <= 120, `the time axis spans ${x.max - x.min} s`)
    } finally {
      await browser.close()
      await ui.stop()
    }
  })
})

describe('Fleet view against a real fleet: two instances sharing a test redis-server', { skip: fleetSkip }, () => {
  let redis: TestRedis
  const nodes: UiInstance[] = []
  let browser: Browser

  before(async () => {
    redis = await startRedis()
    for (const id of ['sy-ui-a', 'sy-ui-b']) nodes.push(await startUiInstance({ redis: redis.url, id }))
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
  })
  after(async () => {
    await browser?.close()
    for (const n of nodes) await n.stop()
    await redis?.stop()
  })

  it("each instance lists both, and spend today is the fleet's", async () => {
    const [a, b] = nodes as [UiInstance, UiInstance]
    await traffic(a.url, 'mock,fast:ttft=20:delay=5', 3)
    await traffic(b.url, 'mock,fast:ttft=20:delay=5', 5)
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await ctx.addInitScript((k) => sessionStorage.setItem('switchyard.apiKey', k), API_KEY)
    const page = await ctx.newPage()
    const errors: string[] = []
    const off: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    page.on('request', (r) => {
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(r.url()) && !/^(data|blob):/.test(r.url())) off.push(r.url())
    })
    for (const [n, self] of [[a, 'sy-ui-a'], [b, 'sy-ui-b']] as const) {
      await page.goto(`${n.url}/ui/#fleet`)
      await page.waitForFunction(() => document.querySelectorAll('#fl tbody tr').length === 2, undefined, {
        timeout: 10_000,
      })
      const text = await page.locator('#fl').innerText()
      assert.match(text, /sy-ui-a[\s\S]*sy-ui-b|sy-ui-b[\s\S]*sy-ui-a/)
      assert.match(await page.locator('#fl tr', { hasText: 'this instance' }).innerText(), new RegExp(self))
      assert.match(text, /\bok\b/, 'shared state ok')
    }
    // The Overview's spend today comes from /v1/usage, fleet-wide: both instances' requests.
    const today =
      async () => ((await (await fetch(`${a.url}/v1/usage`, { headers: { 'x-api-key': API_KEY } })).json()) as {
        scope?: string
        today?: { requests: number; cost_usd: number }
      })
    const deadline = Date.now() + 10_000
    let u = await today()
    while ((u.today?.requests ?? 0) < 8 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200))
      u = await today()
    }
    assert.equal(u.scope, 'fleet')
    assert.equal(u.today?.requests, 8)
    await page.goto(`${a.url}/ui/#overview`)
    await page.waitForSelector('main[data-view="overview"][data-updated]', { timeout: 10_000 })
    assert.ok(u.today!.cost_usd > 0, 'the requests were priced')
    await page.waitForFunction(
      (want) => {
        const shown = Number(document.querySelector('#stat-spend .value')?.textContent?.replace(/[$,]/g, ''))
        return Math.abs(shown - want) <= Math.max(1e-5, want * 0.01)
      },
      u.today!.cost_usd,
      { timeout: 8_000 },
    )
    assert.deepEqual(errors, [])
    assert.deepEqual(off, [])
    await ctx.close()
  })
})

describe('switchyard ui', () => {
  const quiet = async (f: () => Promise<number>) => {
    const printed: string[] = []
    const [log, err] = [console.log, console.error]
    console.log = (...a: unknown[]) => {
      printed.push(a.join(' '))
    }
    console.error = (...a: unknown[]) => {
      printed.push(a.join(' '))
    }
    try {
      return { code: await f(), printed }
    } finally {
      console.log = log
      console.error = err
    }
  }

  it('prints the running instance dashboard URL, and opens a browser only where one can be shown', async () => {
    const ui = await startUiInstance()
    try {
      const port = Number(new URL(ui.url).port)
      const { code, printed } = await quiet(() =>
        runUi(
          {
            command: 'ui',
            rest: [],
            passthrough: [],
            config: ui.path,
            port,
            dataDir: join(ui.dir, 'data'),
            shutdownTimeoutSec: 30,
          },
          { SWITCHYARD_NO_BROWSER: '1', SY_UI_KEY: API_KEY },
          {
            start: () => {
              throw new Error('must not start a second service')
            },
          },
        )
      )
      assert.equal(code, 0)
      assert.equal(printed[0], `dashboard: ${ui.url}/ui/`)
      assert.match(printed.join('\n'), /asks for the APIKEY/)
    } finally {
      await ui.stop()
    }
    assert.equal(openerFor('linux', {}), undefined)
    assert.deepEqual(openerFor('linux', { DISPLAY: ':0' }), ['xdg-open'])
    assert.deepEqual(openerFor('darwin', {}), ['open'])
  })

  it('starts the service when none answers (as code does), then prints its URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ui-cli-'))
    let server: RunningServer | undefined
    let stopMock: (() => Promise<void>) | undefined
    try {
      const port = await freePort()
      const { code, printed } = await quiet(() =>
        runUi({ command: 'ui', rest: [], passthrough: [], port, dataDir: dir, shutdownTimeoutSec: 30 }, {
          SWITCHYARD_NO_BROWSER: '1',
          SWITCHYARD_CONFIG: join(dir, 'none.json'),
        }, {
          // What the detached `switchyard start` does, in this process: serve a config on the asked port.
          start: async (o) => {
            const mock = await startMockServer({ port: 0, hostname: '127.0.0.1' })
            stopMock = () => mock.stop()
            const parsed = parseConfig(
              JSON.stringify({
                LOG: false,
                Providers: [{ name: 'm', api_base_url: `${mock.url}/v1/messages`, api_key: 'k', models: ['x'] }],
                Router: { default: 'm,x' },
              }),
              {},
              { knownTransformer },
            )
            if (!parsed.ok) throw new Error(parsed.error.join('; '))
            server = await buildServer(parsed.value.config, {
              host: o.host,
              port: o.port,
              dataDir: o.dataDir,
              log: createLogger({ enabled: false }),
              env: {},
            })
            return { ok: true, pid: undefined }
          },
        })
      )
      assert.equal(code, 0)
      assert.match(printed.join('\n'), /starting the service/)
      assert.equal(printed.at(-1), `dashboard: http://127.0.0.1:${port}/ui/`)
      assert.equal((await fetch(`http://127.0.0.1:${port}/ui/`)).status, 200)
    } finally {
      await server?.shutdown(500)
      await stopMock?.()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
