// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Builds the Containerfile with podman and runs the image two ways, behind one
 * interface so the same checks run on both:
 * - `podman run`, where the machine allows it;
 * - otherwise the image's root filesystem (`podman image mount`, read-only)
 *   under unshare: own mount and PID namespaces, /proc, a podman-like /dev and
 *   /tmp, the named volume on /data, the image's user, entrypoint, command,
 *   working directory and environment. The CI machines refuse `podman run`:
 *   crun cannot set the container's rlimits there, and with lower ones it stops
 *   at "cgroups in hybrid mode not supported".
 * The network is the host's in both, so a test picks free ports.
 */
import { readFileSync, statSync, chownSync, chmodSync, readdirSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'

export const ROOT = new URL('../../', import.meta.url).pathname

export type Exec = { code: number; stdout: string; stderr: string }

export async function sh(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Exec> {
  const p = Bun.spawn(argv, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

/**
 * `systemd-analyze verify` on a unit whose ExecStart lives in /usr/local/bin: `binDir` is bound over
 * /usr/local/bin in a private mount namespace only, so the check finds the binary without installing it.
 */
export function verifyUnit(binDir: string, unit: string): Promise<Exec> {
  return sh(['unshare', '--mount', '--', 'sh', '-c', 'mount --bind "$0" /usr/local/bin && exec systemd-analyze verify --man=no "$1"', binDir, unit])
}

async function must(argv: string[], opts: { cwd?: string } = {}): Promise<string> {
  const r = await sh(argv, opts)
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}`)
  return r.stdout
}

/** Fails, never skips, where the tools or root are missing: CI has both. */
export function requireContainerTools(): void {
  if (process.getuid?.() !== 0) throw new Error('the container tests need root (podman build, image mounts, namespaces); CI runs as root')
  const missing = ['podman', 'debootstrap', 'unshare', 'nsenter'].filter((t) => !Bun.which(t, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }))
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run scripts/install-test-deps.sh container`)
}

export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((res) => s.close(res))
  return port
}

export type ImageConfig = {
  User: string
  Env?: string[]
  Entrypoint?: string[]
  Cmd?: string[]
  WorkingDir?: string
  ExposedPorts?: Record<string, unknown>
  Volumes?: Record<string, unknown>
  Healthcheck?: { Test: string[] }
}

export async function imageConfig(image: string): Promise<{ config: ImageConfig; size: number }> {
  const [info] = JSON.parse(await must(['podman', 'image', 'inspect', image])) as Array<{
    Config: ImageConfig
    Healthcheck?: ImageConfig['Healthcheck']
    Size: number
  }>
  // podman reports HEALTHCHECK beside the config, not in it.
  return { config: { ...info!.Config, Healthcheck: info!.Healthcheck ?? info!.Config.Healthcheck }, size: info!.Size }
}

/** Makes the Debian-package bases (cached) and builds the Containerfile on them; returns the build log. */
export async function buildImage(tag: string): Promise<{ log: string; baseMs: number; buildMs: number }> {
  let t = performance.now()
  const bases = await sh(['bash', 'scripts/container-base.sh'])
  if (bases.code !== 0) throw new Error(`scripts/container-base.sh failed:\n${bases.stderr.slice(-4000)}`)
  const baseMs = performance.now() - t
  const args = bases.stdout
    .trim()
    .split('\n')
    .flatMap((l) => ['--build-arg', l])
  t = performance.now()
  const r = await sh(['podman', 'build', '--isolation', 'chroot', '--format', 'docker', ...args, '-t', tag, '-f', 'Containerfile', '.'])
  if (r.code !== 0) throw new Error(`podman build failed:\n${(r.stdout + r.stderr).slice(-6000)}`)
  return { log: r.stdout + r.stderr, baseMs, buildMs: performance.now() - t }
}

/** `podman run` refused here (rlimits, cgroups) means the unshare runner; an image that does not start at all is a failure either way. */
export async function podmanRunWorks(image: string): Promise<{ works: boolean; why: string }> {
  const r = await sh(['podman', 'run', '--rm', '--network', 'none', image, 'version'])
  return { works: r.code === 0, why: r.stderr.trim() }
}

export type Container = {
  readonly runner: 'podman run' | 'unshare'
  /** The dashboard on the host. */
  readonly url: string
  start(): Promise<void>
  /** SIGTERM, as `podman stop`; resolves to the exit status. */
  stop(): Promise<number>
  kill(): Promise<void>
  /** Host pid of the container's main process. */
  pid(): Promise<number>
  /** Everything the container printed on stdout and stderr. */
  logs(): Promise<string>
  /** Runs a command inside the running container as the image's user (`podman exec`). */
  exec(argv: string[]): Promise<Exec>
  /** The host directory behind the /data volume. */
  volumeDir(): Promise<string>
  remove(): Promise<void>
}

function envOf(config: ImageConfig, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: 'stowage', HOME: '/data' }
  for (const kv of config.Env ?? []) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1)
  return { ...env, ...extra }
}

export async function podmanContainer(image: string, volume: string, port: number, name: string): Promise<Container> {
  let created = false
  return {
    runner: 'podman run',
    url: `http://127.0.0.1:${port}`,
    async start() {
      if (!created) await must(['podman', 'run', '-d', '--name', name, '-v', `${volume}:/data`, '-p', `127.0.0.1:${port}:8080`, image])
      else await must(['podman', 'start', name])
      created = true
    },
    async stop() {
      await must(['podman', 'stop', '-t', '20', name])
      return Number((await must(['podman', 'inspect', '--format', '{{.State.ExitCode}}', name])).trim())
    },
    async kill() {
      await must(['podman', 'kill', '-s', 'KILL', name])
      await sh(['podman', 'wait', name])
    },
    pid: async () => Number((await must(['podman', 'inspect', '--format', '{{.State.Pid}}', name])).trim()),
    logs: async () => {
      const r = await sh(['podman', 'logs', name])
      return r.stdout + r.stderr
    },
    exec: (argv) => sh(['podman', 'exec', name, ...argv]),
    volumeDir: async () => (await must(['podman', 'volume', 'inspect', '--format', '{{.Mountpoint}}', volume])).trim(),
    async remove() {
      await sh(['podman', 'rm', '-f', '-t', '0', name])
    },
  }
}

