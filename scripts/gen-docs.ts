// SPDX-License-Identifier: AGPL-3.0-or-later
/** Regenerates the files derived from code: config.yaml, docs/reference/config.md, docs/reference/error-codes.md. */
import { renderConfigMarkdown, renderConfigYaml } from '../src/config/docs.ts'
import { renderErrorCodes } from '../src/http/error-docs.ts'

const root = new URL('..', import.meta.url).pathname
await Bun.write(`${root}config.yaml`, renderConfigYaml())
await Bun.write(`${root}docs/reference/config.md`, renderConfigMarkdown())
await Bun.write(`${root}docs/reference/error-codes.md`, renderErrorCodes())
console.log('wrote config.yaml, docs/reference/config.md, docs/reference/error-codes.md')
