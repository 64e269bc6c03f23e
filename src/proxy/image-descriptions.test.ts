import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ImageDescriptionMemory } from './image-descriptions.ts'

describe('ImageDescriptionMemory', () => {
  it('asks once per image: concurrent askers share the one question, later ones get the answer', async () => {
    const m = new ImageDescriptionMemory()
    let asked = 0
    let answer!: (d: string) => void
    const ask = () => {
      asked++
      return new Promise<string>((r) => (answer = r))
    }
    const both = Promise.all([m.of('h', ask), m.of('h', ask)])
    answer('a cat')
    assert.deepEqual(await both, ['a cat', 'a cat'])
    assert.equal(await m.of('h', ask), 'a cat')
    assert.equal(asked, 1)
  })

  it('no answer (or a failed question) is not remembered: the next request asks again', async () => {
    const m = new ImageDescriptionMemory()
    let asked = 0
    assert.equal(await m.of('h', async () => (asked++, undefined)), undefined)
    assert.equal(await m.of('h', () => (asked++, Promise.reject(new Error('down')))), undefined)
    assert.equal(await m.of('h', async () => (asked++, 'a dog')), 'a dog')
    assert.equal(asked, 3)
    assert.equal(m.size, 1)
  })

  it('bounded: the least recently used description goes first', async () => {
    const m = new ImageDescriptionMemory()
    await m.of('first', async () => 'kept, as it is used again')
    await m.of('second', async () => 'dropped')
    for (let i = 0; i < 498; i++) await m.of(`n${i}`, async () => 'x')
    await m.of('first', async () => 'asked again')
    await m.of('overflow', async () => 'x')
    assert.equal(m.size, 500)
    assert.equal(await m.of('first', async () => 'asked again'), 'kept, as it is used again')
    assert.equal(await m.of('second', async () => 'asked again'), 'asked again')
  })
})
