// SPDX-License-Identifier: AGPL-3.0-or-later
/** Helpers that turn the fixture files under tests/fixtures/sigv4 into requests. */

export type RawRequest = { method: string; path: string; query: string; headers: Map<string, string[]>; body: string }

/**
 * Parses the test suite's `.req` text. A line that starts with whitespace continues the
 * previous header as a further value, which is how the suite spells obs-fold.
 */
export function parseReq(text: string): RawRequest {
  const lines = text.split('\n')
  const first = lines[0]!
  const method = first.slice(0, first.indexOf(' '))
  const target = first.slice(method.length + 1, first.lastIndexOf(' HTTP/1.1'))
  const q = target.indexOf('?')
  const headers = new Map<string, string[]>()
  let last: string[] | undefined
  let i = 1
  for (; i < lines.length && lines[i] !== ''; i++) {
    const line = lines[i]!
    if (/^\s/.test(line)) {
      last!.push(line.trim())
      continue
    }
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).toLowerCase()
    last = headers.get(name) ?? []
    last.push(line.slice(colon + 1).trim())
    headers.set(name, last)
  }
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers,
    body: lines.slice(i + 1).join('\n'),
  }
}

/** Multiple values of one header, joined the SigV4 way (each trimmed, joined with ','). */
export function getter(headers: Map<string, string[]>): (name: string) => string | null {
  return (name) => headers.get(name)?.join(',') ?? null
}

export function authzParts(authz: string): { signedHeaders: string[]; signature: string } {
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authz)![1]!.split(';')
  const signature = /Signature=([0-9a-f]{64})/.exec(authz)![1]!
  return { signedHeaders, signature }
}
