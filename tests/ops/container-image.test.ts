// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Containerfile, built with podman on bases made from Debian packages
 * (no registry is reachable in CI) and run with a named volume: it starts,
 * reports healthy through its own HEALTHCHECK command, signs in with the
 * printed password, keeps an uploaded object and the account across a
 * restart and across a SIGKILL, runs as its non-root user, and stays small.
 * Runs with `podman run` where the machine allows it, else under unshare
 * (tests/helpers/container.ts says why and how).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildImage,
  freePort,
  imageConfig,
  podmanContainer,
  podmanRunWorks,
  requireContainerTools,
  sh,
  unshareContainer,
  type Container,
  type ImageConfig,
} from '../helpers/container.ts'
import { BINARY } from '../helpers/binary.ts'
import { firstSignIn, oneTimePassword, signIn } from '../helpers/http-session.ts'

const id = `${process.pid}-${Date.now().toString(36)}`
const IMAGE = `localhost/stowage-test:${id}`
const VOLUME = `stowage-test-${id}`
const PASSWORD = 'container harbour lantern 9090'
const OBJECT = new TextEncoder().encode(`kept across restarts ${id}\n`)

let config: ImageConfig
let size = 0
let container: Container | undefined

beforeAll(async () => {
  requireContainerTools()
  const built = await buildImage(IMAGE)
  ;({ config, size } = await imageConfig(IMAGE))
  console.log(`image ${IMAGE}: ${(size / 1e6).toFixed(1)} MB; bases ${(built.baseMs / 1000).toFixed(0)} s, podman build ${(built.buildMs / 1000).toFixed(0)} s`)
  await sh(['podman', 'volume', 'create', VOLUME])
}, 1_200_000)

afterAll(async () => {
  await container?.remove()
  await sh(['podman', 'volume', 'rm', '-f', VOLUME])
  await sh(['podman', 'rmi', '-f', IMAGE])
}, 120_000)

