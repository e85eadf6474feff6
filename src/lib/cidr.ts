// SPDX-License-Identifier: AGPL-3.0-or-later
import { BlockList, isIP } from 'node:net'

export type Cidr = { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** Parses "10.0.0.0/8", "::1" or "192.168.1.5" (a bare IP is a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const parts = text.trim().split('/')
  if (parts.length > 2) return undefined
  const [address, bits] = parts as [string, string | undefined]
  const v = isIP(address)
  if (v === 0) return undefined
  const max = v === 4 ? 32 : 128
  const prefix = bits === undefined ? max : Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) return undefined
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' }
}

/** Membership test over a list of CIDRs; IPv4-mapped IPv6 peers match IPv4 entries. */
export function cidrMatcher(cidrs: readonly string[]): (ip: string) => boolean {
  if (cidrs.length === 0) return () => false
  const list = new BlockList()
  for (const c of cidrs) {
    const p = parseCidr(c)
    if (p) list.addSubnet(p.address, p.prefix, p.family)
  }
  return (ip) => {
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
    const v = isIP(plain)
    if (v === 0) return false
    return list.check(plain, v === 4 ? 'ipv4' : 'ipv6')
  }
}

/**
 * The key per-client rate limits count under: an IPv4 address, or the /64 of an
 * IPv6 address — one home or server usually owns a whole /64, so counting each
 * of its 2^64 addresses apart would give it unlimited budgets.
 */
export function rateLimitKey(ip: string | null | undefined): string {
  if (!ip) return ''
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
  if (isIP(plain) !== 6) return plain
  const [head, tail = ''] = plain.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = plain.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`
}
