// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * In-memory request statistics for the admin dashboard: the last 24 hours in
 * hourly buckets, per-backend counts and the last 50 5xx answers. A 5xx that
 * is a refusal by design (a full quota, a disabled feature, an operation the
 * backend cannot do) is counted apart from a fault (a crash, an unreachable
 * backend or database), so the red figure means something is broken. Only
 * `/api/*` requests count. Paths are recorded as route templates, never raw
 * URLs, so object keys and ids do not end up on the dashboard. Statistics
 * reset when the process restarts (Prometheus keeps the long-term series).
 */
const HOURS = 24
const HOUR_MS = 3_600_000
const MAX_RECENT = 50

/** 5xx codes that are answers by design, not something broken. */
const REFUSALS: ReadonlySet<string> = new Set(['quota_exceeded', 'not_supported', 's3_proxy_disabled', 'secret_key_unset'])

export type RecentError = {
  when: string
  path: string
  method: string
  status: number
  kind: 'fault' | 'refusal'
  code?: string
  user_id?: string
  backend?: string
}

type Hour = { unixHour: number; requests: number; errors: number; refusals: number; byBackend: Map<string, number> }

export type RequestSample = { method: string; route: string | undefined; pathname: string; status: number; code?: string; userId?: string; at: number }

/** The value of `:bid` in `pathname`, found by lining it up with the route template. */
export function backendOf(route: string, pathname: string): string | undefined {
  const names = route.split('/')
  const i = names.indexOf(':bid')
  if (i < 0) return undefined
  const value = pathname.split('/')[i]
  if (!value) return undefined
  try {
    return decodeURIComponent(value)
  } catch {
    return undefined
  }
}

export type RequestStats = ReturnType<typeof createRequestStats>

export function createRequestStats(d: { now: () => number; isBackend: (id: string) => boolean }) {
  const hours: Hour[] = []
  const recent: RecentError[] = []

  function hourFor(at: number): Hour {
    let h = hours[hours.length - 1]
    // A sample stamped before the newest hour (clock step) joins the newest hour, keeping the list ordered.
    const unixHour = Math.max(Math.floor(at / HOUR_MS), h?.unixHour ?? 0)
    if (!h || h.unixHour !== unixHour) {
      h = { unixHour, requests: 0, errors: 0, refusals: 0, byBackend: new Map() }
      hours.push(h)
      while (hours.length > 0 && hours[0]!.unixHour <= unixHour - HOURS) hours.shift()
    }
    return h
  }

  return {
    record(s: RequestSample): void {
      if (!s.pathname.startsWith('/api/')) return
      const route = s.route ?? 'unmatched'
      // Only configured backends become keys, so made-up ids in URLs cannot grow the map.
      const raw = s.route ? backendOf(s.route, s.pathname) : undefined
      const backend = raw !== undefined && d.isBackend(raw) ? raw : undefined
      const h = hourFor(s.at)
      h.requests++
      if (backend) h.byBackend.set(backend, (h.byBackend.get(backend) ?? 0) + 1)
      if (s.status < 500) return
      const kind = s.code !== undefined && REFUSALS.has(s.code) ? 'refusal' : 'fault'
      if (kind === 'fault') h.errors++
      else h.refusals++
      recent.unshift({
        when: new Date(s.at).toISOString(),
        path: route,
        method: s.method,
        status: s.status,
        kind,
        ...(s.code ? { code: s.code } : {}),
        ...(s.userId ? { user_id: s.userId } : {}),
        ...(backend ? { backend } : {}),
      })
      if (recent.length > MAX_RECENT) recent.length = MAX_RECENT
    },

    snapshot() {
      const current = Math.floor(d.now() / HOUR_MS)
      const live = hours.filter((h) => h.unixHour > current - HOURS && h.unixHour <= current)
      const byHour = new Map(live.map((h) => [h.unixHour, h]))
      const hourly = Array.from({ length: HOURS }, (_, i) => {
        const unixHour = current - HOURS + 1 + i
        const h = byHour.get(unixHour)
        return { unix_hour: unixHour, requests: h?.requests ?? 0, errors: h?.errors ?? 0, refusals: h?.refusals ?? 0 }
      })
      const byBackend: Record<string, number> = {}
      for (const h of live) for (const [id, n] of h.byBackend) byBackend[id] = (byBackend[id] ?? 0) + n
      const since = d.now() - HOURS * HOUR_MS
      return {
        total_24h: hourly.reduce((n, h) => n + h.requests, 0),
        errors_24h: hourly.reduce((n, h) => n + h.errors, 0),
        refusals_24h: hourly.reduce((n, h) => n + h.refusals, 0),
        hourly,
        by_backend: byBackend,
        recent_errors: recent.filter((e) => Date.parse(e.when) > since),
      }
    },
  }
}
