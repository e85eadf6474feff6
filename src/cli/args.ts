// SPDX-License-Identifier: AGPL-3.0-or-later
export class UsageError extends Error {}

export type Parsed = { flags: Record<string, string | true>; positional: string[] }

/**
 * `--name value`, `--name=value` and boolean `--flag`; unknown flags are errors.
 * No command takes bare arguments, so one is an error too (`serve config.yaml`
 * would otherwise run on defaults). Its value is not echoed: it might be a
 * password typed where stdin was meant (`hash-password hunter2`).
 */
export function parseArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>): Parsed {
  const flags: Record<string, string | true> = {}
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument #${i + 1}: options start with "--"`)
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
    const kind = spec[name]
    if (!kind) throw new UsageError(`unknown option --${name}`)
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`)
      flags[name] = true
    } else {
      const value = inline ?? argv[++i]
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`)
      flags[name] = value
    }
  }
  return { flags, positional }
}

/** Reads a secret from stdin: piped input as-is (one trailing newline dropped), or typed at a terminal without echo. */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return (await Bun.stdin.text()).replace(/\r?\n$/, '')
  process.stderr.write(prompt)
  process.stdin.setRawMode(true)
  process.stdin.resume()
  let value = ''
  try {
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return value
        if (ch === '\u0003') throw new UsageError('cancelled')
        if (ch === '\u007f') value = value.slice(0, -1)
        else value += ch
      }
    }
    return value
  } finally {
    process.stdin.setRawMode(false)
    process.stdin.pause()
    process.stderr.write('\n')
  }
}
