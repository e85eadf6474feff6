// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * config.yaml and docs/reference/config.md are generated from the schema
 * (`bun run gen`, i.e. scripts/gen-docs.ts → src/config/docs.ts). These tests
 * fail when either file differs from what the generator renders now, and check
 * that the shipped config.yaml loads cleanly and says exactly the defaults.
 */
import { describe, expect, test } from 'bun:test'
import { buildConfig, leafKeys, loadConfigFile } from '../../src/config/load.ts'
import { renderConfigMarkdown, renderConfigYaml } from '../../src/config/docs.ts'
import { renderErrorCodes } from '../../src/http/error-docs.ts'

const root = new URL('../../', import.meta.url).pathname
const FIX = 'run `bun run gen` (scripts/gen-docs.ts) and commit the result'

describe('generated files are current', () => {
  test('config.yaml', async () => {
    const onDisk = await Bun.file(`${root}config.yaml`).text()
    if (onDisk !== renderConfigYaml()) throw new Error(`config.yaml differs from the schema: ${FIX}`)
  })

  test('docs/reference/config.md', async () => {
    const onDisk = await Bun.file(`${root}docs/reference/config.md`).text()
    if (onDisk !== renderConfigMarkdown()) throw new Error(`docs/reference/config.md differs from the schema: ${FIX}`)
  })

  test('docs/reference/error-codes.md', async () => {
    const onDisk = await Bun.file(`${root}docs/reference/error-codes.md`).text()
    if (onDisk !== renderErrorCodes()) throw new Error(`docs/reference/error-codes.md differs from src/http/errors.ts: ${FIX}`)
  })
})

describe('the shipped config.yaml', () => {
  test('loads cleanly and equals the built-in defaults', async () => {
    const fromFile = await loadConfigFile(`${root}config.yaml`, {})
    const defaults = buildConfig({}, {})
    expect({ ...fromFile, source: '' }).toEqual({ ...defaults, source: '' })
  })

  test('names every config key', async () => {
    const text = await Bun.file(`${root}config.yaml`).text()
    const doc = Bun.YAML.parse(text) as Record<string, unknown>
    const missing = leafKeys()
      .map(([k]) => k)
      .filter(
        (k) =>
          k.split('.').reduce<unknown>((o, p) => (o && typeof o === 'object' && p in o ? (o as Record<string, unknown>)[p] : undefined), doc) === undefined,
      )
    expect(missing).toEqual([])
  })

  test('the reference documents every key with its environment variable', () => {
    const md = renderConfigMarkdown()
    for (const [k, s] of leafKeys()) {
      expect(md).toContain(`| \`${k}\` |`)
      if (!(s.type === 'array' && s.items?.type === 'object')) expect(md).toContain(`STOWAGE_${k.toUpperCase().replaceAll('.', '__')}`)
    }
  })
})