/**
 * The unshare runner. Inside the new namespaces a shell (the host's) puts the
 * volume on /data and a podman-like /dev and /tmp on the read-only image
 * root, then execs unshare again to chroot into it, mount its own /proc (the
 * compiled binary reads /proc/self/exe) and drop to the image's user.
 */
const INSIDE = `set -e
root=$1; vol=$2; shift 2
mount --bind "$vol" "$root/data"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
for d in null zero full random urandom tty; do touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"; done
mkdir "$root/dev/shm"; mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
exec "$@"`

export async function unshareContainer(image: string, volume: string, port: number, extraEnv: Record<string, string> = {}): Promise<Container> {
  const { config } = await imageConfig(image)
  const rootfs = (await must(['podman', 'image', 'mount', image])).trim()
  const vol = (await must(['podman', 'volume', 'inspect', '--format', '{{.Mountpoint}}', volume])).trim()
  const user = resolveUser(rootfs, config.User)
  // podman copies the image's /data (owner, mode) into an empty named volume on first use.
  if (readdirSync(vol).length === 0) {
    const st = statSync(join(rootfs, 'data'))
    chownSync(vol, st.uid, st.gid)
    chmodSync(vol, st.mode & 0o7777)
  }
  // The dashboard's port, as `-p` would map it; the S3 proxy's too, should quickstart enable it.
  const env = envOf(config, { STOWAGE_LISTEN: `127.0.0.1:${port}`, STOWAGE_S3_PROXY__LISTEN: `127.0.0.1:${await freePort()}`, ...extraEnv })
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]
  let proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined
  let output = ''
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder()
    for await (const c of s as unknown as AsyncIterable<Uint8Array>) output += d.decode(c, { stream: true })
  }
  const child = (): number => {
    const kids = readFileSync(`/proc/${proc!.pid}/task/${proc!.pid}/children`, 'utf8').trim()
    if (!kids) throw new Error('the container process is not running')
    return Number(kids.split(' ')[0])
  }
  return {
    runner: 'unshare',
    url: `http://127.0.0.1:${port}`,
    async start() {
      proc = Bun.spawn(
        [
          'unshare',
          '--mount',
          '--pid',
          '--fork',
          '--kill-child=SIGKILL',
          '--',
          'sh',
          '-c',
          INSIDE,
          'inside',
          rootfs,
          vol,
          'env',
          '-i',
          ...envArgs,
          'unshare',
          `--root=${rootfs}`,
          `--wd=${config.WorkingDir || '/'}`,
          '--mount-proc',
          `--setgid=${user.gid}`,
          `--setuid=${user.uid}`,
          '--',
          ...command,
        ],
        { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
      )
      void pump(proc.stdout)
      void pump(proc.stderr)
      for (let i = 0; i < 100; i++) {
        try {
          if (readFileSync(`/proc/${child()}/cmdline`, 'utf8').startsWith(command[0]!)) return
        } catch {
          if (proc.exitCode !== null) throw new Error(`the container exited at once (${proc.exitCode}):\n${output}`)
        }
        await Bun.sleep(20)
      }
      throw new Error(`the container's command did not start:\n${output}`)
    },
    async stop() {
      process.kill(child(), 'SIGTERM')
      return await proc!.exited
    },
    async kill() {
      process.kill(child(), 'SIGKILL')
      await proc!.exited
    },
    pid: async () => child(),
    logs: async () => output,
    async exec(argv) {
      const p = Bun.spawn(
        ['nsenter', '--target', String(child()), '--mount', '--pid', '--root', '--wd', `--setuid=${user.uid}`, `--setgid=${user.gid}`, '--', ...argv],
        { env, stdout: 'pipe', stderr: 'pipe' },
      )
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
      return { code, stdout, stderr }
    },
    volumeDir: async () => vol,
    async remove() {
      if (proc && proc.exitCode === null) {
        // The container's first process first: it dropped privileges, which clears the parent-death
        // signal --kill-child set, so killing unshare alone would leave it running.
        try {
          process.kill(child(), 'SIGKILL')
        } catch {}
        proc.kill('SIGKILL')
        await proc.exited
      }
      await sh(['podman', 'image', 'umount', image])
    },
  }
}

/** The image's USER as numbers, from the image's own /etc/passwd (a name means nothing on the host). */
export function resolveUser(rootfs: string, user: string): { uid: number; gid: number } {
  const [name, group] = user.split(':') as [string, string | undefined]
  const passwd = readFileSync(join(rootfs, 'etc/passwd'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
  const entry = /^\d+$/.test(name) ? passwd.find((p) => p[2] === name) : passwd.find((p) => p[0] === name)
  if (!entry) throw new Error(`user ${name} is not in the image's /etc/passwd`)
  const groups = readFileSync(join(rootfs, 'etc/group'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
  const gid = group === undefined ? Number(entry[3]) : /^\d+$/.test(group) ? Number(group) : Number(groups.find((g) => g[0] === group)?.[2])
  return { uid: Number(entry[2]), gid }
}
