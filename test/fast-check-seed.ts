/**
 * Loaded before every test file (bunfig.toml `[test] preload`; `deno test --preload`): one
 * fixed fast-check seed for every property test, so CI runs the same cases every time and a
 * failure reproduces. fast-check's failure report names the seed and the shrunk path.
 *
 *   FC_SEED unset     the fixed default below (CI)
 *   FC_SEED=1234      that seed (to replay a failure)
 *   FC_SEED=random    a fresh seed, printed first (nightly-style exploration)
 *   FC_RUNS=1000      more runs per property than each test asks for (optional)
 */
import fc from 'fast-check'

export const DEFAULT_SEED = 20_261_130

function seedFrom(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_SEED
  if (raw === 'random') return Math.floor(Math.random() * 0x7fffffff)
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED: expected a whole number or "random", got "${raw}"`)
  return n
}

const seed = seedFrom(process.env.FC_SEED)
const runs = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : undefined
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed, ...(runs && runs > 0 ? { numRuns: runs } : {}) })
if (process.env.FC_SEED === 'random') console.log(`fast-check seed ${seed}: replay with FC_SEED=${seed}`)
