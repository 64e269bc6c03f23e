/**
 * Every secret a config holds (provider keys, header values, the inbound APIKEY, credentials
 * in proxy and provider URLs), and a scrubber that removes them from text. Upstream error
 * bodies sometimes echo the request, headers included; the pattern-based `redact` of the
 * formats layer cannot know a key that looks like nothing in particular, so every upstream
 * error is scrubbed of the configured values themselves before it can reach a client.
 */
import type { Config } from './types.ts'

/** Shorter values are not treated as secrets: scrubbing "k" would garble every message. */
export const MIN_SECRET_CHARS = 6

const REPLACEMENT = '[redacted]'

function urlSecrets(url: string | undefined): string[] {
  if (!url) return []
  try {
    const u = new URL(url)
    const out = [u.username, u.password].filter((x) => x !== '')
    for (const [, v] of u.searchParams) out.push(v)
    return out.flatMap((x) => {
      try {
        return [x, decodeURIComponent(x)]
      } catch {
        return [x]
      }
    })
  } catch {
    return []
  }
}

/** The secret strings of `config`, longest first, each also in its URL-encoded and JSON-escaped spelling. */
export function configSecrets(config: Config): string[] {
  const raw = [
    config.apiKey ?? '',
    ...config.providers.flatMap((p) => [
      p.apiKey,
      ...Object.values(p.headers),
      ...urlSecrets(p.baseUrl),
      p.vertex?.serviceAccount?.private_key ?? '',
    ]),
    ...urlSecrets(config.proxyUrl),
  ]
  const spelled = raw.flatMap((s) => [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])
  // A "Bearer sk-…" header value also hides the key inside it.
  const parts = raw.flatMap((s) => s.split(/\s+/))
  return [...new Set([...spelled, ...parts])].filter((s) => s.length >= MIN_SECRET_CHARS).sort((a, b) =>
    b.length - a.length
  )
}

/** A function that replaces every occurrence of any of `secrets` in a text. */
export function secretScrubber(secrets: readonly string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REPLACEMENT)
    return out
  }
}

const scrubbers = new WeakMap<Config, (text: string) => string>()

/** The scrubber of `config`, built once per config object. */
export function scrubberOf(config: Config): (text: string) => string {
  let s = scrubbers.get(config)
  if (!s) {
    s = secretScrubber(configSecrets(config))
    scrubbers.set(config, s)
  }
  return s
}
