import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { serverPid, startRedis } from './redis.ts'

describe("the fleet tests' private redis-server", () => {
  it('a restart on a port another Redis took meanwhile rejects instead of handing over that server', async () => {
    const r = await startRedis()
    await r.kill()
    // Someone else's server on the freed port: a test talking to it would share its keys and its life.
    const other = spawn(process.env.REDIS_SERVER ?? 'redis-server', [
      '--port',
      String(r.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
    ], { stdio: 'ignore' })
    try {
      let otherPid: number | undefined
      for (let i = 0; i < 100 && otherPid !== other.pid; i++) {
        otherPid = await serverPid(r.port)
        if (otherPid !== other.pid) await new Promise((res) => setTimeout(res, 50))
      }
      assert.equal(otherPid, other.pid, 'the other server is up')
      await assert.rejects(r.restart(), /port taken/)
      assert.equal(await serverPid(r.port), other.pid, 'the other server is left alone')
    } finally {
      const exited = new Promise((res) => other.once('exit', res))
      other.kill('SIGKILL')
      await exited
    }
  })
})
