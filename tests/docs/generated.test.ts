// SPDX-License-Identifier: AGPL-3.0-or-later
/** Files generated from code must match what the code renders now (`bun scripts/gen-docs.ts` refreshes them). */
import { expect, test } from 'bun:test'
import { renderConfigMarkdown, renderConfigYaml } from '../../src/config/docs.ts'
import { renderErrorCodes } from '../../src/http/error-docs.ts'

const root = new URL('../..', import.meta.url).pathname

test.each([
  ['config.yaml', renderConfigYaml],
  ['docs/reference/config.md', renderConfigMarkdown],
  ['docs/reference/error-codes.md', renderErrorCodes],
])('%s is up to date', async (file, render) => {
  expect(await Bun.file(`${root}${file}`).text()).toBe(render())
})
