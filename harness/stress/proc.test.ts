import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { freePort, mainThreadCpuSec, readProc, spawnServer } from './proc.ts'

describe('process helpers', () => {
  it('reads RSS, peak RSS and CPU of this process from /proc (Linux)', () => {
    const s = readProc(process.pid)
    if (s === undefined) return // not Linux: figures are reported as unknown
    assert.ok(s.rssMb > 1 && s.hwmMb >= s.rssMb * 0.5, JSON.stringify(s))
    assert.ok(s.cpuSec >= 0)
    assert.equal(readProc(2 ** 22 + 7), undefined)
  })

  // Bun runs JavaScript on the process's first thread, which this reads; `deno test` does not.
  it("reads the main thread's CPU apart from the whole process's (Linux)", {
    skip: !('Bun' in globalThis) && 'Bun only: under deno test, JavaScript runs on another thread',
  }, () => {
    const before = mainThreadCpuSec(process.pid)
    if (before === undefined) return // not Linux
    let x = 0
    const end = Date.now() + 120
    while (Date.now() < end) x += Math.sqrt(x + 1) // busy on this thread
    const main = mainThreadCpuSec(process.pid)!
    assert.ok(x > 0 && main > before, `${before} → ${main}`)
    assert.ok(main <= readProc(process.pid)!.cpuSec + 0.01, 'one thread never used more than the process')
    assert.equal(mainThreadCpuSec(2 ** 22 + 7), undefined)
  })

  it('freePort returns a bindable port and spawnServer waits for the ready line', async () => {
    const port = await freePort()
    assert.ok(port > 0 && port < 65536)
    const script =
      'console.log("booting"); setTimeout(() => console.log("x listening on http://127.0.0.1:1234/"), 50); setInterval(() => {}, 1000)'
    const child = await spawnServer(process.execPath, ['-e', script], 10_000)
    assert.equal(child.url, 'http://127.0.0.1:1234')
    assert.match(child.output(), /booting/)
    await child.stop()
    await assert.rejects(spawnServer(process.execPath, ['-e', 'process.exit(4)'], 10_000), /exited with 4/)
  })
})
