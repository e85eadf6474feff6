// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a route needs, declared next to it (`needs: NEED.key('write')`) and
 * read from the same validated params, query and body its handler uses, so
 * the key that is checked is the key that is touched. The guard evaluates the
 * declaration with `decide` before the handler runs; no handler checks grants
 * itself.
 */
import { READ, WRITE, type Level } from './view.ts'
import type { Want } from './decide.ts'

/** The parts of a request a declaration reads; already validated by the route's schemas. `actor` is who asks. */
export type RequestParts = { params: Record<string, string | undefined>; query: Record<string, unknown>; body: unknown; actor: { id: string } }

export type Need = (r: RequestParts) => Want[] | Promise<Want[]>

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const field = (body: unknown, name: string): unknown => (body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined)
const at = (r: RequestParts): { backend: string; bucket: string } => ({ backend: str(r.params.bid), bucket: str(r.params.bucket) })
const path = (r: RequestParts, p: string, level: Level): Want => ({ kind: 'path', ...at(r), path: p, level })

/** A copy's destination: another bucket and backend when the body names them. */
function destination(r: RequestParts, key: string): Want {
  const here = at(r)
  return {
    kind: 'path',
    backend: str(field(r.body, 'dst_backend')) || here.backend,
    bucket: str(field(r.body, 'dst_bucket')) || here.bucket,
    path: key,
    level: WRITE,
  }
}

const levelName = (v: unknown): Level => (v === 'read' ? READ : WRITE)

export const NEED = {
  /** Nothing to refuse up front: the handler filters what it shows with the caller's view. */
  view: (() => []) satisfies Need,
  backend: ((r) => [{ kind: 'backend', backend: str(r.params.bid) }]) satisfies Need,
  bucket: ((r) => [{ kind: 'bucket', ...at(r) }]) satisfies Need,
  wholeBucket:
    (level: Level): Need =>
    (r) => [path(r, '', level)],
  createBucket: ((r) => [{ kind: 'create-bucket', backend: str(r.params.bid) }]) satisfies Need,
  /** One level of the folder at `?prefix=`. */
  list: ((r) => [{ kind: 'list', ...at(r), prefix: str(r.query.prefix) }]) satisfies Need,
  /** Everything under `?prefix=` (absent: the whole bucket). */
  prefixQuery:
    (level: Level): Need =>
    (r) => [path(r, str(r.query.prefix), level)],
  /** The key at `?key=`. */
  key:
    (level: Level): Need =>
    (r) => [path(r, str(r.query.key), level)],
  /** An upload: the key at `?key=`; a form upload without one names its key in the body, so it needs the whole bucket. */
  upload: ((r) => [path(r, str(r.query.key), WRITE)]) satisfies Need,
  /** A folder placeholder `body.key` + "/". */
  folder: ((r) => {
    const key = str(field(r.body, 'key'))
    return [path(r, key.endsWith('/') ? key : `${key}/`, WRITE)]
  }) satisfies Need,
  /** Every `body.keys[].key`. */
  bodyKeys: ((r) => {
    const keys = field(r.body, 'keys')
    return (Array.isArray(keys) ? keys : []).map((k) => path(r, str(field(k, 'key')), WRITE))
  }) satisfies Need,
  /** Everything under `body.prefix`. */
  bodyPrefix:
    (level: Level): Need =>
    (r) => [path(r, str(field(r.body, 'prefix')), level)],
  /** Every `?key=` of a zip; a key ending in "/" is a whole folder. */
  zipKeys: ((r) => {
    const keys = r.query.key
    return (Array.isArray(keys) ? keys : [keys]).map((k) => path(r, str(k), READ))
  }) satisfies Need,
  /** A copy: read the source key, write the destination key. */
  copy: ((r) => [path(r, str(field(r.body, 'src_key')), READ), destination(r, str(field(r.body, 'dst_key')))]) satisfies Need,
  /** A folder copy: read everything under the source prefix, write under the destination prefix. */
  copyPrefix: ((r) => [path(r, str(field(r.body, 'src_prefix')), READ), destination(r, str(field(r.body, 'dst_prefix')))]) satisfies Need,
  /** A share of `body.key` (a folder when it ends in "/") on `body.backend_id`/`body.bucket`. */
  share: ((r) => [
    { kind: 'path', backend: str(field(r.body, 'backend_id')), bucket: str(field(r.body, 'bucket')), path: str(field(r.body, 'key')), level: READ },
  ]) satisfies Need,
  /** A pin of `body.backend_id`/`body.bucket`. */
  pin: ((r) => [{ kind: 'bucket', backend: str(field(r.body, 'backend_id')), bucket: str(field(r.body, 'bucket')) }]) satisfies Need,
  /**
   * A credential's scope: for each bucket, some grant in it at the scope's access. The key's owner
   * is held to their grants again on every request, prefixes included (s3proxy/grants.ts).
   */
  credentialScope:
    (backendOf: (r: RequestParts) => Promise<string | undefined>): Need =>
    async (r) => {
      const backend = await backendOf(r)
      const buckets = field(r.body, 'buckets')
      if (backend === undefined || !Array.isArray(buckets)) return []
      return buckets.map((b) =>
        typeof b === 'string'
          ? { kind: 'bucket', backend, bucket: b, level: WRITE }
          : { kind: 'bucket', backend, bucket: str(field(b, 'bucket')), level: levelName(field(b, 'access')) },
      )
    },
} as const
