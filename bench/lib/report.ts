// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Markdown output and bench/README.md upkeep. The README is shared by several
 * benchmarks: each owns the text between its two markers
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, and
 * `writeSection` replaces only that text, so one script never rewrites
 * another's figures.
 *
 * @example
 * const md = table(['case', 'req/s'], [['get 1 KiB', fixed(812.3, 0)]])
 * writeSection('bench/README.md', 'dashboard-results', md)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

export type Cell = string | number

/** A markdown table; numbers are right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^[-+]?[\d.,]+\s*(%|×|ms|MiB|KiB|s)?$/.test(String(r[i] ?? ''))),
  )
  const line = (cells: Cell[]): string => `| ${cells.map((c) => String(c)).join(' | ')} |`
  return [line(headers), line(headers.map((_, i) => (numeric[i] ? '---:' : '---'))), ...rows.map(line)].join('\n')
}

/** `n` with `digits` decimals, or "–" when it is not a finite number. */
export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–'
}

export function mib(kib: number): string {
  return fixed(kib / 1024, 1)
}

const start = (name: string): string => `<!-- bench:${name}:start -->`
const end = (name: string): string => `<!-- bench:${name}:end -->`

/** Replaces the text between the section's markers; throws when the file or a marker is missing (so nothing is written in the wrong place). */
export function writeSection(file: string, name: string, body: string): void {
  if (!existsSync(file)) throw new Error(`${file} is missing`)
  const text = readFileSync(file, 'utf8')
  const a = text.indexOf(start(name))
  const b = text.indexOf(end(name))
  if (a < 0 || b < a) throw new Error(`${file} has no "${start(name)}" … "${end(name)}" markers`)
  writeFileSync(file, text.slice(0, a + start(name).length) + '\n' + body.trim() + '\n' + text.slice(b))
}

/** bench/README.md, where `--write` puts each script's section. */
export const README = new URL('../README.md', import.meta.url).pathname

/** Prints a script's result and, with `write`, puts it in README between the markers of section `name`. */
export function publish(name: string, body: string, write: boolean): void {
  console.log(`\n${body}\n`)
  if (!write) return
  writeSection(README, name, body)
  console.log(`wrote ${README}`)
}
