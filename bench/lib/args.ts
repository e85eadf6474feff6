// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Command-line flags for bench scripts: `--name value`, `--name=value`, and
 * bare `--name` for booleans. The defaults object is also the schema: each
 * flag takes the type of its default, and an unknown flag is an error.
 *
 * @example
 * const f = flags(process.argv.slice(2), { duration: 10, write: false, only: '' })
 * // bun bench/dashboard.ts --duration 5 --write  →  { duration: 5, write: true, only: '' }
 */
export type FlagValue = string | number | boolean

export function flags<T extends Record<string, FlagValue>>(argv: string[], defaults: T): T {
  const out: Record<string, FlagValue> = { ...defaults }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg)
    if (!m || !(m[1]! in defaults))
      throw new Error(
        `unknown argument "${arg}"; flags: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')}`,
      )
    const name = m[1]!
    const kind = typeof defaults[name]
    if (kind === 'boolean') {
      out[name] = m[2] === undefined ? true : m[2] !== 'false'
      continue
    }
    const raw = m[2] ?? argv[++i]
    if (raw === undefined) throw new Error(`--${name} needs a value`)
    if (kind === 'number') {
      const n = Number(raw)
      if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${raw}"`)
      out[name] = n
    } else out[name] = raw
  }
  return out as T
}
