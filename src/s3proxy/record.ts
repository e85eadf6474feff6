// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What one request through the S3 listener leaves behind, written from a
 * single per-request record that only the pipeline fills in: Prometheus
 * metrics always, one access-log line (at `log.access_level`), and an audit
 * row for every write, bucket administration, error and denial plus a sample
 * (`audit.sampling.proxy_success_read_rate`) of successful reads. CORS
 * preflights are counted but not audited. A write's row is committed before
 * its answer is sent (beforeAnswer), so an acknowledged write is audited.
 */
import type { AuditEvent } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { AppConfig } from '../config/load.ts'
import type { ResolvedCredential } from '../credentials/service.ts'
import type { Logger } from '../lib/log.ts'
import type { Access } from './classify.ts'
import type { AuthMode, ProxyMetrics } from './metrics.ts'
import type { AuthFailReason } from './sigv4/verify.ts'

export type RequestRecord = {
  id: string
  method: string
  ip: string
  userAgent: string | null
  /** performance.now() at arrival. */
  start: number
  /** Wall clock at arrival (ms), the time every check of this request uses. */
  now: number
  /** Operation label: the allowlist name, `PostObject`, `CORSPreflight` or `unknown`. */
  op: string
  access?: Access
  authMode: AuthMode
  cred?: ResolvedCredential
  /** Access key the client claimed, when authentication failed before a credential was found. */
  claimedKey?: string
  authFailure?: AuthFailReason
  backendId?: string
  bucket?: string
  key?: string
  /** `/bucket/key` for error documents. */
  resource: string
  /** 0 until an answer was written; 499 when the client left before one. */
  status: number
  /** `ok`, or a bounded reason for a refusal or failure. */
  reason: string
  bytesIn: number
  bytesOut: number
  /** How long the path (upstream or engine) took to produce its answer's head. */
  servedMs?: number
}

export function createRecorder(d: { config: AppConfig; metrics: ProxyMetrics; audit: AuditRecorder; logger: Logger }) {
  const readSample = d.config.audit.sampling.proxy_success_read_rate
  const accessLevel = d.config.log.access_level
  const m = d.metrics

  function log(r: RequestRecord, durationMs: number): void {
    if (accessLevel === 'off') return
    d.logger.log(accessLevel, 'request', {
      request_id: r.id,
      listener: 's3-proxy',
      method: r.method,
      operation: r.op,
      status: r.status,
      duration_ms: Math.round(durationMs * 10) / 10,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      auth_mode: r.authMode,
      ...(r.cred ? { access_key: r.cred.accessKey } : r.claimedKey ? { claimed_access_key: r.claimedKey } : {}),
      ...(r.reason !== 'ok' ? { result: r.reason } : {}),
      ip: r.ip,
    })
  }

  /** Writes whose audit row was committed before their answer went out. */
  const auditedEarly = new WeakSet<RequestRecord>()

  function audit(r: RequestRecord): void {
    if (r.authMode === 'cors' || auditedEarly.has(r)) return
    const failed = r.status >= 400
    if (!failed && (r.access ?? 'read') === 'read' && !(readSample > 0 && Math.random() < readSample)) return
    void d.audit.record(event(r))
  }

  function event(r: RequestRecord): AuditEvent {
    const failed = r.status >= 400
    return {
      action: `s3.proxy.${r.op.toLowerCase()}`,
      status: !failed ? 'ok' : r.status >= 500 ? 'error' : 'denied',
      userId: r.cred?.userId ?? null,
      backend: r.backendId ?? null,
      bucket: r.bucket ?? null,
      key: r.key ?? null,
      requestId: r.id,
      ip: r.ip,
      userAgent: r.userAgent,
      detail: {
        auth_mode: r.authMode,
        ...(r.cred ? { access_key: r.cred.accessKey } : r.claimedKey ? { claimed_access_key: r.claimedKey } : {}),
        status: r.status,
        result: r.reason,
        ...(r.bytesIn > 0 ? { bytes_in: r.bytesIn } : {}),
      },
    }
  }

  return {
    /** A request has arrived. */
    begin(): void {
      m.inFlight.inc()
    },
    /**
     * A write's answer (status known, not yet sent) may go out only once its
     * audit row is committed; rejects with `store_unavailable` when it cannot be.
     */
    async beforeAnswer(r: RequestRecord): Promise<void> {
      if ((r.access ?? 'read') === 'read' || r.authMode === 'cors') return
      auditedEarly.add(r)
      await d.audit.record(event(r))
    },
    /** The request is over: its answer ended, or the client left. */
    finish(r: RequestRecord): void {
      const durationMs = performance.now() - r.start
      m.inFlight.dec()
      m.requests.inc({ operation: r.op, status: String(r.status), auth_mode: r.authMode })
      m.duration.observe({ operation: r.op }, durationMs / 1000)
      if (r.servedMs !== undefined) m.upstream.observe({ operation: r.op }, r.servedMs / 1000)
      if (r.bytesIn > 0) m.bytesIn.inc({ operation: r.op }, r.bytesIn)
      if (r.bytesOut > 0) m.bytesOut.inc({ operation: r.op }, r.bytesOut)
      if (r.authFailure) m.authFailures.inc({ reason: r.authFailure })
      if (r.status >= 400 && r.authMode !== 'cors' && r.reason !== 'ok' && !r.reason.startsWith('auth-') && !r.reason.startsWith('upstream'))
        m.denials.inc({ reason: r.reason })
      log(r, durationMs)
      audit(r)
    },
  }
}
