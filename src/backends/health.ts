// SPDX-License-Identifier: AGPL-3.0-or-later
/** Probe results per backend: the latest state plus a ring of the last 20 probes. */
export const HISTORY = 20

export type ProbeResult = { at: number; healthy: boolean; latencyMs: number; error?: string }

export type Health = {
  healthy: boolean
  lastProbeAt?: number
  lastError?: string
  latencyMs: number
  history: ProbeResult[]
}

export function emptyHealth(): Health {
  return { healthy: false, latencyMs: 0, history: [] }
}

export function recordProbe(h: Health, r: ProbeResult): void {
  h.healthy = r.healthy
  h.lastProbeAt = r.at
  h.latencyMs = r.latencyMs
  h.lastError = r.error
  h.history.push(r)
  if (h.history.length > HISTORY) h.history.splice(0, h.history.length - HISTORY)
}
