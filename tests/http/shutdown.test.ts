// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Graceful shutdown on a real port: stop() refuses new connections at once,
 * lets in-flight requests finish within server.shutdown_timeout, and cuts
 * what is still running after it.
 */
import { afterEach, expect, test, setDefaultTimeout } from 'bun:test'
import { connect } from 'node:net'
import { Elysia } from 'elysia'
import { servedApp, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let served: Served | undefined
afterEach(async () => {
  await served?.stop()
  served = undefined
})

/** A response that sends `chunks` pieces, one every `everyMs`. */
function slowRoute(chunks: number, everyMs: number) {
  return new Elysia().get('/api/test/slow', () => {
    let i = 0
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(c) {
          if (i === chunks) return c.close()
          if (i > 0) await Bun.sleep(everyMs)
          c.enqueue(new TextEncoder().encode(`chunk${i++};`))
        },
      }),
      { headers: { 'content-type': 'text/plain' } },
    )
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

async function readAll(res: Response): Promise<{ text: string; error?: unknown }> {
  const reader = res.body!.getReader()
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { text }
      text += new TextDecoder().decode(value)
    }
  } catch (error) {
    return { text, error }
  }
}

test('an in-flight streaming request completes; new connections are refused', async () => {
  served = await servedApp({ server: { shutdown_timeout: '10s' } })
  served.t.s.app.use(slowRoute(6, 100))
  const res = await fetch(`${served.base}/api/test/slow`)
  expect(res.status).toBe(200)
  expect(served.running.dashboard.inFlight()).toBe(1)
  const started = performance.now()
  const stopping = served.running.stop()
  await Bun.sleep(50)
  expect(await canConnect(served.port)).toBe(false)
  const body = await readAll(res)
  expect(body.error).toBeUndefined()
  expect(body.text).toBe('chunk0;chunk1;chunk2;chunk3;chunk4;chunk5;')
  await stopping
  // It waited for the request (≈500 ms), not for the 10 s timeout.
  expect(performance.now() - started).toBeLessThan(5000)
  expect(served.running.dashboard.inFlight()).toBe(0)
})

test('an idle server stops at once', async () => {
  served = await servedApp({ server: { shutdown_timeout: '10s' } })
  expect((await fetch(`${served.base}/healthz`)).status).toBe(200)
  const started = performance.now()
  await served.running.stop()
  expect(performance.now() - started).toBeLessThan(1000)
  expect(await canConnect(served.port)).toBe(false)
})

test('a request outliving shutdown_timeout is cut when the timeout ends', async () => {
  served = await servedApp({ server: { shutdown_timeout: '300ms' } })
  served.t.s.app.use(slowRoute(100, 100))
  const res = await fetch(`${served.base}/api/test/slow`)
  const started = performance.now()
  const stopping = served.running.stop()
  const body = await readAll(res)
  await stopping
  const took = performance.now() - started
  expect(took).toBeGreaterThanOrEqual(250)
  expect(took).toBeLessThan(3000)
  expect(body.text.length).toBeLessThan('chunk00;'.length * 100)
})

test('stop() is idempotent', async () => {
  served = await servedApp()
  const a = served.running.stop()
  const b = served.running.stop()
  expect(a).toBe(b)
  await a
})
