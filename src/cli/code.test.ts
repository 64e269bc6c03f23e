import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { findExecutable } from './code.ts'

describe('findExecutable (the Claude Code check before `code` starts anything)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-which-'))
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  const exe = join(bin, 'claude')
  writeFileSync(exe, '#!/bin/sh\n')
  chmodSync(exe, 0o755)
  const plain = join(bin, 'plain')
  writeFileSync(plain, 'not executable')
  chmodSync(plain, 0o644)
  const skip = process.platform === 'win32'

  it('finds a bare name on PATH, in PATH order, and nothing when PATH lacks it', { skip }, () => {
    assert.equal(findExecutable('claude', { PATH: [join(dir, 'none'), '', bin].join(delimiter) }), exe)
    assert.equal(findExecutable('claude', { PATH: dir }), undefined)
    assert.equal(findExecutable('claude', {}), undefined)
  })

  it('takes a path as it is: an executable file, not a directory, a missing or a non-executable file', { skip }, () => {
    assert.equal(findExecutable(exe, {}), exe)
    assert.equal(findExecutable(bin, {}), undefined)
    assert.equal(findExecutable(join(bin, 'missing'), { PATH: bin }), undefined)
    assert.equal(findExecutable(plain, {}), undefined)
    assert.equal(findExecutable('plain', { PATH: bin }), undefined)
    assert.equal(findExecutable('', { PATH: bin }), undefined)
  })
})
