// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The client's address behind reverse proxies. X-Forwarded-For is believed
 * only from trusted proxies, and walked from the right: the first hop that
 * is not trusted is the client (anything left of it may be forged).
 */

/** The client address for a connection from `peer` carrying `forwardedFor`. */
export function clientIp(peer: string, forwardedFor: string | null | undefined, trusted: (ip: string) => boolean): string {
  let ip = peer
  if (trusted(peer)) {
    const hops = (forwardedFor ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = hops[i]!
      if (!trusted(ip)) break
    }
  }
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip
}
