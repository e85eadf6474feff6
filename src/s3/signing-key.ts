// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Cache of derived signing keys. Deriving one costs four HMACs; a busy client reuses the same
 * (key, day, region, service) for every request of the day, so the cache turns that into one
 * map lookup plus one SHA-256 of the secret.
 *
 * The secret's fingerprint is part of the cache key so that rotating or replacing a secret
 * can never reuse a key derived from the old one, even before `clearSigningKeyCache()` runs.
 * The map is a bounded LRU (Map keeps insertion order) so a flood of distinct access keys or
 * scopes cannot grow memory without limit.
 */
import { deriveSigningKey, type Scope } from './canonical.ts'

const MAX_ENTRIES = 4096
const cache = new Map<string, Buffer>()

function fingerprint(secret: string): string {
  return new Bun.CryptoHasher('sha256').update(secret).digest('base64')
}

/** The signing key for `scope`, from the cache when possible. Callers must not mutate it. */
export function cachedSigningKey(accessKeyId: string, secret: string, scope: Scope): Buffer {
  const id = accessKeyId + '\n' + scope.date + '\n' + scope.region + '\n' + scope.service + '\n' + fingerprint(secret)
  const hit = cache.get(id)
  if (hit !== undefined) {
    cache.delete(id)
    cache.set(id, hit)
    return hit
  }
  const key = deriveSigningKey(secret, scope)
  cache.set(id, key)
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  return key
}

/** Drops every cached key; call after credentials are reloaded or revoked. */
export function clearSigningKeyCache(): void {
  cache.clear()
}

/** Current number of cached keys (for tests and a cache-size gauge). */
export function signingKeyCacheSize(): number {
  return cache.size
}
