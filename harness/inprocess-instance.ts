/**
 * A real Switchyard instance whose upstream is the in-process mock (no sockets), loaded from
 * `src/` of the checkout at `root`: shared by `inprocess.ts` and `stream-heap.ts`. Providers
 * `anth` (Anthropic, model `mock-a`) and `oai` (OpenAI, `mock-o`); log off.
 */
export async function inProcessInstance(root: string, sleep: () => Promise<void>) {
  const { createMockUpstream } = await import(`${root}/src/demo/upstream.ts`)
  const { createInstance } = await import(`${root}/src/compose.ts`)
  const { parseConfig } = await import(`${root}/src/config/load.ts`)
  const { knownTransformer } = await import(`${root}/src/formats/index.ts`)
  const { createLogger } = await import(`${root}/src/log.ts`)
  const mock = createMockUpstream({ sleep })
  const file = {
    LOG: false,
    Providers: [
      {
        name: 'anth',
        api_base_url: 'http://mock.test/v1/messages',
        api_key: 'k1',
        models: ['mock-a'],
        transformer: { use: ['Anthropic'] },
      },
      { name: 'oai', api_base_url: 'http://mock.test/v1/chat/completions', api_key: 'k2', models: ['mock-o'] },
    ],
    Router: { default: 'oai,mock-o' },
  }
  const parsed = parseConfig(JSON.stringify(file), {}, { knownTransformer })
  if (!parsed.ok) throw new Error(parsed.error.join('; '))
  const inst = await createInstance(parsed.value.config, {
    dataDir: ':memory:',
    fetch: (req: Request) => mock.fetch(req),
    log: createLogger({ enabled: false }),
  })
  return { mock, inst }
}
