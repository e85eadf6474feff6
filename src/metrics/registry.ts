// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One prom-client registry per app instance (tests build several apps in one
 * process). Labels are bounded by construction: route templates, methods,
 * status classes, backend ids from config/DB, operation names — never raw
 * paths, keys, user names or access keys.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics(opts: { defaults: boolean } = { defaults: true }) {
  const registry = new Registry()
  if (opts.defaults) collectDefaultMetrics({ register: registry })
  const r = [registry]
  return {
    registry,
    httpRequests: new Counter({
      name: 'stowage_http_requests_total',
      help: 'Dashboard HTTP requests by method, route template and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: r,
    }),
    httpDuration: new Histogram({
      name: 'stowage_http_request_duration_seconds',
      help: 'Dashboard request duration by method and route template.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    httpBytesOut: new Counter({
      name: 'stowage_http_response_bytes_total',
      help: 'Dashboard response body bytes by route template.',
      labelNames: ['route'] as const,
      registers: r,
    }),
    httpInFlight: new Gauge({ name: 'stowage_http_in_flight_requests', help: 'Dashboard requests being served.', registers: r }),
    auditWritten: new Counter({ name: 'stowage_audit_events_written_total', help: 'Audit events written to the database.', registers: r }),
    auditShed: new Counter({
      name: 'stowage_audit_events_shed_total',
      help: 'Audit events shed because the write queue was full (each is also logged).',
      registers: r,
    }),
    auditQueue: new Gauge({ name: 'stowage_audit_queue_length', help: 'Audit events waiting to be written.', registers: r }),
    loginAttempts: new Counter({
      name: 'stowage_login_attempts_total',
      help: 'Sign-in attempts by mode and result.',
      labelNames: ['mode', 'result'] as const,
      registers: r,
    }),
    sessionsActive: new Gauge({ name: 'stowage_sessions_active', help: 'Unexpired sessions in the database.', registers: r }),
    sqliteBytes: new Gauge({ name: 'stowage_sqlite_db_bytes', help: 'Size of the SQLite database file.', registers: r }),
  }
}
