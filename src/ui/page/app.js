// Switchyard dashboard: plain JavaScript, no build step. It reads the instance's typed JSON
// endpoints (the ones in /openapi.json) with the API key kept in this tab's sessionStorage.
'use strict'
;(() => {
  const KEY_STORE = 'switchyard.apiKey'
  const THEME_STORE = 'switchyard.theme'
  const SCENARIOS = ['default', 'background', 'think', 'longContext', 'webSearch', 'image']
  const main = document.getElementById('main')
  const conn = document.getElementById('conn')
  const state = { key: sessionStorage.getItem(KEY_STORE) || '', view: '', timers: [], charts: [], gen: 0, waitUntil: 0 }

  // ---------- small helpers ----------
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue
      if (k === 'class') e.className = v
      else if (k === 'text') e.textContent = v
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
      else e.setAttribute(k, v === true ? '' : String(v))
    }
    for (const kid of kids.flat()) {
      if (kid !== undefined && kid !== null && kid !== false) e.append(kid instanceof Node ? kid : String(kid))
    }
    return e
  }
  // A card holding a titled chart; the chart is drawn later into the div by id.
  const chartCard = (title, id) =>
    el('div', { class: 'card' }, el('h3', { text: title }), el('div', { class: 'chart', id }))
  const nf = (d) => new Intl.NumberFormat(undefined, { maximumFractionDigits: d })
  const num = (n, d = 0) => (n === null || n === undefined || Number.isNaN(n) ? '–' : nf(d).format(n))
  const ms = (
    n,
  ) => (n === null || n === undefined ? '–' : n >= 10000 ? `${num(n / 1000, 1)} s` : `${num(n, n < 10 ? 1 : 0)} ms`)
  const pct = (f, d = 1) => (f === null || f === undefined ? '–' : `${num(f * 100, d)} %`)
  const usd = (
    n,
  ) => (n === null || n === undefined ? '–' : `$${n !== 0 && Math.abs(n) < 0.01 ? n.toFixed(5) : num(n, 2)}`)
  const tok = (
    n,
  ) => (n === null || n === undefined
    ? '–'
    : n >= 1e6
    ? `${num(n / 1e6, 2)} M`
    : n >= 1e4
    ? `${num(n / 1e3, 1)} k`
    : num(n))
  const rate = (n) => (n === null || n === undefined ? '–' : `${num(n, n < 10 ? 2 : 1)} /s`)
  const time = (t) => (t ? new Date(t).toLocaleTimeString() : '–')
  const dateTime = (t) => (t ? new Date(t).toLocaleString() : '–')
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  const badge = (text, kind) => el('span', { class: `badge ${kind}`, text })
  const table = (heads, rows, empty = 'Nothing yet.') =>
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            heads.map((h) => el('th', { class: h.num ? 'num' : undefined, scope: 'col', text: h.label || h })),
          ),
        ),
        el(
          'tbody',
          {},
          rows.length ? rows : el('tr', {}, el('td', { class: 'empty', colspan: heads.length, text: empty })),
        ),
      ),
    )
  const code = (text) => el('code', { text })
  const td = (v, numeric) => el('td', { class: numeric ? 'num' : undefined }, v)
  const breakerKind = (b) => (b === 'closed' ? 'ok' : b === 'half_open' || b === 'half-open' ? 'warn' : 'bad')

  class ApiError extends Error {
    constructor(status, message) {
      super(message)
      this.status = status
    }
  }

  async function api(path, opts = {}) {
    if (Date.now() < state.waitUntil) throw new ApiError(429, 'rate limited: waiting')
    const headers = Object.assign({}, opts.headers)
    if (state.key) headers['x-api-key'] = state.key
    let body = opts.body
    if (body !== undefined && typeof body !== 'string') {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(body)
    }
    let res
    try {
      res = await fetch(path, { method: opts.method || 'GET', headers, body })
    } catch (e) {
      setConn(false, 'instance unreachable')
      throw e
    }
    if (res.status === 401) {
      showLogin(state.key ? 'That key was refused.' : '')
      throw new ApiError(401, 'API key needed')
    }
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after') || '5')
      state.waitUntil = Date.now() + after * 1000
      setConn(false, `management rate limit: waiting ${after} s`)
      throw new ApiError(429, 'rate limited')
    }
    const ct = res.headers.get('content-type') || ''
    const data = ct.includes('json') ? await res.json() : await res.text()
    setConn(true)
    if (!res.ok && !opts.allowError) {
      throw new ApiError(
        res.status,
        (data && data.error && data.error.message) || (data && data.message) || `HTTP ${res.status}`,
      )
    }
    return opts.allowError ? { status: res.status, data } : data
  }

  function setConn(ok, text) {
    conn.textContent = ok ? `live · ${new Date().toLocaleTimeString()}` : text
    conn.classList.toggle('bad', !ok)
  }

  // ---------- auth ----------
  const login = document.getElementById('login')
  function showLogin(message) {
    document.getElementById('login-error').textContent = message || ''
    if (!login.open) login.showModal()
    stopTimers()
  }
  document.getElementById('login-form').addEventListener('submit', () => {
    state.key = document.getElementById('login-key').value
    sessionStorage.setItem(KEY_STORE, state.key)
    document.getElementById('logout').hidden = false
    show(state.view || 'overview', true)
  })
  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORE)
    state.key = ''
    location.reload()
  })
  document.getElementById('logout').hidden = !state.key

  // ---------- theme ----------
  function applyTheme(t) {
    if (t) document.documentElement.dataset.theme = t
    else delete document.documentElement.dataset.theme
  }
  applyTheme(localStorage.getItem(THEME_STORE))
  document.getElementById('theme').addEventListener('click', () => {
    const dark = css('--bg') === '#0f1115'
    const next = dark ? 'light' : 'dark'
    localStorage.setItem(THEME_STORE, next)
    applyTheme(next)
    show(state.view, true)
  })

  // ---------- charts (uPlot) ----------
  /** `[t - 60, t + 60]` when every x is the same instant `t` (seconds), else undefined. */
  function singleInstant(xs) {
    if (!xs || xs.length === 0 || xs[0] == null || xs[0] !== xs[xs.length - 1]) return undefined
    return [xs[0] - 60, xs[0] + 60]
  }
  function chart(container, opts) {
    const { series, data, height = 170, spark = false, bars = false, yFmt, xTime = true } = opts
    const width = Math.max(120, container.clientWidth || 300)
    const axis = { stroke: css('--muted'), grid: { stroke: css('--line'), width: 1 }, ticks: { stroke: css('--line') } }
    const u = new uPlot(
      {
        width,
        height,
        cursor: spark ? { show: false } : { drag: { x: false, y: false } },
        legend: { show: !spark },
        scales: {
          // One sample (or all at one instant): uPlot widens a time axis of zero width by 86,400
          // of its units, which for times in seconds is 1,000 days (a single drift audit drew an
          // axis from Feb 2027 to Aug 2029). Two minutes around the sample instead.
          x: { time: xTime, range: (u, min, max) => (xTime && singleInstant(u.data[0])) || [min, max] },
          y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max * 1.1 : 1] },
        },
        axes: spark
          ? [{ show: false }, { show: false }]
          : [axis, Object.assign({}, axis, { size: 70, values: yFmt ? (_u, v) => v.map(yFmt) : undefined })],
        series: [
          { value: xTime ? (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleTimeString()) : undefined },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: css(s.color || `--c${i + 1}`),
            width: spark ? 1.5 : 2,
            spanGaps: Boolean(s.span),
            ...(spark ? { points: { show: false } } : s.span ? { points: { show: true, size: 4 } } : {}),
            fill: spark || bars ? css(s.color || `--c${i + 1}`) + '22' : undefined,
            paths: bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
            value: s.fmt ? (_u, v) => (v === null ? '–' : s.fmt(v)) : undefined,
          })),
        ],
      },
      data,
      container,
    )
    container.setAttribute('role', 'img')
    container.setAttribute('aria-label', opts.label || series.map((s) => s.label).join(', '))
    state.charts.push({ u, container })
    return u
  }
  const resize = () => {
    for (const c of state.charts) c.u.setSize({ width: Math.max(120, c.container.clientWidth), height: c.u.height })
  }
  addEventListener('resize', () => {
    clearTimeout(state.resizeTimer)
    state.resizeTimer = setTimeout(resize, 150)
  })

  // ---------- views ----------
  const views = {}

  // Overview
  views.overview = {
    title: 'Overview',
    every: 2000,
    render(root) {
      const stat = (id, label) =>
        el(
          'div',
          { class: 'card stat', id: `stat-${id}` },
          el('div', { class: 'label', text: label }),
          el('div', { class: 'value', text: '–' }),
          el('div', { class: 'spark' }),
        )
      root.append(
        el('h2', { text: 'Now', class: 'sr-title' }),
        el(
          'div',
          { class: 'grid' },
          stat('rps', 'Requests/s (last minute)'),
          stat('err', 'Error rate (last minute)'),
          stat('active', 'Active streams'),
          stat('ttft50', 'TTFT p50 (last minute)'),
          stat('ttft95', 'TTFT p95 (last minute)'),
          stat('spend', 'Spend today (UTC)'),
        ),
        el('p', {
          class: 'muted small',
          text:
            'Sparklines: the last 15 minutes in 10 s slots. Spend today is the stored usage of the current UTC day (the whole fleet in fleet mode), kept across restarts.',
        }),
        el('h2', { text: 'Last 24 hours' }),
        el(
          'div',
          { class: 'grid wide' },
          chartCard('Requests/s and errors/s', 'ch-rps'),
          chartCard('Time to first token', 'ch-ttft'),
          chartCard('Active streams (peak per slot)', 'ch-active'),
          chartCard('Cost per 5 minutes', 'ch-cost'),
        ),
        el('p', { class: 'muted small', id: 'ov-foot' }),
      )
    },
    async update() {
      const [fine, coarse, health, usage] = await Promise.all([
        api('/v1/timeline?window=15m'),
        api('/v1/timeline?window=24h'),
        api('/health'),
        api('/v1/usage'),
      ])
      const last = (a, n) => a.slice(-n)
      const sum = (a) => a.reduce((s, v) => s + (v || 0), 0)
      const x = (w) => w.t.map((t) => t / 1000)
      const errorsPerS = (w) => w.requests_per_s.map((r, i) => (w.error_rate[i] === null ? 0 : r * w.error_rate[i]))
      // The last minute: the six newest 10 s slots.
      const reqs = last(fine.requests_per_s, 6)
      const total = sum(reqs) * 10
      const errs = sum(last(errorsPerS(fine), 6)) * 10
      const p50 = last(fine.ttft_p50_ms, 6).filter((v) => v !== null)
      const p95 = last(fine.ttft_p95_ms, 6).filter((v) => v !== null)
      const today = usage.today ? usage.today.cost_usd : 0
      const put = (id, text, series, fmt, span) => {
        const card = document.getElementById(`stat-${id}`)
        if (!card) return
        card.querySelector('.value').textContent = text
        const box = card.querySelector('.spark')
        const data = [x(fine), series]
        if (!box._u) box._u = chart(box, { series: [{ label: id, fmt, span }], data, height: 40, spark: true })
        else box._u.setData(data)
      }
      put('rps', rate(total / 60), fine.requests_per_s, rate)
      put('err', total > 0 ? pct(errs / total) : '–', fine.error_rate, pct)
      put('active', num(health.active_streams), fine.active_streams, num)
      put('ttft50', p50.length ? ms(p50[p50.length - 1]) : '–', fine.ttft_p50_ms, ms, true)
      put('ttft95', p95.length ? ms(Math.max(...p95)) : '–', fine.ttft_p95_ms, ms, true)
      put('spend', usd(today), fine.cost_usd, usd)
      const charts = [
        ['ch-rps', [{ label: 'requests/s', fmt: rate }, { label: 'errors/s', fmt: rate }], [
          x(coarse),
          coarse.requests_per_s,
          errorsPerS(coarse),
        ], rate],
        ['ch-ttft', [{ label: 'p50', fmt: ms, span: true }, { label: 'p95', fmt: ms, color: '--c3', span: true }], [
          x(coarse),
          coarse.ttft_p50_ms,
          coarse.ttft_p95_ms,
        ], ms],
        ['ch-active', [{ label: 'active streams', fmt: num, color: '--c4' }], [x(coarse), coarse.active_streams], num],
        ['ch-cost', [{ label: 'cost', fmt: usd, color: '--c5' }], [x(coarse), coarse.cost_usd], usd],
      ]
      for (const [id, series, data, yFmt] of charts) {
        const box = document.getElementById(id)
        if (!box) continue
        if (!box._u) box._u = chart(box, { series, data, yFmt, bars: id === 'ch-cost' })
        else box._u.setData(data)
      }
      document.getElementById('ov-foot').textContent = `Switchyard ${health.version} · up ${
        num(health.uptime_s / 3600, 1)
      } h · ${num(usage.total.requests)} requests billed in total, ${usd(usage.total.costUsd)}`
    },
  }

  // Targets
  views.targets = {
    title: 'Targets',
    every: 2000,
    render(root) {
      root.append(
        el('h2', { text: 'Targets' }),
        el('div', { id: 'tg-table' }),
        el('p', {
          class: 'muted small',
          text:
            "Latency and TTFT are EWMAs of live traffic; success rate is 1 − the EWMA error rate; share and the latency trend are of the last 500 requests. Rank and score: live traffic over every target; rank per scenario: the place in that scenario's routing plan below (hover for the scores).",
        }),
        el('h2', { text: 'Routing plan, score and rank per scenario' }),
        el('div', { class: 'grid wide', id: 'tg-plans' }),
      )
    },
    async update() {
      const [lat, budgets, recent, ...plans] = await Promise.all([
        api('/v1/latencies'),
        api('/v1/rate-budgets'),
        api('/v1/requests?limit=500'),
        ...SCENARIOS.map((s) => api(`/v1/routing/plan?scenario=${s}`)),
      ])
      const share = new Map()
      for (const r of recent.requests) if (r.target) share.set(r.target, (share.get(r.target) || 0) + 1)
      // Target → rank → the scenarios whose plan puts it there (scenarios routed alike share a line).
      const rankIn = new Map()
      for (const p of plans) {
        p.targets.forEach((t, i) => {
          if (!rankIn.has(t.target)) rankIn.set(t.target, new Map())
          const byRank = rankIn.get(t.target)
          byRank.set(i + 1, [...(byRank.get(i + 1) || []), { scenario: p.scenario, score: t.score }])
        })
      }
      const rankCell = (target) => {
        const byRank = rankIn.get(target)
        const cell = el('td', { class: 'ranks' })
        if (!byRank) {
          cell.append(el('span', { class: 'muted', text: 'in no plan' }))
          return cell
        }
        const sorted = [...byRank].sort((a, b) => a[0] - b[0])
        cell.dataset.ranks = sorted.map(([r, ss]) => ss.map((x) => `${x.scenario}:${r}`).join(' ')).join(' ')
        cell.title = sorted.map(([r, ss]) => ss.map((x) => `${x.scenario} #${r}, score ${num(x.score, 3)}`).join('\n'))
          .join('\n')
        for (const [r, ss] of sorted) {
          cell.append(el(
            'div',
            {},
            el('b', { text: `#${r} ` }),
            el('span', { class: 'small', text: ss.map((x) => x.scenario).join(', ') }),
          ))
        }
        return cell
      }
      const rows = lat.targets.map((t) => {
        // The target's own recent answers (oldest first): duration of each.
        const mine = recent.requests.filter((r) => r.target === t.target && r.duration_ms !== null).reverse()
        const h = { x: mine.map((r) => r.at / 1000), y: mine.map((r) => r.duration_ms) }
        const provider = t.target.split(',')[0]
        const b = budgets.providers[provider]
        const budget = b
          ? [
            b.rpm && `rpm ${num(b.rpm.left)}/${num(b.rpm.limit)}`,
            b.tpm && `tpm ${tok(b.tpm.left)}/${tok(b.tpm.limit)}`,
            b.concurrency && `slots ${b.concurrency.left}/${b.concurrency.limit}`,
          ].filter(Boolean).join(' · ')
          : 'no limits'
        const breaker = el(
          'td',
          {},
          badge(t.breaker.replace('_', '-'), breakerKind(t.breaker)),
          t.breaker !== 'closed' && t.breaker_retry_in_ms > 0
            ? el('span', { class: 'muted small', text: ` probes in ${ms(t.breaker_retry_in_ms)}` })
            : '',
        )
        breaker.dataset.breaker = t.breaker
        const mini = el('div', { class: 'minichart' })
        const tr = el(
          'tr',
          { 'data-target': t.target },
          td(code(t.target)),
          breaker,
          rankCell(t.target),
          el('td', {}, mini),
          td(ms(t.ewma_latency_ms), true),
          td(ms(t.ttft_ms), true),
          td(t.tokens_per_sec === null ? '–' : `${num(t.tokens_per_sec, 1)} tok/s`, true),
          td(t.error_rate === null ? '–' : pct(1 - t.error_rate), true),
          td(num(t.in_flight), true),
          td(budget),
          td(recent.requests.length ? pct((share.get(t.target) || 0) / recent.requests.length, 0) : '–', true),
          td(num(t.rank), true),
          td(num(t.score, 3), true),
          td(num(t.samples), true),
        )
        if (t.demoted) tr.firstChild.append(' ', badge(`demoted${t.reason ? `: ${t.reason}` : ''}`, 'warn'))
        tr._mini = { box: mini, data: [h.x.slice(), h.y.slice()] }
        return tr
      })
      const wrap = document.getElementById('tg-table')
      if (!wrap) return
      state.charts = state.charts.filter((c) => !wrap.contains(c.container))
      wrap.replaceChildren(
        table(
          [
            'Target',
            'Breaker',
            'Rank per scenario',
            'Latency, last requests',
            { label: 'Latency', num: 1 },
            { label: 'TTFT', num: 1 },
            { label: 'Throughput', num: 1 },
            { label: 'Success', num: 1 },
            { label: 'In flight', num: 1 },
            'Rate budget left',
            { label: 'Share', num: 1 },
            { label: 'Rank', num: 1 },
            { label: 'Score', num: 1 },
            { label: 'Samples', num: 1 },
          ],
          rows,
          'No target has served a request yet.',
        ),
      )
      for (const tr of rows) {
        chart(tr._mini.box, {
          series: [{ label: 'latency', fmt: ms }],
          data: tr._mini.data,
          height: 32,
          spark: true,
          label: `Latency of the last ${tr._mini.data[0].length} requests to ${tr.dataset.target}`,
        })
      }
      const planBox = document.getElementById('tg-plans')
      planBox.replaceChildren(
        ...plans.map((p) =>
          el(
            'div',
            { class: 'card plan' },
            el(
              'h3',
              {},
              `${p.scenario} `,
              el('span', {
                class: 'muted small',
                text: `→ ${p.target} · ${p.kind}${p.ordering ? ` · ${p.ordering}` : ''}`,
              }),
            ),
            p.targets.length
              ? el(
                'ol',
                {},
                p.targets.map((t) =>
                  el(
                    'li',
                    {},
                    code(t.target),
                    ` ${t.tier} · score ${num(t.score, 3)} · ${t.source}`,
                    t.skip
                      ? el('span', {
                        class: 'badge warn',
                        text: `skipped: ${t.skip.reason} (${ms(t.skip.retry_in_ms)})`,
                      })
                      : '',
                    t.demoted
                      ? el('span', { class: 'badge warn', text: `demoted${t.reason ? `: ${t.reason}` : ''}` })
                      : '',
                  )
                ),
              )
              : el('p', { class: 'muted', text: 'No targets.' }),
            p.dropped.length
              ? el('p', { class: 'muted small', text: `dropped: ${p.dropped.map((d) => d.target).join(', ')}` })
              : '',
          )
        ),
      )
    },
  }

  // Alerts and recommendations
  const evidence = (ev) =>
    el(
      'ul',
      { class: 'evidence' },
      Object.entries(ev || {}).map(([k, v]) =>
        el(
          'li',
          {},
          el('span', { class: 'muted', text: `${k.replace(/_ms$/, '').replace(/_/g, ' ')} ` }),
          typeof v === 'number' ? (/_ms$/.test(k) ? ms(v) : num(v, Math.abs(v) < 10 ? 3 : 1)) : String(v),
        )
      ),
    )
  const severity = (a) => badge(a.severity, a.severity === 'critical' ? 'bad' : 'warn')
  views.alerts = {
    title: 'Alerts',
    every: 5000,
    render(root) {
      root.append(
        el('h2', { text: 'Firing now' }),
        el('div', { id: 'al-firing' }),
        el('h2', { text: 'Recommendations per scenario' }),
        el('p', { class: 'muted small', id: 'al-note' }),
        el('div', { class: 'stack', id: 'al-recs' }),
        el('h2', { text: 'Recent history' }),
        el('div', { id: 'al-history' }),
      )
    },
    async update() {
      const [alerts, recs] = await Promise.all([api('/v1/alerts?limit=50'), api('/v1/recommendations')])
      const firing = alerts.firing.map((a) => {
        const tr = el(
          'tr',
          { 'data-rule': a.rule, 'data-subject': a.subject },
          td(dateTime(a.firedAt)),
          td(severity(a)),
          td(code(a.rule)),
          td(code(a.subject)),
          el('td', { class: 'wrap' }, a.message),
          el('td', { class: 'wrap' }, evidence(a.evidence)),
        )
        return tr
      })
      document.getElementById('al-firing').replaceChildren(
        table(['Since', 'Severity', 'Rule', 'Subject', 'What', 'Evidence'], firing, 'Nothing is firing.'),
      )
      const history = alerts.history.map((a) =>
        el(
          'tr',
          {},
          td(dateTime(a.firedAt)),
          td(a.resolvedAt ? dateTime(a.resolvedAt) : badge('firing', 'bad')),
          td(severity(a)),
          td(code(a.rule)),
          td(code(a.subject)),
          el('td', { class: 'wrap' }, a.message),
        )
      )
      document.getElementById('al-history').replaceChildren(
        table(['Fired', 'Resolved', 'Severity', 'Rule', 'Subject', 'What'], history, 'No alert yet.'),
      )
      document.getElementById('al-note').textContent =
        `${recs.note} Candidates are the targets that served the scenario; ★ marks the cost–performance frontier.`
      document.getElementById('al-recs').replaceChildren(
        ...(recs.scenarios.length
          ? recs.scenarios.map((r) =>
            el(
              'div',
              { class: 'card', 'data-scenario': r.scenario },
              el(
                'h3',
                {},
                `${r.scenario} `,
                el('span', { class: 'muted small', text: `${r.current ? `→ ${r.current} · ` : ''}${r.window}` }),
              ),
              r.suggestion ? el('p', { class: 'notice ok' }, r.suggestion.text) : el('p', {
                class: 'muted small',
                text: 'No suggestion: the current target is on the frontier, or too few samples.',
              }),
              table(
                [
                  'Target',
                  { label: 'Latency', num: 1 },
                  { label: 'Throughput', num: 1 },
                  { label: 'Success', num: 1 },
                  { label: 'Cost / 1k tok', num: 1 },
                  { label: 'Requests', num: 1 },
                ],
                r.candidates.map((c) =>
                  el(
                    'tr',
                    {},
                    td(el('span', {}, c.pareto ? '★ ' : '', code(c.target))),
                    td(ms(c.latencyMs), true),
                    td(c.tokensPerSec === undefined ? '–' : `${num(c.tokensPerSec, 1)} tok/s`, true),
                    td(pct(c.successRate), true),
                    td(c.costPer1k === undefined ? '–' : usd(c.costPer1k), true),
                    td(num(c.requests), true),
                  )
                ),
                'No traffic in this scenario yet.',
              ),
            )
          )
          : [el('p', { class: 'muted', text: 'No scenario has traffic yet.' })]),
      )
    },
  }

  // Usage
  let usageCache = null
  views.usage = {
    title: 'Usage',
    every: 5000,
    render(root) {
      root.append(
        el(
          'div',
          { class: 'row' },
          el('h2', { text: 'Usage and cost per day' }),
          el('button', { type: 'button', id: 'csv', onclick: downloadCsv }, 'Download CSV'),
        ),
        el(
          'div',
          { class: 'grid wide' },
          chartCard('Requests per day', 'us-req'),
          chartCard('Cost per day', 'us-cost'),
        ),
        el('div', { id: 'us-days' }),
        el('p', {
          class: 'muted small',
          text: 'Days are UTC days (the last 31 are kept). Both tables survive restarts.',
        }),
        el('h2', { text: 'Per tier (all time)' }),
        el('div', { id: 'us-tiers' }),
        el('h2', { text: 'Per model (all time)' }),
        el('div', { id: 'us-targets' }),
      )
    },
    async update() {
      const [usage, daily] = await Promise.all([api('/v1/usage'), api('/v1/usage/daily')])
      usageCache = { usage, daily }
      const dayRows = daily.days.map((d) =>
        el(
          'tr',
          {},
          td(d.day),
          td(d.tier),
          td(code(d.target)),
          td(num(d.requests), true),
          td(num(d.errors), true),
          td(tok(d.inputTokens), true),
          td(tok(d.outputTokens), true),
          td(usd(d.costUsd), true),
        )
      )
      document.getElementById('us-days').replaceChildren(
        table(
          [
            'Day (UTC)',
            'Tier',
            'Model',
            { label: 'Requests', num: 1 },
            { label: 'Errors', num: 1 },
            { label: 'Input tokens', num: 1 },
            { label: 'Output tokens', num: 1 },
            { label: 'Cost', num: 1 },
          ],
          dayRows,
          'No requests since the instance started.',
        ),
      )
      const totalsRow = (name, t) =>
        el(
          'tr',
          {},
          td(name.includes(',') ? code(name) : name),
          td(num(t.requests), true),
          td(tok(t.inputTokens), true),
          td(tok(t.outputTokens), true),
          td(tok(t.cacheReadTokens), true),
          td(tok(t.cacheCreationTokens), true),
          td(usd(t.costUsd), true),
          td(num(t.unknownCostRequests), true),
          td(Object.entries(t.failures).map(([k, v]) => `${k}: ${v}`).join(', ') || '–'),
        )
      const heads = (
        first,
      ) => [
        first,
        { label: 'Requests', num: 1 },
        { label: 'Input', num: 1 },
        { label: 'Output', num: 1 },
        { label: 'Cache read', num: 1 },
        { label: 'Cache write', num: 1 },
        { label: 'Cost', num: 1 },
        { label: 'Unpriced', num: 1 },
        'Failures',
      ]
      document.getElementById('us-tiers').replaceChildren(
        table(heads('Tier'), [
          // `by_tier`: `tiers` is ccr-rust's list (snake_case rows), kept for its tools.
          ...Object.entries(usage.by_tier).map(([k, t]) => totalsRow(k, t)),
          totalsRow('Total', usage.total),
        ]),
      )
      document.getElementById('us-targets').replaceChildren(
        table(heads('Model'), Object.entries(usage.targets).map(([k, t]) => totalsRow(k, t))),
      )
      const byDay = new Map()
      for (const d of daily.days) {
        const v = byDay.get(d.day) || { r: 0, c: 0 }
        v.r += d.requests
        v.c += d.costUsd
        byDay.set(d.day, v)
      }
      // Every UTC day from a week ago (or the first day with data) to today, empty days at 0.
      const dayMs = 86400000
      const today = Math.floor(Date.now() / dayMs) * dayMs
      const first = Math.min(today - 6 * dayMs, ...[...byDay.keys()].map((d) => Date.parse(`${d}T00:00:00Z`)))
      const xs = []
      for (let t = first; t <= today; t += dayMs) xs.push(t)
      const at = (t) => byDay.get(new Date(t).toISOString().slice(0, 10)) || { r: 0, c: 0 }
      for (
        const [id, label, ys, fmt] of [['us-req', 'requests', xs.map((t) => at(t).r), num], [
          'us-cost',
          'cost',
          xs.map((t) => at(t).c),
          usd,
        ]]
      ) {
        const box = document.getElementById(id)
        const data = [xs.map((t) => t / 1000), ys]
        if (!box._u) {
          box._u = chart(box, {
            series: [{ label, fmt, color: id === 'us-cost' ? '--c5' : '--c1' }],
            data,
            bars: true,
            yFmt: fmt,
          })
        } else box._u.setData(data)
      }
    },
  }
  function downloadCsv() {
    if (!usageCache) return
    const q = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v))
    const lines = [
      ['day_utc', 'tier', 'target', 'requests', 'errors', 'input_tokens', 'output_tokens', 'cost_usd'].join(','),
    ]
    for (const d of usageCache.daily.days) {
      lines.push(
        [d.day, d.tier, d.target, d.requests, d.errors, d.inputTokens, d.outputTokens, d.costUsd].map(q).join(','),
      )
    }
    const a = el('a', {
      href: URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' })),
      download: `switchyard-usage-${new Date().toISOString().slice(0, 10)}.csv`,
    })
    document.body.append(a)
    a.click()
    a.remove()
  }

  // Tokens
  views.tokens = {
    title: 'Tokens',
    every: 10000,
    render(root) {
      root.append(
        el('h2', { text: 'Estimate drift per tier' }),
        el('div', { id: 'tk-drift' }),
        el('h2', { text: 'Drift of recent requests' }),
        el('div', { class: 'card' }, el('div', { class: 'chart', id: 'tk-chart' })),
        el('h2', { text: 'Recent audits' }),
        el('div', { id: 'tk-audit' }),
      )
    },
    async update() {
      const [drift, audit] = await Promise.all([api('/v1/token-drift'), api('/v1/token-audit')])
      const { warnPct, criticalPct } = drift.thresholds
      const level = (
        p,
      ) => (Math.abs(p) >= criticalPct
        ? ['critical', 'bad']
        : Math.abs(p) >= warnPct
        ? ['warning', 'warn']
        : ['ok', 'ok'])
      const rows = Object.entries(drift.tiers).map(([tier, d]) => {
        const [name, kind] = level(d.meanAbsPct)
        return el(
          'tr',
          {},
          td(tier),
          td(badge(name, kind)),
          td(num(d.samples), true),
          td(`${num(d.meanPct, 1)} %`, true),
          td(`${num(d.meanAbsPct, 1)} %`, true),
          td(`${num(d.p95AbsPct, 1)} %`, true),
          td(`${num(d.lastPct, 1)} %`, true),
          td(num(d.alerts.warning), true),
          td(num(d.alerts.critical), true),
        )
      })
      document.getElementById('tk-drift').replaceChildren(
        table(
          [
            'Tier',
            `State (≥${warnPct} % / ≥${criticalPct} %)`,
            { label: 'Samples', num: 1 },
            { label: 'Mean', num: 1 },
            { label: 'Mean |drift|', num: 1 },
            { label: 'p95 |drift|', num: 1 },
            { label: 'Last', num: 1 },
            { label: 'Warnings', num: 1 },
            { label: 'Critical', num: 1 },
          ],
          rows,
          'No request has reported its tokens yet.',
        ),
      )
      const entries = audit.entries.slice().sort((a, b) => b.at - a.at)
      document.getElementById('tk-audit').replaceChildren(
        table(
          [
            'Time',
            'Id',
            'Tier',
            'Target',
            { label: 'Estimate', num: 1 },
            { label: 'Messages', num: 1 },
            { label: 'System', num: 1 },
            { label: 'Tools', num: 1 },
            { label: 'Images', num: 1 },
            { label: 'Reported', num: 1 },
            { label: 'Drift', num: 1 },
            'Level',
          ],
          entries.slice(0, 100).map((e) =>
            el(
              'tr',
              {},
              td(time(e.at)),
              td(code(e.id)),
              td(e.tier),
              td(code(e.target)),
              td(tok(e.estimate.total), true),
              td(tok(e.estimate.messages), true),
              td(tok(e.estimate.system), true),
              td(tok(e.estimate.tools), true),
              td(tok(e.estimate.images), true),
              td(e.reported === undefined ? '–' : tok(e.reported), true),
              td(e.driftPct === undefined ? '–' : `${num(e.driftPct, 1)} %`, true),
              td(e.level ? badge(e.level, e.level === 'ok' ? 'ok' : e.level === 'warning' ? 'warn' : 'bad') : '–'),
            )
          ),
          'No audits yet.',
        ),
      )
      const pts = entries.filter((e) => e.driftPct !== undefined).reverse()
      const box = document.getElementById('tk-chart')
      const data = [
        pts.length ? pts.map((e) => e.at / 1000) : [Date.now() / 1000],
        pts.length ? pts.map((e) => e.driftPct) : [null],
      ]
      if (!box._u) {
        box._u = chart(box, {
          series: [{ label: 'drift %', fmt: (v) => `${num(v, 1)} %`, color: '--c3' }],
          data,
          yFmt: (v) => `${num(v, 0)} %`,
        })
      } else box._u.setData(data)
    },
  }

  // Performance tests
  let job = null
  views.performance = {
    title: 'Performance',
    every: 10000,
    render(root) {
      root.append(
        el('h2', { text: 'Engine, schedule and budget' }),
        el('div', { id: 'pf-health', class: 'grid' }),
        el('h2', { text: 'Start a test' }),
        el(
          'form',
          { class: 'card', id: 'pf-form', onsubmit: startTest },
          el('div', { class: 'row', id: 'pf-models' }, el('span', { class: 'muted', text: 'Loading models…' })),
          el(
            'div',
            { class: 'row' },
            el('span', { class: 'muted small', text: 'Types:' }),
            ['latency', 'throughput', 'concurrent', 'health'].map((t) =>
              el(
                'label',
                {},
                el('input', { type: 'checkbox', name: 'type', value: t, checked: t === 'latency' }),
                ` ${t}`,
              )
            ),
          ),
          el(
            'div',
            { class: 'row' },
            el('button', { type: 'submit', class: 'primary', id: 'pf-start' }, 'Start test'),
            el('span', { id: 'pf-status', role: 'status', 'aria-live': 'polite' }),
          ),
          el('div', { id: 'pf-job' }),
        ),
        el('h2', { text: 'Per model' }),
        el('div', { id: 'pf-metrics' }),
        el('h2', { text: 'History' }),
        el('div', { class: 'grid wide', id: 'pf-history' }),
      )
      this.models()
      this.histories()
    },
    async models() {
      const models = await api('/v1/models')
      const ids = (models.data || []).map((m) => m.id).filter((id) => id.includes(','))
      const box = document.getElementById('pf-models')
      if (!box) return
      box.replaceChildren(
        el('span', { class: 'muted small', text: 'Models:' }),
        ...ids.map((id, i) =>
          el(
            'label',
            {},
            el('input', { type: 'checkbox', name: 'model', value: id, checked: i === 0 }),
            ' ',
            code(id),
          )
        ),
      )
    },
    async histories() {
      const metrics = await api('/performance/metrics')
      const box = document.getElementById('pf-history')
      if (!box) return
      state.charts = state.charts.filter((c) => !box.contains(c.container))
      box.replaceChildren()
      if (!metrics.data.length) {
        box.append(el('p', { class: 'muted', text: 'No test has run yet.' }))
        return
      }
      for (const m of metrics.data.slice(0, 6)) {
        const h = await api(`/performance/history/${encodeURIComponent(m.target)}?limit=100`)
        const runs = h.runs.filter((r) => r.ok).reverse()
        const c = el('div', { class: 'chart' })
        box.append(
          el(
            'div',
            { class: 'card' },
            el(
              'h3',
              {},
              code(m.target),
              el('span', { class: 'muted small', text: ` · ${h.runs.length} runs` }),
            ),
            c,
          ),
        )
        chart(c, {
          series: [{ label: 'total', fmt: ms }, { label: 'TTFT', fmt: ms, color: '--c3' }],
          data: [
            runs.length ? runs.map((r) => Date.parse(r.at) / 1000) : [Date.now() / 1000],
            runs.length ? runs.map((r) => r.total_ms) : [null],
            runs.length ? runs.map((r) => r.ttft_ms) : [null],
          ],
          yFmt: ms,
        })
      }
    },
    async update() {
      const [health, metrics] = await Promise.all([api('/health/performance'), api('/performance/metrics')])
      const b = health.budget
      const bar = el('div', {
        class: 'bar',
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': b.limit,
        'aria-valuenow': b.used,
      }, el('span'))
      bar.firstChild.style.width = `${b.limit ? Math.min(100, (b.used / b.limit) * 100) : 0}%`
      const card = (label, ...v) =>
        el('div', { class: 'card stat' }, el('div', { class: 'label', text: label }), el('div', {}, ...v))
      document.getElementById('pf-health').replaceChildren(
        card(
          'State',
          badge(health.state, health.state === 'running' ? 'warn' : health.state === 'idle' ? 'ok' : 'muted'),
          health.enabled ? '' : el('span', { class: 'muted small', text: ' schedule off' }),
        ),
        card('Last run', dateTime(health.last_run && Date.parse(health.last_run))),
        card('Next scheduled run', health.next_run ? dateTime(Date.parse(health.next_run)) : 'not scheduled'),
        card(`Token budget ${b.day}`, `${tok(b.used)} of ${tok(b.limit)} used (${tok(b.remaining)} left)`, bar),
      )
      document.getElementById('pf-metrics').replaceChildren(
        table(
          [
            'Model',
            { label: 'Avg latency', num: 1 },
            { label: 'p95', num: 1 },
            { label: 'Avg TTFT', num: 1 },
            { label: 'Throughput', num: 1 },
            { label: 'Success', num: 1 },
            { label: 'Tests', num: 1 },
            'Last tested',
            { label: 'Score', num: 1 },
            '',
          ],
          metrics.data.map((m) =>
            el(
              'tr',
              {},
              td(code(m.target)),
              td(ms(m.avg_latency_ms), true),
              td(ms(m.p95_latency_ms), true),
              td(ms(m.avg_ttft_ms), true),
              td(m.tokens_per_sec === null ? '–' : `${num(m.tokens_per_sec, 1)} tok/s`, true),
              td(pct(m.success_rate), true),
              td(num(m.test_count), true),
              td(dateTime(Date.parse(m.last_tested))),
              td(num(m.performance_score, 3), true),
              td(m.demoted ? badge(`demoted: ${m.demoted_reasons.join(', ')}`, 'warn') : ''),
            )
          ),
          'No test has run yet.',
        ),
      )
    },
  }
  async function startTest(ev) {
    ev.preventDefault()
    const form = ev.target
    const models = [...form.querySelectorAll('input[name=model]:checked')].map((i) => i.value)
    const types = [...form.querySelectorAll('input[name=type]:checked')].map((i) => i.value)
    const status = document.getElementById('pf-status')
    const r = await api('/performance/test', { method: 'POST', body: { models, types }, allowError: true })
    if (r.status !== 202) {
      status.textContent = r.data.error ? r.data.error.message : `HTTP ${r.status}`
      status.className = 'error'
      return
    }
    job = r.data
    document.getElementById('pf-start').disabled = true
    status.className = ''
    pollJob(state.gen)
  }
  async function pollJob(gen) {
    while (job && gen === state.gen) {
      renderJob()
      if (job.status !== 'running') break
      await new Promise((r) => setTimeout(r, 2000))
      if (gen !== state.gen) return
      try {
        job = await api(`/performance/test/${job.id}`)
      } catch { /* shown by the connection line */ }
    }
    if (gen !== state.gen) return
    renderJob()
    const start = document.getElementById('pf-start')
    if (start) start.disabled = false
    views.performance.update().catch(() => {})
    views.performance.histories().catch(() => {})
  }
  function renderJob() {
    const box = document.getElementById('pf-job')
    if (!box || !job) return
    const p = job.progress
    const bar = el('div', {
      class: 'bar',
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': p.total,
      'aria-valuenow': p.done,
    }, el('span'))
    bar.firstChild.style.width = `${p.total ? (p.done / p.total) * 100 : 0}%`
    box.replaceChildren(
      el(
        'p',
        { id: 'pf-job-status', 'data-status': job.status },
        `Job `,
        code(job.id),
        `: ${job.status}, ${p.done} of ${p.total} tests done`,
      ),
      bar,
      job.results.length
        ? table(
          [
            'Model',
            'Type',
            { label: 'Runs', num: 1 },
            { label: 'Success', num: 1 },
            { label: 'Latency p50', num: 1 },
            { label: 'TTFT p50', num: 1 },
            { label: 'Throughput p50', num: 1 },
            'Stopped',
          ],
          job.results.map((r) =>
            el(
              'tr',
              {},
              td(code(r.target)),
              td(r.type),
              td(num(r.runs), true),
              td(pct(r.success_rate), true),
              td(ms(r.latency_ms && r.latency_ms.p50), true),
              td(ms(r.ttft_ms && r.ttft_ms.p50), true),
              td(r.tokens_per_sec ? `${num(r.tokens_per_sec.p50, 1)} tok/s` : '–', true),
              td(r.stopped_reason || ''),
            )
          ),
        )
        : '',
    )
  }

  // Requests
  let lastRequests = []
  views.requests = {
    title: 'Requests',
    every: 2000,
    render(root) {
      const onchange = () => this.draw()
      root.append(
        el('h2', { text: 'Recent requests' }),
        el(
          'div',
          { class: 'row', role: 'search' },
          el('label', { for: 'rq-q' }, 'Search'),
          el('input', { id: 'rq-q', type: 'search', placeholder: 'id, model, session, failure…', oninput: onchange }),
          el('label', { for: 'rq-scenario' }, 'Scenario'),
          el(
            'select',
            { id: 'rq-scenario', onchange },
            el('option', { value: '' }, 'all'),
            [...SCENARIOS, 'explicit', 'subagent', 'custom'].map((s) => el('option', { value: s }, s)),
          ),
          el('label', { for: 'rq-status' }, 'Status'),
          el(
            'select',
            { id: 'rq-status', onchange },
            el('option', { value: '' }, 'all'),
            el('option', { value: 'ok' }, 'success'),
            el('option', { value: 'error' }, 'errors'),
            el('option', { value: 'fallback' }, 'with fallbacks'),
            el('option', { value: 'continued' }, 'continued streams'),
          ),
          el('span', { class: 'muted small', id: 'rq-count' }),
        ),
        el('div', { id: 'rq-table' }),
        el('p', {
          class: 'muted small',
          text: 'Ids, routes, timings, token counts and cost only: prompt text and keys are never kept.',
        }),
      )
    },
    async update() {
      const r = await api('/v1/requests?limit=500')
      lastRequests = r.requests
      this.draw()
    },
    draw() {
      const q = (document.getElementById('rq-q') || {}).value || ''
      const sc = (document.getElementById('rq-scenario') || {}).value || ''
      const st = (document.getElementById('rq-status') || {}).value || ''
      const isErr = (r) => r.status < 200 || r.status >= 300 || r.failure
      const shown = lastRequests.filter((r) =>
        (!sc || r.scenario === sc) && (!st || (st === 'ok'
          ? !isErr(r)
          : st === 'error'
          ? isErr(r)
          : st === 'continued'
          ? r.continued > 0
          : r.fallbacks > 0)) &&
        (!q || [r.id, r.target, r.tier, r.failure, r.session].some((v) =>
          v && String(v).toLowerCase().includes(q.toLowerCase())
        ))
      )
      const box = document.getElementById('rq-table')
      if (!box) return
      document.getElementById('rq-count').textContent = `${shown.length} of ${lastRequests.length}`
      box.replaceChildren(
        table(
          [
            'Time',
            'Id',
            'Scenario',
            'Target',
            'Tier',
            { label: 'Attempts', num: 1 },
            { label: 'Fallbacks', num: 1 },
            'Continuation',
            'Status',
            { label: 'TTFB', num: 1 },
            { label: 'Duration', num: 1 },
            { label: 'Tokens in/out', num: 1 },
            { label: 'Cost', num: 1 },
            'Failure',
          ],
          shown.slice(0, 200).map((r) =>
            el(
              'tr',
              {},
              td(time(r.at)),
              td(code(r.id)),
              td(r.scenario),
              td(r.target ? code(r.target) : '–'),
              td(r.tier || '–'),
              td(num(r.attempts), true),
              td(num(r.fallbacks), true),
              td(r.continued ? `continued ×${r.continued}` : '–'),
              td(
                badge(
                  `${r.status}${r.stream ? ' · stream' : ''}${r.cache === 'hit' ? ' · cached' : ''}`,
                  isErr(r) ? 'bad' : 'ok',
                ),
              ),
              td(ms(r.ttfb_ms), true),
              td(ms(r.duration_ms), true),
              td(`${tok(r.input_tokens)} / ${tok(r.output_tokens)}`, true),
              td(usd(r.cost_usd), true),
              td(r.failure || ''),
            )
          ),
          lastRequests.length ? 'No request matches the filter.' : 'No request has finished yet.',
        ),
      )
    },
  }

  // Fleet
  views.fleet = {
    title: 'Fleet',
    every: 5000,
    render(root) {
      root.append(el('h2', { text: 'Fleet' }), el('div', { id: 'fl' }))
    },
    async update() {
      const h = await api('/health')
      const box = document.getElementById('fl')
      const fleet = h.fleet
      if (!fleet || !Array.isArray(fleet.members)) {
        box.replaceChildren(
          el('p', {
            class: 'notice',
            text:
              'Fleet mode is off: this instance runs alone. With fleet mode on, /health lists every instance and this view shows one row each.',
          }),
          table(['Instance', 'Version', { label: 'Uptime', num: 1 }, { label: 'Active streams', num: 1 }], [
            el(
              'tr',
              {},
              td(location.host),
              td(h.version),
              td(`${num(h.uptime_s / 3600, 1)} h`, true),
              td(num(h.active_streams), true),
            ),
          ]),
        )
        return
      }
      const card = (label, ...v) =>
        el('div', { class: 'card stat' }, el('div', { class: 'label', text: label }), el('div', {}, ...v))
      box.replaceChildren(
        el(
          'div',
          { class: 'grid' },
          card(
            'Shared state',
            badge(fleet.state, fleet.state === 'ok' ? 'ok' : fleet.state === 'degraded' ? 'bad' : 'warn'),
          ),
          card(
            'Redis',
            code(fleet.redis || '–'),
            fleet.redis_latency_ms === null || fleet.redis_latency_ms === undefined
              ? ''
              : el('span', { class: 'muted small', text: ` ${ms(fleet.redis_latency_ms)}` }),
          ),
          card(
            'This instance',
            code(fleet.instance_id || '–'),
            fleet.perf_leader ? ' ' : '',
            fleet.perf_leader ? badge('runs the scheduled tests', 'ok') : '',
          ),
          card('Instances', num(fleet.members.length)),
        ),
        table(
          ['Instance', 'Host', 'Version', { label: 'Heartbeat expires in', num: 1 }, ''],
          fleet.members.map((m) =>
            el(
              'tr',
              {},
              td(code(m.id)),
              td(m.host || '–'),
              td(m.version || '–'),
              td(ms(m.ttl_ms), true),
              td(m.self ? badge('this instance', 'ok') : ''),
            )
          ),
          'No instance has sent a heartbeat yet.',
        ),
        el('p', {
          class: 'muted small',
          text: "From this instance's /health: the instances whose heartbeat it sees in the shared store.",
        }),
      )
    },
  }

  // Config
  let configState = null
  views.config = {
    title: 'Config',
    every: 0,
    render(root) {
      root.append(
        el('div', { class: 'row' }, el('h2', { text: 'Config' }), el('span', { class: 'muted small', id: 'cf-path' })),
        el('p', {
          class: 'muted small',
          text:
            'The file as written, with secrets shown as ***: leave a *** alone to keep the value it stands for. $VAR references, comments and keys Switchyard does not know are kept. Saving validates first, writes atomically with a backup of the previous file, then reloads without dropping streams.',
        }),
        el(
          'div',
          { class: 'editor' },
          el(
            'div',
            { class: 'row' },
            el('button', { type: 'button', id: 'cf-validate', onclick: () => saveConfig(true) }, 'Validate'),
            el('button', {
              type: 'button',
              class: 'primary',
              id: 'cf-save',
              onclick: () => saveConfig(false),
            }, 'Save and reload'),
            el('button', { type: 'button', id: 'cf-reload', onclick: reloadConfig }, 'Reload file'),
            el('button', { type: 'button', id: 'cf-revert', onclick: () => this.update() }, 'Revert'),
          ),
          el('div', { id: 'cf-result', role: 'status', 'aria-live': 'polite' }),
          el('ul', { class: 'issues', id: 'cf-issues', 'aria-label': 'Problems' }),
          el('label', { for: 'cf-text', class: 'muted small' }, 'config.json'),
          el(
            'div',
            { class: 'code' },
            el('pre', { id: 'cf-gutter', 'aria-hidden': 'true' }),
            el('textarea', {
              id: 'cf-text',
              spellcheck: 'false',
              autocapitalize: 'off',
              autocomplete: 'off',
              wrap: 'off',
              oninput: () => drawGutter(),
              onscroll: (e) => {
                document.getElementById('cf-gutter').scrollTop = e.target.scrollTop
              },
            }),
          ),
        ),
        el('h3', { text: 'Presets' }),
        el('div', { id: 'cf-presets' }),
        el('p', {
          class: 'muted small',
          text:
            'Preset files in ~/.claude-code-router/presets/, served at /preset/NAME/v1/messages: switchyard preset install, export and delete manage them.',
        }),
      )
    },
    async update() {
      const presets = await api('/api/presets')
      document.getElementById('cf-presets').replaceChildren(table(
        ['Preset', 'Version', 'Default', 'Own providers', 'Inputs', 'State'],
        presets.presets.map((p) =>
          el(
            'tr',
            {},
            td(code(p.name)),
            td(p.version || '–'),
            td(p.targets.default ? code(p.targets.default) : '–'),
            td(p.providers.map((x) => x.name).join(', ') || '–'),
            td(
              p.inputs.length
                ? p.inputs.map((i) => `${i.id}: ${i.answer === 'none' ? 'not answered' : i.answer}`).join(', ')
                : '–',
            ),
            td(
              p.served
                ? el(
                  'span',
                  { title: p.warnings.join('\n') },
                  badge(
                    p.warnings.length ? `served, ${p.warnings.length} warning(s)` : 'served',
                    p.warnings.length ? 'warn' : 'ok',
                  ),
                )
                : el(
                  'span',
                  {},
                  badge('skipped', 'bad'),
                  ' ',
                  p.shadowed ? 'a config preset has this name' : p.problems.join('; '),
                ),
            ),
          )
        ),
        'No preset files.',
      ))
      configState = await api('/api/config')
      const ta = document.getElementById('cf-text')
      document.getElementById('cf-path').textContent = configState.path || 'demo mode: no file'
      ta.value = configState.text ?? JSON.stringify(configState.config, null, 2)
      ta.readOnly = configState.text === null
      for (const b of ['cf-validate', 'cf-save']) document.getElementById(b).disabled = configState.text === null
      showIssues(configState.errors, configState.errors.length ? 'The file on disk has problems:' : '')
    },
  }
  // Line numbers beside the editor, a problem's line marked in place (its message as a tooltip).
  let issueLines = new Map()
  function drawGutter() {
    const ta = document.getElementById('cf-text')
    const gutter = document.getElementById('cf-gutter')
    if (!ta || !gutter) return
    const n = ta.value.split('\n').length
    const lines = []
    for (let i = 1; i <= n; i++) {
      const msg = issueLines.get(i)
      lines.push(msg ? el('span', { class: 'bad', title: msg, text: `● ${i}` }) : String(i), '\n')
    }
    gutter.replaceChildren(...lines)
    gutter.scrollTop = ta.scrollTop
  }
  function showIssues(issues, lead, kind) {
    issueLines = new Map(issues.filter((i) => i.line).map((i) => [i.line, i.message]))
    drawGutter()
    const result = document.getElementById('cf-result')
    result.replaceChildren(
      lead ? el('p', { class: `notice ${kind || (issues.length ? 'bad' : 'ok')}`, text: lead }) : '',
    )
    document.getElementById('cf-issues').replaceChildren(
      ...issues.map((i) =>
        el(
          'li',
          {},
          i.line
            ? el(
              'button',
              { type: 'button', title: 'Go to the line', onclick: () => goToLine(i.line) },
              `line ${i.line}`,
            )
            : '',
          el('span', { class: 'error', text: i.message }),
        )
      ),
    )
  }
  function goToLine(line) {
    const ta = document.getElementById('cf-text')
    const lines = ta.value.split('\n')
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0)
    ta.focus()
    ta.setSelectionRange(start, start + (lines[line - 1] || '').length)
    ta.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(ta).lineHeight || '20'))
  }
  async function saveConfig(dryRun) {
    const text = document.getElementById('cf-text').value
    const r = await api('/api/config', {
      method: 'PUT',
      body: { text, etag: configState && configState.etag, dry_run: dryRun },
      allowError: true,
    })
    showIssues(r.data.errors || [], r.data.message, r.data.ok ? 'ok' : 'bad')
    if (r.data.ok && !dryRun) {
      configState.etag = r.data.etag
      const fresh = await api('/api/config')
      configState = fresh
      document.getElementById('cf-text').value = fresh.text ?? ''
      drawGutter()
    }
  }
  async function reloadConfig() {
    const r = await api('/api/config/reload', { method: 'POST', allowError: true })
    showIssues([], r.data.message, r.data.ok ? 'ok' : 'bad')
  }

  // ---------- navigation and polling ----------
  function stopTimers() {
    for (const t of state.timers) clearTimeout(t)
    state.timers = []
  }
  function show(name, force) {
    if (!views[name]) name = 'overview'
    if (name === state.view && !force) return
    state.gen++
    stopTimers()
    for (const c of state.charts) c.u.destroy()
    state.charts = []
    state.view = name
    for (const a of document.querySelectorAll('#tabs a')) {
      if (a.getAttribute('href') === `#${name}`) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    }
    document.title = `${views[name].title} · Switchyard`
    main.replaceChildren()
    // `data-updated` marks the first data of this view (tests and scripts wait for it).
    delete main.dataset.updated
    main.dataset.view = name
    views[name].render(main)
    const gen = state.gen
    const tick = async () => {
      if (gen !== state.gen) return
      if (!document.hidden) {
        try {
          await views[name].update()
          main.dataset.updated = String(Date.now())
        } catch (e) {
          if (e.status !== 401 && e.status !== 429) setConn(false, e.message)
        }
      }
      if (gen === state.gen && views[name].every) state.timers.push(setTimeout(tick, views[name].every))
    }
    tick()
  }
  addEventListener('hashchange', () => {
    show(location.hash.slice(1))
    main.focus()
  })
  show(location.hash.slice(1) || 'overview')
})()