async function waitHealthy(c: Container): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(100)) {
    if (
      await fetch(`${c.url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return
  }
  throw new Error(`the container did not answer /healthz:\n${await c.logs()}`)
}

test('the image: non-root user, /data volume, both ports, a real health check, small', () => {
  expect(config.User).toBe('stowage')
  expect(Object.keys(config.Volumes ?? {})).toEqual(['/data'])
  expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(['8080/tcp', '8090/tcp'])
  expect(config.Healthcheck?.Test).toEqual(['CMD', '/usr/local/bin/stowage', 'healthcheck'])
  expect([...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]).toEqual(['/usr/local/bin/stowage', 'quickstart', '--data-dir', '/data'])
  // The binary plus a slim glibc userland: no build stage, no node_modules.
  expect(size).toBeLessThan(statSync(BINARY).size + 100 * 1024 * 1024)
})

test('starts on an empty named volume, is healthy, signs in with the printed password and stores an object', async () => {
  const port = await freePort()
  const probe = await podmanRunWorks(IMAGE)
  if (!probe.works) console.log(`podman run is refused here, so the image's root filesystem runs under unshare: ${probe.why.split('\n').at(-1)}`)
  container = probe.works ? await podmanContainer(IMAGE, VOLUME, port, `stowage-test-${id}`) : await unshareContainer(IMAGE, VOLUME, port)
  await container.start()
  await waitHealthy(container)

  const health = await container.exec(config.Healthcheck!.Test.slice(1))
  expect(health.stderr).toBe('')
  expect(health.code).toBe(0)

  const c = container
  const session = await firstSignIn(c.url, await oneTimePassword(() => c.logs()), PASSWORD)
  expect((await session.call('POST', '/api/backends/local/buckets', { name: 'photos' })).status).toBe(201)
  const put = await session.call('POST', '/api/backends/local/buckets/photos/object?key=2024/kept.txt', OBJECT)
  expect(put.status).toBe(201)

  const vol = await container.volumeDir()
  expect(readFileSync(join(vol, 'objects', 'photos', '2024', 'kept.txt'))).toEqual(Buffer.from(OBJECT))
  expect(statSync(join(vol, 'stowage.key')).mode & 0o777).toBe(0o600)
}, 120_000)

test('runs as the image user, not root, and owns what it writes', async () => {
  const status = readFileSync(`/proc/${await container!.pid()}/status`, 'utf8')
  const ids = (field: string) =>
    /^(\w+):\s+(.*)$/m
      .exec(status.split('\n').find((l) => l.startsWith(`${field}:`))!)![2]!
      .trim()
      .split(/\s+/)
  expect(ids('Uid')).toEqual(['65532', '65532', '65532', '65532'])
  expect(ids('Gid')).toEqual(['65532', '65532', '65532', '65532'])
  expect(/^CapEff:\s+0+$/m.test(status)).toBe(true)
  const vol = await container!.volumeDir()
  for (const f of ['stowage.db', 'stowage.key', 'objects']) expect([f, statSync(join(vol, f)).uid]).toEqual([f, 65532])
  const whoami = await container!.exec(['/usr/bin/id', '-u'])
  expect(whoami.stdout.trim()).toBe('65532')
}, 60_000)

test("the README's backup command works inside, as the image user, while it serves", async () => {
  const r = await container!.exec(['/usr/local/bin/stowage', 'backup', '--data-dir', '/data', '--to', '/data/backup.tar'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  const archive = join(await container!.volumeDir(), 'backup.tar')
  expect([statSync(archive).uid, statSync(archive).mode & 0o777]).toEqual([65532, 0o600])
  const listed = await sh(['tar', '-tf', archive])
  expect(listed.stdout.split('\n').filter(Boolean)).toEqual(['manifest.json', 'stowage.db', 'stowage.key'])
}, 60_000)

test('a restart (SIGTERM, start) keeps the account and the object, and prints no new password', async () => {
  const before = await container!.logs()
  expect(await container!.stop()).toBe(0)
  expect(
    await fetch(`${container!.url}/healthz`).then(
      () => 'up',
      () => 'down',
    ),
  ).toBe('down')
  await container!.start()
  await waitHealthy(container!)
  const after = (await container!.logs()).slice(container!.runner === 'unshare' ? before.length : 0)
  expect(after.match(/Password:/g)?.length ?? 0).toBe(container!.runner === 'unshare' ? 0 : 1)
  const session = await signIn(container!.url, 'admin', PASSWORD)
  expect(session.mustChangePassword).toBe(false)
  const got = await session.call('GET', '/api/backends/local/buckets/photos/object?key=2024/kept.txt')
  expect(got.status).toBe(200)
  expect(new Uint8Array(await got.arrayBuffer())).toEqual(OBJECT)
}, 120_000)

test('a SIGKILL loses nothing acknowledged: a second object and a new user survive it', async () => {
  const session = await signIn(container!.url, 'admin', PASSWORD)
  const second = new TextEncoder().encode('written just before the kill\n')
  expect((await session.call('POST', '/api/backends/local/buckets/photos/object?key=last.txt', second)).status).toBe(201)
  const user = await session.call('POST', '/api/admin/users', {
    username: 'erin',
    password: 'unrelated long passphrase 77',
    role: 'user',
    must_change_pw: false,
  })
  expect(user.status).toBe(201)
  await container!.kill()
  await container!.start()
  await waitHealthy(container!)
  const again = await signIn(container!.url, 'admin', PASSWORD)
  expect(new Uint8Array(await (await again.call('GET', '/api/backends/local/buckets/photos/object?key=last.txt')).arrayBuffer())).toEqual(second)
  expect((await signIn(container!.url, 'erin', 'unrelated long passphrase 77')).mustChangePassword).toBe(false)
  expect(readdirSync(await container!.volumeDir()).sort()).toContain('stowage.db')
}, 120_000)
