// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The README's "Run as a systemd service" steps, run line by line as written
 * in a throwaway Debian root (the runtime base of the image, copied), as far
 * as they go without a running systemd: `sudo` is dropped (the test is root),
 * `sudoedit` becomes the edit its comment describes, `systemctl daemon-reload
 * && enable --now` becomes `systemctl --root enable` plus starting ExecStart
 * the way the unit says (User, Group, StateDirectory and its mode,
 * WorkingDirectory, EnvironmentFile, UMask) in PID and mount namespaces, and
 * `sudo -u stowage` runs as that user. Then `systemd-analyze verify` on the
 * installed unit, against the host's systemd and the installed binary.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BINARY } from '../helpers/binary.ts'
import { freePort, requireContainerTools, resolveUser, ROOT, sh, verifyUnit, type Exec } from '../helpers/container.ts'
import { signIn } from '../helpers/http-session.ts'

const UNIT = join(ROOT, 'deploy/systemd/stowage.service')
let root: string
let work: string
let server: { proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>; pid: number } | undefined
let port: number

/** The README's systemd block, one command per line, comments kept for the steps that need them. */
function readmeSteps(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Run as a systemd service'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('README.md has no ```sh block under "Run as a systemd service"')
  return block[1]!.trim().split('\n')
}

/** `[Service]` settings of a unit file (the last value of a repeated key wins, as in systemd). */
function serviceSettings(path: string): Record<string, string> {
  const out: Record<string, string> = {}
  let inService = false
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\[.*\]$/.test(line.trim())) inService = line.trim() === '[Service]'
    else if (inService && /^[A-Za-z]+=/.test(line)) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  return out
}

/**
 * Runs a command in the throwaway root: own mount and PID namespaces, a
 * minimal /dev, /proc, optionally as a user and with a working directory.
 */
function inRoot(
  argv: string[],
  opts: { uid?: number; gid?: number; wd?: string; env?: Record<string, string>; umask?: string } = {},
): Bun.Subprocess<'ignore', 'pipe', 'pipe'> {
  const setup = `set -e
r=$1; shift
mount -t tmpfs -o mode=755 tmpfs "$r/dev"
for d in null zero random urandom; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
umask ${opts.umask ?? '022'}
exec "$@"`
  const user = opts.uid === undefined ? [] : [`--setgid=${opts.gid}`, `--setuid=${opts.uid}`]
  const env = Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...opts.env }).map(([k, v]) => `${k}=${v}`)
  return Bun.spawn(
    [
      'unshare',
      '--mount',
      '--pid',
      '--fork',
      '--kill-child=SIGKILL',
      '--',
      'sh',
      '-c',
      setup,
      'setup',
      root,
      'env',
      '-i',
      ...env,
      'unshare',
      `--root=${root}`,
      `--wd=${opts.wd ?? '/'}`,
      '--mount-proc',
      ...user,
      '--',
      ...argv,
    ],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  )
}

async function runInRoot(argv: string[], opts: Parameters<typeof inRoot>[1] = {}): Promise<Exec> {
  const p = inRoot(argv, opts)
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

beforeAll(async () => {
  requireContainerTools()
  const bases = await sh(['bash', 'scripts/container-base.sh'])
  if (bases.code !== 0) throw new Error(`scripts/container-base.sh failed:\n${bases.stderr.slice(-4000)}`)
  const image = /^RUNTIME_IMAGE=(.+)$/m.exec(bases.stdout)![1]!
  work = mkdtempSync(join(tmpdir(), 'stowage-systemd-'))
  root = join(work, 'root')
  const mounted = (await sh(['podman', 'image', 'mount', image])).stdout.trim()
  try {
    // cp -a: the image has device nodes, which node:fs cannot copy.
    const copy = await sh(['cp', '-a', `${mounted}/.`, root])
    if (copy.code !== 0) throw new Error(`copying the base image failed: ${copy.stderr}`)
  } finally {
    await sh(['podman', 'image', 'umount', image])
  }
  // The checkout the README's commands run in: the files they name, relative.
  const src = join(root, 'tmp', 'stowage-src')
  for (const f of ['config.yaml', 'deploy/systemd/stowage.service']) cpSync(join(ROOT, f), join(src, f))
  cpSync(BINARY, join(src, 'dist', 'stowage'))
  port = await freePort()
}, 600_000)

afterAll(() => {
  if (server && server.proc.exitCode === null) server.proc.kill('SIGKILL')
  if (work) rmSync(work, { recursive: true, force: true })
})

test('the README install steps run as written in a throwaway root, and the service they set up works', async () => {
  const settings = serviceSettings(UNIT)
  let adminPassword = ''
  for (const line of readmeSteps()) {
    const cmd = line.replace(/\s+#.*$/, '').trim()
    if (cmd.startsWith('sudoedit /etc/stowage/config.yaml')) {
      // What its comment says to set: the database in the state directory.
      const file = join(root, 'etc/stowage/config.yaml')
      const text = readFileSync(file, 'utf8')
      expect(text).toMatch(/^    path: .*$/m)
      writeFileSync(file, text.replace(/^(\s+path:) .*$/m, '$1 /var/lib/stowage/stowage.db'))
      continue
    }
    if (cmd === 'sudo systemctl daemon-reload && sudo systemctl enable --now stowage') {
      // The environment file is where this machine's choice of port goes, as any STOWAGE_* setting could.
      writeFileSync(join(root, 'etc/stowage/stowage.env'), `STOWAGE_LISTEN=127.0.0.1:${port}\n`)
      const enable = await sh(['systemctl', `--root=${root}`, 'enable', 'stowage'])
      expect(enable.code).toBe(0)
      server = await startLikeSystemd(settings)
      continue
    }
    const asUser = /^sudo -u (\S+) (.*)$/.exec(cmd)
    if (asUser) {
      const u = resolveUser(root, asUser[1]!)
      const r = await runInRoot(['sh', '-c', asUser[2]!], { uid: u.uid, gid: u.gid, wd: '/tmp' })
      if (r.code !== 0) throw new Error(`${cmd} exited ${r.code}:\n${r.stderr}`)
      adminPassword = r.stdout.trim()
      continue
    }
    expect(cmd).toStartWith('sudo ')
    const r = await runInRoot(['sh', '-c', cmd.replace(/(^|&& )sudo /g, '$1')], { wd: '/tmp/stowage-src' })
    if (r.code !== 0 || r.stderr) throw new Error(`${cmd} exited ${r.code}:\n${r.stderr}`)
  }
  expect(server).toBeDefined()
  expect(adminPassword).toMatch(/^[A-Za-z0-9]{24}$/)

  const stowage = resolveUser(root, 'stowage')
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('stowage:'))!
    .split(':')
  expect(stowage.uid).toBeLessThan(1000)
  expect(passwd.slice(5)).toEqual(['/var/lib/stowage', '/usr/sbin/nologin'])
  const owned = (p: string) => {
    const st = statSync(join(root, p))
    return [p, st.uid, st.gid, (st.mode & 0o7777).toString(8)]
  }
  expect(owned('usr/local/bin/stowage')).toEqual(['usr/local/bin/stowage', 0, 0, '755'])
  expect(owned('etc/stowage')).toEqual(['etc/stowage', 0, stowage.gid, '750'])
  expect(owned('etc/stowage/config.yaml')).toEqual(['etc/stowage/config.yaml', 0, stowage.gid, '640'])
  expect(owned('etc/stowage/stowage.env')).toEqual(['etc/stowage/stowage.env', 0, stowage.gid, '640'])
  expect(owned('etc/systemd/system/stowage.service')).toEqual(['etc/systemd/system/stowage.service', 0, 0, '644'])
  expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/stowage.service'))).toBe('/etc/systemd/system/stowage.service')
  expect(owned('var/lib/stowage')).toEqual(['var/lib/stowage', stowage.uid, stowage.gid, settings.StateDirectoryMode!.replace(/^0/, '')])
  for (const f of ['stowage.db', 'stowage.key']) expect(owned(`var/lib/stowage/${f}`)).toEqual([`var/lib/stowage/${f}`, stowage.uid, stowage.gid, '600'])

  const status = readFileSync(`/proc/${server!.pid}/status`, 'utf8')
  expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(stowage.uid))
  // The service user reads its config but cannot change it.
  const write = await runInRoot(['sh', '-c', 'test -r /etc/stowage/config.yaml && ! test -w /etc/stowage/config.yaml'], { uid: stowage.uid, gid: stowage.gid })
  expect(write.code).toBe(0)
  const health = await runInRoot(['stowage', 'healthcheck'], { uid: stowage.uid, gid: stowage.gid, env: { STOWAGE_LISTEN: `127.0.0.1:${port}` } })
  expect(health.code).toBe(0)
  const admin = await signIn(`http://127.0.0.1:${port}`, 'admin', adminPassword)
  expect(admin.mustChangePassword).toBe(true)

  process.kill(server!.pid, 'SIGTERM')
  expect(await server!.proc.exited).toBe(0)
}, 180_000)

