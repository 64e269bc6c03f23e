/**
 * The configuration used when no config file exists: two providers on the local mock
 * upstream, one per wire format, with the Router scenarios spread over both so that a fresh
 * `npm start` exercises both translation directions and a fallback.
 */
import { normalise } from './normalise.ts'
import { configSchemas } from './schema.ts'
import type { Config } from './types.ts'

/** Demo model ids: the mock echoes any model, these just read well in logs and headers. */
export const DEMO_MODELS = {
  anthropic: ['claude-sonnet-demo', 'claude-haiku-demo'],
  openai: ['gpt-demo', 'gpt-long-demo'],
} as const

/** The CCR-shaped file behind `demoConfig`, exported so `--print-config` can show it. */
export function demoConfigFile(mockUrl: string): Record<string, unknown> {
  const base = mockUrl.replace(/\/+$/, '')
  return {
    LOG_LEVEL: 'info',
    Providers: [
      {
        name: 'mock-anthropic',
        api_base_url: `${base}/v1/messages`,
        api_key: 'demo',
        models: [...DEMO_MODELS.anthropic],
      },
      {
        name: 'mock-openai',
        api_base_url: `${base}/v1/chat/completions`,
        api_key: 'demo',
        models: [...DEMO_MODELS.openai],
      },
    ],
    Router: {
      default: 'mock-openai,gpt-demo',
      background: 'mock-anthropic,claude-haiku-demo',
      think: 'mock-anthropic,claude-sonnet-demo',
      longContext: 'mock-openai,gpt-long-demo',
    },
    fallback: {
      default: ['mock-anthropic,claude-sonnet-demo'],
      think: ['mock-openai,gpt-demo'],
      background: ['mock-openai,gpt-demo'],
      longContext: ['mock-anthropic,claude-sonnet-demo'],
    },
  }
}

/**
 * A complete `Config` (every default filled in by the same schema a real file goes through)
 * pointing at the mock upstream at `mockUrl` (e.g. `http://127.0.0.1:3999`).
 */
export function demoConfig(mockUrl: string): Config {
  // A schema failure here is a bug in the literal above, so parse (throwing) is right.
  return normalise(configSchemas().file.parse(demoConfigFile(mockUrl))).config
}
