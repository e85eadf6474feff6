// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'

export type CheckResult = { ok: boolean; reason?: string; [k: string]: unknown }

export type ReadinessCheck = {
  name: string
  /** A failing critical check makes /readyz answer 503; others only report. */
  critical: boolean
  run(): CheckResult | Promise<CheckResult>
}

const CheckDTO = t.Object({ ok: t.Boolean(), reason: t.Optional(t.String()), driver: t.Optional(t.String()) }, { additionalProperties: true })

export function healthRoutes(d: { guard: Guard; checks: () => ReadinessCheck[] }) {
  return new Elysia()
    .use(d.guard)
    .get('/healthz', () => ({ status: 'ok' as const }), {
      access: 'public',
      response: { 200: t.Object({ status: t.Literal('ok') }) },
      detail: { tags: ['health'], summary: 'Liveness: the process answers' },
    })
    .get(
      '/readyz',
      async ({ set }) => {
        const checks: Record<string, typeof CheckDTO.static> = {}
        let ready = true
        for (const c of d.checks()) {
          let r: CheckResult
          try {
            r = await c.run()
          } catch (err) {
            r = { ok: false, reason: (err as Error).message }
          }
          checks[c.name] = r
          if (!r.ok && c.critical) ready = false
        }
        set.headers['cache-control'] = 'no-store'
        if (!ready) set.status = 503
        return { status: ready ? ('ready' as const) : ('not_ready' as const), checks }
      },
      {
        access: 'public',
        response: {
          200: t.Object({ status: t.String(), checks: t.Record(t.String(), CheckDTO) }),
          503: t.Object({ status: t.String(), checks: t.Record(t.String(), CheckDTO) }),
        },
        detail: { tags: ['health'], summary: 'Readiness: database, migrations and sign-in providers' },
      },
    )
}