test('systemd-analyze verify passes on the unit, installed where the README puts it', async () => {
  const installed = join(root, 'etc/systemd/system/stowage.service')
  expect(readFileSync(installed, 'utf8')).toBe(readFileSync(UNIT, 'utf8'))
  const r = await verifyUnit(join(root, 'usr/local/bin'), installed)
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  const broken = join(work, 'broken.service')
  writeFileSync(
    broken,
    readFileSync(UNIT, 'utf8')
      .replace('ExecStart=/usr/local/bin/stowage', 'ExecStart=/usr/local/bin/stowage-missing')
      .replace('[Service]', '[Service]\nRestartSec=soon'),
  )
  const bad = await verifyUnit(join(root, 'usr/local/bin'), broken)
  expect(bad.code).not.toBe(0)
  expect(bad.stderr).toContain('stowage-missing')
}, 60_000)

/** Starts ExecStart as systemd would from this unit's settings (those that shape the process and its files). */
async function startLikeSystemd(s: Record<string, string>): Promise<{ proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>; pid: number }> {
  const u = resolveUser(root, s.User!)
  if (s.Group) expect(resolveUser(root, `${s.User}:${s.Group}`).gid).toBe(u.gid)
  const state = join(root, 'var/lib', s.StateDirectory!)
  mkdirSync(state, { recursive: true })
  chownSync(state, u.uid, u.gid)
  chmodSync(state, parseInt(s.StateDirectoryMode ?? '0755', 8))
  const env: Record<string, string> = {}
  const envFile = s.EnvironmentFile!.replace(/^-/, '')
  if (existsSync(join(root, envFile))) {
    for (const line of readFileSync(join(root, envFile), 'utf8').split('\n'))
      if (/^\w+=/.test(line)) env[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
  }
  const p = inRoot(s.ExecStart!.split(/\s+/), { uid: u.uid, gid: u.gid, wd: s.WorkingDirectory, env, umask: s.UMask })
  let out = ''
  const pump = async (st: ReadableStream<Uint8Array>) => {
    for await (const c of st as unknown as AsyncIterable<Uint8Array>) out += new TextDecoder().decode(c)
  }
  void pump(p.stdout)
  void pump(p.stderr)
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(50)) {
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    ) {
      return { proc: p, pid: Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(' ')[0]) }
    }
    if (p.exitCode !== null) break
  }
  throw new Error(`the service did not start:\n${out}`)
}
