/** The targets a config names, for whoever needs all of them (the active tests probe each). */
import type { Config } from './types.ts'

/** Every `provider,model` pair in the config, in config order. */
export function configuredTargets(config: Pick<Config, 'providers'>): string[] {
  return config.providers.flatMap((p) => p.models.map((m) => `${p.name},${m}`))
}
