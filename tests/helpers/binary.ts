// SPDX-License-Identifier: AGPL-3.0-or-later
/** Runs the compiled binary (dist/stowage) as a user would: from an empty directory, with a bare environment. */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const BINARY = new URL('../../dist/stowage', import.meta.url).pathname

export type Running = {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  url: string
  dir: string
  stdout: () => string
  stderr: () => string
  startedMs: number
}

/** Copies the binary into a fresh empty directory (no node_modules, no sources) and returns that directory. */
export function isolatedBinary(): { dir: string; bin: string } {
  if (!existsSync(BINARY)) throw new Error('dist/stowage is missing: build it with `bun scripts/build.ts` (the test command does)')
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bin-'))
  const bin = join(dir, 'stowage')
  copyFileSync(BINARY, bin)
  Bun.spawnSync(['chmod', '755', bin])
  return { dir, bin }
}

function collect(stream: ReadableStream<Uint8Array>): () => string {
  let text = ''
  const dec = new TextDecoder()
  void (async () => {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) text += dec.decode(chunk, { stream: true })
  })()
  return () => text
}

/** Starts `stowage <args>` in `dir` and waits for its dashboard listener to answer /healthz. */
export async function startBinary(bin: string, dir: string, args: string[], env: Record<string, string> = {}): Promise<Running> {
  const started = performance.now()
  const proc = Bun.spawn([bin, ...args], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stdout = collect(proc.stdout)
  const stderr = collect(proc.stderr)
  const deadline = Date.now() + 15_000
  let url = ''
  while (Date.now() < deadline) {
    const m = /"msg":"listening","listener":"dashboard","address":"([^"]+)"/.exec(stdout())
    if (m) {
      const [host, port] = [m[1]!.slice(0, m[1]!.lastIndexOf(':')), m[1]!.slice(m[1]!.lastIndexOf(':') + 1)]
      url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`
      const ok = await fetch(`${url}/healthz`)
        .then((r) => r.status === 200)
        .catch(() => false)
      if (ok) return { proc, url, dir, stdout, stderr, startedMs: performance.now() - started }
    }
    if (proc.exitCode !== null) break
    await Bun.sleep(20)
  }
  proc.kill()
  throw new Error(`stowage did not become healthy.\nstdout:\n${stdout()}\nstderr:\n${stderr()}`)
}
