// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Caps that hold, on fs and RGW, through the HTTP surface: 50 concurrent
 * downloads of a share capped at 5 give exactly 5 successes; a video player's
 * Range requests continue one counted download under its grant; a fresh
 * client's mid-file Range (no grant) is counted as a new download; HEAD never
 * counts; a grant outlives neither revocation nor expiry.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { serve } from '../../src/server.ts'
import { errorCode } from '../helpers/app.ts'
import { auditRows, drain, KINDS, makeShare, row, shareEnv, Visitor, type Env } from './fixture.ts'

const SIZE = 200_000
const VIDEO = new Uint8Array(SIZE)
VIDEO.set([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d])
for (let i = 12; i < SIZE; i++) VIDEO[i] = (i * 31) % 251

describe.each(KINDS)('download caps on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await shareEnv(kind)
    const res = await e.put('movie.mp4', VIDEO, { type: 'video/mp4' })
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  test('50 concurrent downloads of a share capped at 5: exactly 5 succeed, 45 are 410 exhausted', async () => {
    const s = await makeShare(e, { key: 'movie.mp4', max_downloads: 5 })
    const responses = await Promise.all(Array.from({ length: 50 }, () => new Visitor(e).raw(s.code)))
    const ok = responses.filter((r) => r.status === 200)
    const refused = responses.filter((r) => r.status === 410)
    expect(ok).toHaveLength(5)
    expect(refused).toHaveLength(45)
    for (const r of refused) expect(await errorCode(r)).toBe('exhausted')
    for (const r of ok) expect(new Uint8Array(await r.arrayBuffer())).toEqual(VIDEO)
    expect((await row(e, s.id)).download_count).toBe(5)
    const audit = (await auditRows(e.t, 'share.download')).filter((r) => r.detail.share_id === s.id)
    expect(audit.filter((r) => r.status === 'ok' && r.detail.counted === true)).toHaveLength(5)
    expect(audit.filter((r) => r.status === 'denied' && r.detail.reason === 'exhausted')).toHaveLength(45)
  }, 60_000)

  test('a video-preview sequence of 20 Range requests counts as one download', async () => {
    const s = await makeShare(e, { key: 'movie.mp4', max_downloads: 1, disposition: 'inline' })
    const player = new Visitor(e)
    const first = await player.raw(s.code, '', { range: 'bytes=0-' })
    expect(first.status).toBe(206)
    expect(first.headers.get('content-range')).toBe(`bytes 0-${SIZE - 1}/${SIZE}`)
    expect(first.headers.get('content-disposition')).toStartWith('inline')
    await drain(first)
    expect(player.has('stowage_share_grant')).toBe(true)
    const ranges = ['bytes=65536-', 'bytes=-4096', 'bytes=0-1023', 'bytes=150000-159999', 'bytes=1000-']
    for (let i = 0; i < 19; i++) {
      const range = ranges[i % ranges.length]!
      const res = await player.raw(s.code, '', { range })
      expect(`${range} ${res.status}`).toBe(`${range} 206`)
      const [, a, b] = /^bytes (\d+)-(\d+)\/\d+$/.exec(res.headers.get('content-range')!)!
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(VIDEO.subarray(Number(a), Number(b) + 1))
    }
    expect((await row(e, s.id)).download_count).toBe(1)
    // The same browser's download button needs no second count either.
    const button = await player.raw(s.code)
    expect(button.status).toBe(200)
    await drain(button)
    expect((await row(e, s.id)).download_count).toBe(1)
    // Someone else gets nothing: the one download is used.
    const stranger = await new Visitor(e).raw(s.code, '', { range: 'bytes=0-' })
    expect(stranger.status).toBe(410)
    expect(await errorCode(stranger)).toBe('exhausted')
    expect((await auditRows(e.t, 'share.download')).filter((r) => r.detail.share_id === s.id && r.status === 'ok')).toHaveLength(1)
  })

  test('a fresh client’s mid-file Range without a grant is counted as a new download (and refused past the cap)', async () => {
    const s = await makeShare(e, { key: 'movie.mp4', max_downloads: 2 })
    const a = await new Visitor(e).raw(s.code, '', { range: 'bytes=100000-' })
    expect(a.status).toBe(206)
    await drain(a)
    expect((await row(e, s.id)).download_count).toBe(1)
    const forged = new Visitor(e)
    const b = await forged.call('GET', `/s/${s.code}/raw`, {
      headers: { range: 'bytes=5000-', cookie: `stowage_share_grant=${Date.now()}.${Date.now() + 60_000}.forged` },
    })
    expect(b.status).toBe(206)
    await drain(b)
    expect((await row(e, s.id)).download_count).toBe(2)
    const c = await new Visitor(e).raw(s.code, '', { range: 'bytes=100-' })
    expect(c.status).toBe(410)
    expect(await errorCode(c)).toBe('exhausted')
  })

  test('HEAD answers like GET without a body and never counts; it still refuses dead shares', async () => {
    const s = await makeShare(e, { key: 'movie.mp4', max_downloads: 1 })
    for (let i = 0; i < 5; i++) {
      const res = await new Visitor(e).call('HEAD', `/s/${s.code}/raw`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-length')).toBe(String(SIZE))
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await res.text()).toBe('')
    }
    expect((await row(e, s.id)).download_count).toBe(0)
    await drain(await new Visitor(e).raw(s.code))
    const after = await new Visitor(e).call('HEAD', `/s/${s.code}/raw`)
    expect(after.status).toBe(410)
  })

  test('on real sockets too: HEAD is free, GETs are capped, and the length is exact', async () => {
    const s = await makeShare(e, { key: 'movie.mp4', max_downloads: 3 })
    const running = await serve(e.t.s, { listen: '127.0.0.1:0' })
    try {
      const url = `http://127.0.0.1:${running.dashboard.port}/s/${s.code}/raw`
      const head = await fetch(url, { method: 'HEAD' })
      expect([head.status, head.headers.get('content-length')]).toEqual([200, String(SIZE)])
      expect((await row(e, s.id)).download_count).toBe(0)
      const results = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await fetch(url)
          return { status: res.status, length: res.headers.get('content-length'), bytes: (await res.arrayBuffer()).byteLength }
        }),
      )
      expect(results.filter((r) => r.status === 200)).toEqual(Array.from({ length: 3 }, () => ({ status: 200, length: String(SIZE), bytes: SIZE })))
      expect(results.filter((r) => r.status === 410)).toHaveLength(17)
      expect((await row(e, s.id)).download_count).toBe(3)
    } finally {
      await running.dashboard.close(1000)
    }
  })

  test('a grant for one share does not continue another, and ends with revocation or expiry', async () => {
    const s1 = await makeShare(e, { key: 'movie.mp4', max_downloads: 1 })
    const s2 = await makeShare(e, { key: 'movie.mp4', max_downloads: 1 })
    const v = new Visitor(e)
    await drain(await v.raw(s1.code, '', { range: 'bytes=0-99' }))
    const grant = v.cookie()
    // Replay s1's grant against s2: not a grant there, so it counts.
    await drain(await e.t.call('GET', `/s/${s2.code}/raw`, { headers: { cookie: grant, range: 'bytes=100-199' } }))
    expect((await row(e, s2.id)).download_count).toBe(1)
    expect((await e.t.call('GET', `/s/${s2.code}/raw`, { headers: { cookie: grant, range: 'bytes=100-199' } })).status).toBe(410)

    expect((await e.t.call('DELETE', `/api/shares/${s1.id}`, { as: e.user })).status).toBe(204)
    const afterRevoke = await v.raw(s1.code, '', { range: 'bytes=100-199' })
    expect(afterRevoke.status).toBe(410)
    expect(await errorCode(afterRevoke)).toBe('revoked')

    const s3 = await makeShare(e, { key: 'movie.mp4', expires_at: new Date(Date.now() + 60_000).toISOString() })
    const w = new Visitor(e)
    await drain(await w.raw(s3.code, '', { range: 'bytes=0-99' }))
    await e.t.s.db.run('UPDATE shares SET expires_at = ? WHERE id = ?', [Date.now() - 1, s3.id])
    const afterExpiry = await w.raw(s3.code, '', { range: 'bytes=100-199' })
    expect(afterExpiry.status).toBe(410)
    expect(await errorCode(afterExpiry)).toBe('expired')
  })
})
