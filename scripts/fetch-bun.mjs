// SPDX-License-Identifier: AGPL-3.0-or-later
// Usage: node scripts/fetch-bun.mjs VERSION PREFIX
// Puts Bun's platform package (@oven/bun-linux-<arch>[-baseline]@VERSION) under
// PREFIX/node_modules the way npm would, checked against the registry's
// integrity hash. For machines with Node but no npm: Debian's nodejs package
// comes without it, and so does the image CI builds the Containerfile on.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'

const [version, prefix] = process.argv.slice(2)
if (!version || !prefix) {
  console.error('usage: node scripts/fetch-bun.mjs VERSION PREFIX')
  process.exit(2)
}
const arch = { x64: 'x64', arm64: 'aarch64' }[process.arch]
if (process.platform !== 'linux' || !arch) throw new Error(`no Bun package for ${process.platform}/${process.arch}`)
// bun's own postinstall picks the baseline build on x64 CPUs without AVX2.
const baseline = arch === 'x64' && !/\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))
const name = `@oven/bun-linux-${arch}${baseline ? '-baseline' : ''}`
const registry = (process.env.npm_config_registry || 'https://registry.npmjs.org').replace(/\/$/, '')

async function get(url) {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return res
}

const meta = await (await get(`${registry}/${name.replace('/', '%2f')}/${version}`)).json()
const tgz = Buffer.from(await (await get(meta.dist.tarball)).arrayBuffer())
const [algorithm, expected] = meta.dist.integrity.split(/-(.*)/s)
if (createHash(algorithm).update(tgz).digest('base64') !== expected) throw new Error(`${name}@${version}: integrity check failed`)
const dir = `${prefix}/node_modules/${name}`
mkdirSync(dir, { recursive: true })
execFileSync('tar', ['-xz', '--strip-components=1', '-C', dir], { input: tgz })
execFileSync('chmod', ['755', `${dir}/bin/bun`])
