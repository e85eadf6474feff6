// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's Prometheus metrics, in the app's registry. Every label is
 * bounded: operation names come from the allowlist (plus `unknown`), status
 * is the numeric HTTP status, auth mode and reasons are fixed sets — never
 * access keys, buckets, keys or paths.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type AuthMode = 'signed' | 'presigned' | 'anonymous' | 'post-policy' | 'cors' | 'none'

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>

const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export function createProxyMetrics(registry: Registry, credentialCount: () => number) {
  const r = [registry]
  return {
    requests: new Counter({
      name: 'stowage_s3_requests_total',
      help: 'S3 proxy requests by operation, HTTP status and auth mode.',
      labelNames: ['operation', 'status', 'auth_mode'] as const,
      registers: r,
    }),
    duration: new Histogram({
      name: 'stowage_s3_request_duration_seconds',
      help: 'S3 proxy request duration (until the response ended) by operation.',
      labelNames: ['operation'] as const,
      buckets: LATENCY,
      registers: r,
    }),
    upstream: new Histogram({
      name: 'stowage_s3_upstream_duration_seconds',
      help: 'Time the storage path took to answer (for an upstream: until its response headers arrived), by operation.',
      labelNames: ['operation'] as const,
      buckets: LATENCY,
      registers: r,
    }),
    bytesIn: new Counter({
      name: 'stowage_s3_bytes_in_total',
      help: 'Request body bytes forwarded upstream (decoded), by operation.',
      labelNames: ['operation'] as const,
      registers: r,
    }),
    bytesOut: new Counter({
      name: 'stowage_s3_bytes_out_total',
      help: 'Response body bytes sent to clients, by operation.',
      labelNames: ['operation'] as const,
      registers: r,
    }),
    inFlight: new Gauge({ name: 'stowage_s3_inflight_requests', help: 'S3 proxy requests being served.', registers: r }),
    authFailures: new Counter({
      name: 'stowage_s3_auth_failures_total',
      help: 'Refused S3 proxy authentications by reason.',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    denials: new Counter({
      name: 'stowage_s3_denials_total',
      help: 'Authenticated S3 proxy requests refused, by reason (scope-violation, read-only, grant-denied, grant-read-only, admin-op, acl, quota-exceeded, rate-limited, …).',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    credentials: new Gauge({
      name: 'stowage_s3_credentials',
      help: 'Virtual credentials the proxy can authenticate (enabled, with a readable secret).',
      registers: r,
      collect() {
        this.set(credentialCount())
      },
    }),
  }
}
