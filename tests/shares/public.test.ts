// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The public share endpoints on fs and RGW: what /info tells (and never
 * tells), /raw's bytes and headers, active content never rendered, the
 * password flow, the 410 states, unknown codes, and folder shares (paged
 * listing with sealed tokens, one file, the whole folder as a zip).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CONTENT_CSP } from '../../src/http/security-headers.ts'
import { errorCode } from '../helpers/app.ts'
import { auditRows, drain, json, KINDS, makeShare, row, shareEnv, unzip, Visitor, type Env } from './fixture.ts'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...new Array(300).fill(9)])
const TEXT = 'The quick brown fox jumps over the lazy dog.\n'

type Info = Record<string, unknown> & { files?: Array<{ name: string; size: number; last_modified?: string }>; next_token?: string }

describe.each(KINDS)('public share endpoints on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await shareEnv(kind)
    const uploads: Array<[string, string | Uint8Array, string]> = [
      ['private/deep/notes.txt', TEXT, 'text/plain'],
      ['private/deep/photo.png', PNG, 'image/png'],
      ['private/deep/page.html', '<html><script>alert(1)</script></html>', 'text/html'],
      ['private/deep/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'],
      ['private/deep/clip.mp4', new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, ...new Array(100).fill(1)]), 'video/mp4'],
      ['private/deep/big.txt', 'x'.repeat(256 * 1024 + 1), 'text/plain'],
      ['private/deep/gone.txt', 'soon gone', 'text/plain'],
      ['album/one.txt', 'one', 'text/plain'],
      ['album/two.txt', 'two!', 'text/plain'],
      ['album/nested/three.txt', 'three', 'text/plain'],
      ['album/nested/', '', 'application/octet-stream'],
    ]
    for (const [key, body, type] of uploads) {
      const res = await e.put(key, body, { type })
      if (res.status !== 201) throw new Error(`${key}: ${res.status} ${await res.text()}`)
    }
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  test('info tells the page what it needs and nothing about the backend, bucket or path', async () => {
    const s = await makeShare(e, { key: 'private/deep/notes.txt', max_downloads: 4, expires_at: new Date(Date.now() + 86_400_000).toISOString() })
    const res = await new Visitor(e).info(s.code)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const text = await res.text()
    for (const secret of [e.bucket, e.bid, 'private/', 'deep', e.user.username]) expect(text).not.toContain(secret)
    const info = JSON.parse(text) as Info
    expect(info).toMatchObject({
      code: s.code,
      kind: 'object',
      name: 'notes.txt',
      size: TEXT.length,
      content_type: 'text/plain',
      expires_at: s.expires_at,
      has_password: false,
      max_downloads: 4,
      download_count: 0,
      downloads_left: 4,
      disposition: 'attachment',
      preview_kind: 'text',
      raw_url: `/s/${s.code}/raw`,
    })
    expect(typeof info.last_modified).toBe('string')
  })

  test('preview kinds follow the type; big text and active content have none', async () => {
    const kinds: Record<string, string> = {
      'private/deep/photo.png': 'image',
      'private/deep/clip.mp4': 'video',
      'private/deep/notes.txt': 'text',
      'private/deep/big.txt': 'none',
      'private/deep/page.html': 'none',
      'private/deep/logo.svg': 'none',
    }
    for (const [key, want] of Object.entries(kinds)) {
      const s = await makeShare(e, { key })
      expect(`${key}: ${(await json<Info>(await new Visitor(e).info(s.code))).preview_kind}`).toBe(`${key}: ${want}`)
    }
  })

  test('raw sends the exact bytes with the exact length, private caching and no referrer', async () => {
    const s = await makeShare(e, { key: 'private/deep/notes.txt' })
    const res = await new Visitor(e).raw(s.code)
    expect(res.status).toBe(200)
    expect(await res.clone().text()).toBe(TEXT)
    const h = res.headers
    expect(h.get('content-length')).toBe(String(TEXT.length))
    expect(h.get('content-disposition')).toBe('attachment; filename="notes.txt"')
    expect(h.get('cache-control')).toContain('private')
    expect(h.get('referrer-policy')).toBe('no-referrer')
    expect(h.get('x-content-type-options')).toBe('nosniff')
    expect(h.get('content-security-policy')).toBe(CONTENT_CSP)
    expect(h.get('accept-ranges')).toBe('bytes')
  })

  test('inline is honoured for inert types only: HTML and SVG are always attachments with the sandbox CSP', async () => {
    const png = await makeShare(e, { key: 'private/deep/photo.png', disposition: 'inline' })
    const pic = await new Visitor(e).raw(png.code)
    expect(pic.headers.get('content-disposition')).toStartWith('inline')
    expect(pic.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await pic.arrayBuffer())).toEqual(PNG)
    for (const key of ['private/deep/page.html', 'private/deep/logo.svg']) {
      const s = await makeShare(e, { key, disposition: 'inline' })
      for (const query of ['', '?disposition=inline']) {
        const res = await new Visitor(e).raw(s.code, query)
        expect(res.status).toBe(200)
        expect(res.headers.get('content-disposition')).toStartWith('attachment')
        expect(res.headers.get('content-security-policy')).toBe(CONTENT_CSP)
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
        await drain(res)
      }
    }
    const att = await makeShare(e, { key: 'private/deep/photo.png' })
    const forced = await new Visitor(e).raw(att.code, '?disposition=inline')
    expect(forced.headers.get('content-disposition')).toStartWith('inline')
    await drain(forced)
  })

  test('password: info and raw need an unlock; a wrong password is 401 and audited; the right one sets the cookie', async () => {
    const s = await makeShare(e, { key: 'private/deep/notes.txt', password: 'correct pony' })
    const v = new Visitor(e)
    const locked = await v.info(s.code)
    expect(locked.status).toBe(401)
    expect(await errorCode(locked)).toBe('password_required')
    expect(await locked.text()).not.toContain('notes.txt')
    const rawLocked = await v.raw(s.code)
    expect(rawLocked.status).toBe(401)
    expect((await auditRows(e.t, 'share.download'))[0]).toMatchObject({
      status: 'denied',
      detail: { share_id: s.id, counted: false, reason: 'password_required' },
    })

    const wrong = await v.unlock(s.code, 'wrong pony')
    expect(wrong.status).toBe(401)
    expect(await errorCode(wrong)).toBe('password_mismatch')
    expect(wrong.headers.getSetCookie()).toEqual([])
    expect((await auditRows(e.t, 'share.unlock'))[0]).toMatchObject({ status: 'denied', detail: { share_id: s.id, reason: 'wrong_password' } })

    const ok = await v.unlock(s.code, 'correct pony')
    expect(ok.status).toBe(200)
    expect(await json<Info>(ok)).toMatchObject({ name: 'notes.txt', has_password: true })
    expect((await auditRows(e.t, 'share.unlock'))[0]).toMatchObject({ status: 'ok', detail: { share_id: s.id } })
    expect((await v.info(s.code)).status).toBe(200)
    const raw = await v.raw(s.code)
    expect(raw.status).toBe(200)
    expect(await raw.text()).toBe(TEXT)
    expect((await row(e, s.id)).download_count).toBe(1)
  })

  test('a share without a password answers unlock with its info', async () => {
    const s = await makeShare(e, { key: 'private/deep/notes.txt' })
    const res = await new Visitor(e).unlock(s.code, 'anything')
    expect(res.status).toBe(200)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  test('expired, revoked and exhausted shares are 410 with their code on every endpoint; unknown codes are 404', async () => {
    const expired = await makeShare(e, { key: 'private/deep/notes.txt', expires_at: new Date(Date.now() + 60_000).toISOString() })
    await e.t.s.db.run('UPDATE shares SET expires_at = ? WHERE id = ?', [Date.now() - 1, expired.id])
    const revoked = await makeShare(e, { key: 'private/deep/notes.txt' })
    expect((await e.t.call('DELETE', `/api/shares/${revoked.id}`, { as: e.user })).status).toBe(204)
    const exhausted = await makeShare(e, { key: 'private/deep/notes.txt', max_downloads: 1 })
    await drain(await new Visitor(e).raw(exhausted.code))
    for (const [s, code] of [
      [expired, 'expired'],
      [revoked, 'revoked'],
      [exhausted, 'exhausted'],
    ] as const) {
      for (const res of [await new Visitor(e).info(s.code), await new Visitor(e).unlock(s.code, 'x'), await new Visitor(e).raw(s.code)]) {
        expect(res.status).toBe(410)
        expect(await errorCode(res)).toBe(code)
        expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      }
    }
    expect((await auditRows(e.t, 'share.download')).find((r) => r.detail.share_id === revoked.id)).toMatchObject({
      status: 'denied',
      detail: { reason: 'revoked', counted: false },
    })
    const unknown = 'a'.repeat(20)
    for (const res of [await new Visitor(e).info(unknown), await new Visitor(e).unlock(unknown, 'x'), await new Visitor(e).raw(unknown)]) {
      expect(res.status).toBe(404)
      expect(await errorCode(res)).toBe('not_found')
    }
  })

  test('a shared object that disappeared is 404 and the failed download is given back', async () => {
    const s = await makeShare(e, { key: 'private/deep/gone.txt', max_downloads: 1 })
    expect((await e.t.call('DELETE', `${e.base}/object?key=${encodeURIComponent('private/deep/gone.txt')}`, { as: e.user })).status).toBe(204)
    const info = await new Visitor(e).info(s.code)
    expect(info.status).toBe(404)
    expect(await info.text()).not.toContain(e.bucket)
    expect((await new Visitor(e).raw(s.code)).status).toBe(404)
    expect((await row(e, s.id)).download_count).toBe(0)
    expect((await auditRows(e.t, 'share.download'))[0]).toMatchObject({ status: 'error', detail: { share_id: s.id, counted: false, reason: 'not_found' } })
  })

  test('folder shares list files relative to the folder, in pages with sealed tokens', async () => {
    const s = await makeShare(e, { key: 'album/' })
    const info = await json<Info>(await new Visitor(e).info(s.code))
    expect(info).toMatchObject({ kind: 'folder', name: 'album', preview_kind: 'none', zip_url: `/s/${s.code}/raw?zip=1` })
    expect(info.files).toEqual([
      { name: 'nested/three.txt', size: 5, last_modified: expect.any(String) },
      { name: 'one.txt', size: 3, last_modified: expect.any(String) },
      { name: 'two.txt', size: 4, last_modified: expect.any(String) },
    ])
    const names: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const page = await json<Info>(await new Visitor(e).info(s.code, `?limit=1${token ? `&token=${encodeURIComponent(token)}` : ''}`))
      names.push(...page.files!.map((f) => f.name))
      token = page.next_token
      if (token) expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('album')
      pages++
    } while (token && pages < 10)
    expect(names).toEqual(['nested/three.txt', 'one.txt', 'two.txt'])
    const first = await json<Info>(await new Visitor(e).info(s.code, '?limit=1'))
    const other = await makeShare(e, { key: 'album/' })
    expect((await new Visitor(e).info(other.code, `?limit=1&token=${first.next_token}`)).status).toBe(400)
    expect((await new Visitor(e).info(s.code, `?limit=1&token=${first.next_token!.slice(0, -2)}xx`)).status).toBe(400)
  })

  test('folder shares serve one file by relative name, or the whole folder as a zip', async () => {
    const s = await makeShare(e, { key: 'album/' })
    const one = await new Visitor(e).raw(s.code, `?key=${encodeURIComponent('nested/three.txt')}`)
    expect(one.status).toBe(200)
    expect(one.headers.get('content-disposition')).toBe('attachment; filename="three.txt"')
    expect(await one.text()).toBe('three')
    for (const q of ['', '?key=..%2Fprivate%2Fdeep%2Fnotes.txt', '?key=missing.txt']) {
      const res = await new Visitor(e).raw(s.code, q)
      expect(`${q} ${res.status}`).toBe(`${q} ${q === '?key=missing.txt' ? 404 : 400}`)
    }
    const zip = await new Visitor(e).raw(s.code, '?zip=1')
    expect(zip.status).toBe(200)
    expect(zip.headers.get('content-type')).toBe('application/zip')
    expect(zip.headers.get('content-disposition')).toBe('attachment; filename="album.zip"')
    expect(zip.headers.get('referrer-policy')).toBe('no-referrer')
    const entries = unzip(e.t.dir, new Uint8Array(await zip.arrayBuffer()))
    expect(entries).toEqual({ 'nested/': '', 'nested/three.txt': 'three', 'one.txt': 'one', 'two.txt': 'two!' })
    const single = await makeShare(e, { key: 'private/deep/notes.txt' })
    expect((await new Visitor(e).raw(single.code, '?zip=1')).status).toBe(400)
  })

  test('HEAD of a folder share: one file with its length, the zip without one, bad parameters 400', async () => {
    const s = await makeShare(e, { key: 'album/' })
    const file = await new Visitor(e).call('HEAD', `/s/${s.code}/raw?key=${encodeURIComponent('nested/three.txt')}`)
    expect([file.status, file.headers.get('content-length'), file.headers.get('content-disposition')]).toEqual([200, '5', 'attachment; filename="three.txt"'])
    const zip = await new Visitor(e).call('HEAD', `/s/${s.code}/raw?zip=1`)
    expect([zip.status, zip.headers.get('content-type'), zip.headers.get('content-disposition')]).toEqual([
      200,
      'application/zip',
      'attachment; filename="album.zip"',
    ])
    for (const q of ['?zip=2', '?disposition=render', `?key=${'k'.repeat(1025)}`])
      expect((await new Visitor(e).call('HEAD', `/s/${s.code}/raw${q}`)).status).toBe(400)
    expect((await new Visitor(e).call('HEAD', `/s/${'z'.repeat(65)}/raw`)).status).toBe(400)
    expect((await new Visitor(e).call('HEAD', `/s/${'z'.repeat(20)}/raw`)).status).toBe(404)
    expect((await row(e, s.id)).download_count).toBe(0)
  })
})
