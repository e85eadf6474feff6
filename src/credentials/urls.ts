// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Ready-to-paste proxy URLs for credential and binding DTOs. With
 * `s3_proxy.public_hostname` set they are `<public_scheme>://<public_hostname>`;
 * otherwise they are derived from the dashboard request: its host name (the
 * Host header, port dropped) with the proxy's own port, over http, because
 * the proxy listener itself speaks plain http. Behind a reverse proxy or TLS
 * terminator, set public_hostname.
 */
export type ProxyUrls = {
  endpoint: string
  bucket(name: string): string
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})$/

export function proxyUrls(o: { publicHostname: string; publicScheme: 'http' | 'https'; requestHost: string | null; proxyPort: number }): ProxyUrls {
  let endpoint: string
  if (o.publicHostname) endpoint = `${o.publicScheme}://${o.publicHostname}`
  else {
    const raw = o.requestHost ?? ''
    const name = raw.startsWith('[') ? raw.slice(0, raw.indexOf(']') + 1) : raw.split(':')[0]!
    endpoint = `http://${HOST.test(name) ? name : 'localhost'}:${o.proxyPort}`
  }
  return { endpoint, bucket: (name) => `${endpoint}/${name}` }
}
