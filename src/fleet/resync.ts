/**
 * When the fleet resynchronises after its Redis link comes back from `degraded` (heartbeat,
 * lease renewal, breakers and holds reloaded, usage and measurements rewritten): at once after
 * a real outage, but at most once per `everyMs`. During a partial Redis Cluster outage (one
 * master down) the link flips between `ok` and `degraded` as calls for the dead master's slots
 * fail and the others succeed; each flip used to resync, several times a second. Flips within
 * the interval are coalesced into one resync when it ends, if the link is up then (else the
 * next recovery runs it at once). Pure: the clock and the timer are injected.
 */

export interface ResyncPacerOptions {
  /** The least time between two resyncs. */
  readonly everyMs: number
  readonly now: () => number
  /** Calls `fn` once after `ms`; answers a function that cancels it. */
  readonly after: (ms: number, fn: () => void) => () => void
  /** Whether the link is up now: a coalesced resync waits for the next recovery otherwise. */
  readonly up: () => boolean
  readonly resync: () => void
}

export interface ResyncPacer {
  /** The link came back from `degraded`: resyncs now, or once the interval since the last resync ends. */
  recovered(): void
  /** Drops a resync still waiting (the link is closing). */
  stop(): void
}

export function resyncPacer(o: ResyncPacerOptions): ResyncPacer {
  let last = -Infinity
  /** A recovery happened since the last resync. */
  let owed = false
  let cancel: (() => void) | undefined

  const attempt = (): void => {
    if (!owed || !o.up()) return
    const wait = last + o.everyMs - o.now()
    if (wait > 0) {
      cancel ??= o.after(wait, () => {
        cancel = undefined
        attempt()
      })
      return
    }
    owed = false
    last = o.now()
    o.resync()
  }

  return {
    recovered: () => {
      owed = true
      attempt()
    },
    stop: () => {
      cancel?.()
      cancel = undefined
      owed = false
    },
  }
}
