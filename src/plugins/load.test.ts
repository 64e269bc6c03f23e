import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { resolvePluginPath } from './load.ts'

describe('resolvePluginPath', () => {
  it('~ is the home directory, absolute paths stay, relative ones join the base directory', () => {
    const base = { home: '/home/u', dir: '/etc/ccr' }
    assert.equal(resolvePluginPath('~/r.js', base), '/home/u/r.js')
    assert.equal(resolvePluginPath('/opt/r.js', base), '/opt/r.js')
    assert.equal(resolvePluginPath('plugins/r.js', base), '/etc/ccr/plugins/r.js')
    assert.equal(resolvePluginPath('../r.js', base), '/etc/r.js')
  })
})
