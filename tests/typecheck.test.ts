// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * TypeScript strict type-checks of the server (bun check) and the web UI (svelte-check), and the
 * Prettier formatting check of the whole repository, run as tests.
 */
import { expect, test } from 'bun:test'

const root = new URL('..', import.meta.url).pathname

function run(cmd: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { cwd: root, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, FORCE_COLOR: '0' } })
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }
}

test('server and tests type-check (bun check)', () => {
  const r = run([process.execPath, 'check'])
  if (r.code !== 0) throw new Error(r.out)
  expect(r.code).toBe(0)
}, 120_000)

test('web UI type-checks (svelte-check)', () => {
  const r = run([`${root}node_modules/.bin/svelte-check`, '--workspace', 'src/web', '--fail-on-warnings', '--output', 'machine'])
  if (r.code !== 0) throw new Error(r.out)
  expect(r.code).toBe(0)
}, 180_000)

test('every file is formatted (prettier --check; `bun run format` fixes it)', () => {
  // --list-different prints only the names of unformatted files; --cache skips files unchanged since the last run.
  const r = run([process.execPath, `${root}node_modules/prettier/bin/prettier.cjs`, '--list-different', '--cache', '.'])
  if (r.code !== 0) throw new Error(`not formatted (run \`bun run format\`):\n${r.out}`)
  expect(r.code).toBe(0)
}, 180_000)
