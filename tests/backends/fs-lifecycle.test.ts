// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Lifecycle rules on a directory: the sweep deletes what a rule's expiration
 * makes due (days rounded up to midnight UTC, or a date) among the objects
 * its prefix, tags and sizes select, aborts uploads older than a rule's
 * AbortIncompleteMultipartUpload, leaves disabled rules and everything else
 * alone, decides each deletion again under the commit lock, and forgets the
 * rules of a bucket that is deleted or replaced by hand. Rules are set as an
 * S3 client sets them (the engine's document parser); the sweep's clock is
 * the driver's `now` option.
 */
import { describe, expect, test } from 'bun:test'
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Backend } from '../../src/backends/backend.ts'
import { closeContext, openContext } from '../../src/backends/fs/context.ts'
import type { LifecycleOutcome } from '../../src/backends/fs/lifecycle.ts'
import { expireObject } from '../../src/backends/fs/delete.ts'
import { dueAfterDays } from '../../src/backends/bucket-rules.ts'
import { parseLifecycleDocument } from '../../src/s3engine/lifecycle.ts'
import { body, fixture, keysOf, put } from './fs-fixture.ts'

const DAY = 86_400_000

type Swept = {
  b: Backend
  root: string
  /** What the last sweep reported, also when it failed. */
  outcomes: LifecycleOutcome[]
  at(ms: number): Promise<LifecycleOutcome[]>
  bucketDir(name?: string): string
}

/** A driver whose sweep runs only when `at` asks, with the clock at that time. */
async function swept(): Promise<Swept> {
  let now = Date.now()
  let sweep: (() => Promise<unknown>) | undefined
  const outcomes: LifecycleOutcome[] = []
  const f = await fixture('bkt', {
    now: () => now,
    onLifecycle: (o) => outcomes.push(o),
    leased: async (_every, run) => {
      sweep = run
    },
  })
  await f.b.listBuckets()
  return {
    b: f.b,
    root: f.root,
    outcomes,
    bucketDir: f.bucketDir,
    async at(ms) {
      now = ms
      outcomes.length = 0
      await sweep!()
      return [...outcomes]
    },
  }
}

const rules = (...xml: string[]): string => `<LifecycleConfiguration>${xml.map((r) => `<Rule>${r}</Rule>`).join('')}</LifecycleConfiguration>`

async function setRules(b: Backend, document: string, bucket = 'bkt'): Promise<void> {
  await b.bucketRules!.setLifecycle(bucket, parseLifecycleDocument(document))
}

async function putTagged(b: Backend, key: string, content: string, tags: Record<string, string>): Promise<void> {
  await b.putObject('bkt', key, body(content), { size: Buffer.byteLength(content), tags })
}

describe('expiration', () => {
  test('Days: due at the first midnight UTC after the days have passed, within the prefix only', async () => {
    const s = await swept()
    const made = Date.now()
    for (const key of ['tmp/a', 'tmp/deep/b', 'tmpfile', 'keep/c', 'ünï/tmp/d']) await put(s.b, key, key)
    await setRules(s.b, rules('<ID>tmp</ID><Status>Enabled</Status><Filter><Prefix>tmp/</Prefix></Filter><Expiration><Days>1</Days></Expiration>'))
    const due = dueAfterDays(made, 1)
    expect(due).toBeGreaterThanOrEqual(made + DAY)
    expect(due % DAY).toBe(0)
    expect(await s.at(made + DAY - 1)).toEqual([])
    expect(await s.at(due - 1000)).toEqual([])
    expect(await keysOf(s.b)).toHaveLength(5)
    expect(await s.at(due + DAY)).toEqual([{ bucket: 'bkt', expired: 2, aborted: 0 }])
    expect(await keysOf(s.b)).toEqual(['keep/c', 'tmpfile', 'ünï/tmp/d'])
    expect(await s.at(due + 2 * DAY)).toEqual([])
  })

  test('Date: everything the rule selects goes once the date has come; a disabled rule and a delete-marker rule remove nothing', async () => {
    const s = await swept()
    for (const key of ['a', 'b/c', 'off/x']) await put(s.b, key, key)
    await setRules(
      s.b,
      rules(
        '<ID>off</ID><Status>Disabled</Status><Prefix>off/</Prefix><Expiration><Days>1</Days></Expiration>',
        '<ID>markers</ID><Status>Enabled</Status><Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>',
        '<ID>date</ID><Status>Enabled</Status><Filter><Prefix>b/</Prefix></Filter><Expiration><Date>2099-01-01T00:00:00Z</Date></Expiration>',
      ),
    )
    expect(await s.at(Date.now() + 30 * DAY)).toEqual([])
    expect(await s.at(Date.parse('2099-01-01T00:00:00Z'))).toEqual([{ bucket: 'bkt', expired: 1, aborted: 0 }])
    expect(await keysOf(s.b)).toEqual(['a', 'off/x'])
  })

  test('tags and sizes: an And filter selects only objects that meet every condition', async () => {
    const s = await swept()
    await putTagged(s.b, 'logs/big-scratch', 'x'.repeat(20), { class: 'scratch', other: '1' })
    await putTagged(s.b, 'logs/small-scratch', 'x'.repeat(5), { class: 'scratch' })
    await putTagged(s.b, 'logs/big-kept', 'x'.repeat(20), { class: 'keep' })
    await put(s.b, 'logs/big-untagged', 'x'.repeat(20))
    await putTagged(s.b, 'other/big-scratch', 'x'.repeat(20), { class: 'scratch' })
    await put(s.b, 'sized/tiny', 'x')
    await put(s.b, 'sized/large', 'x'.repeat(100))
    await setRules(
      s.b,
      rules(
        '<ID>scratch</ID><Status>Enabled</Status><Filter><And><Prefix>logs/</Prefix><Tag><Key>class</Key><Value>scratch</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Expiration><Days>1</Days></Expiration>',
        '<ID>tiny</ID><Status>Enabled</Status><Filter><ObjectSizeLessThan>2</ObjectSizeLessThan></Filter><Expiration><Days>1</Days></Expiration>',
      ),
    )
    expect(await s.at(Date.now() + 3 * DAY)).toEqual([{ bucket: 'bkt', expired: 2, aborted: 0 }])
    expect(await keysOf(s.b)).toEqual(['logs/big-kept', 'logs/big-untagged', 'logs/small-scratch', 'other/big-scratch', 'sized/large'])
  })

  test('an object replaced after the walk saw it is decided on what it is now, under the commit lock', async () => {
    const s = await swept()
    await put(s.b, 'small', 'x')
    const ctx = await openContext(s.root)
    try {
      const smallOnly = (o: { size: number }): boolean => o.size < 2
      await put(s.b, 'small', 'now much larger than the rule allows')
      expect(await expireObject(ctx, 'bkt', 'small', smallOnly)).toBe(false)
      expect(await keysOf(s.b)).toEqual(['small'])
      await put(s.b, 'small', 'y')
      expect(await expireObject(ctx, 'bkt', 'small', smallOnly)).toBe(true)
      expect(await expireObject(ctx, 'bkt', 'gone', smallOnly)).toBe(false)
      expect(await keysOf(s.b)).toEqual([])
    } finally {
      await closeContext(ctx)
    }
  })
})

describe('incomplete uploads', () => {
  test('AbortIncompleteMultipartUpload aborts uploads under its prefix once they are old enough', async () => {
    const s = await swept()
    const made = Date.now()
    const old = await s.b.createMultipartUpload('bkt', 'up/x', {})
    const other = await s.b.createMultipartUpload('bkt', 'other/y', {})
    await setRules(
      s.b,
      rules(
        '<ID>abort</ID><Status>Enabled</Status><Prefix>up/</Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>',
      ),
    )
    expect(await s.at(made + DAY)).toEqual([])
    expect(await s.at(dueAfterDays(made, 2))).toEqual([{ bucket: 'bkt', expired: 0, aborted: 1 }])
    const left = await s.b.listMultipartUploads('bkt', {})
    expect(left.map((u) => u.uploadId)).toEqual([other])
    expect(left.some((u) => u.uploadId === old)).toBe(false)
  })
})

describe('whose rules', () => {
  test('a bucket deleted and made again, through Stowage or by hand, starts without rules or tags', async () => {
    const s = await swept()
    const rulesOf = s.b.bucketRules!
    await setRules(s.b, rules('<ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>'))
    await rulesOf.setTags('bkt', [['team', 'a']])
    await s.b.deleteBucket('bkt')
    await s.b.createBucket('bkt')
    expect(await rulesOf.getLifecycle('bkt')).toBeNull()
    expect(await rulesOf.getTags('bkt')).toBeNull()

    await setRules(s.b, rules('<ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>'))
    await rmdir(s.bucketDir('bkt'))
    await mkdir(s.bucketDir('bkt'))
    expect(await rulesOf.getLifecycle('bkt')).toBeNull()
    await put(s.b, 'survives', 'x')
    expect(await s.at(Date.now() + 10 * DAY)).toEqual([])
    expect(await keysOf(s.b)).toEqual(['survives'])
  })

  test('rules of a missing bucket: bucket_not_found; the dashboard’s rules read back in its own terms', async () => {
    const s = await swept()
    expect(await s.b.bucketRules!.getLifecycle('nope').catch((e: { kind: string }) => e.kind)).toBe('bucket_not_found')
    await s.b.setLifecycle('bkt', [{ id: 'logs', prefix: 'logs/', enabled: true, expiration_days: 3, abort_incomplete_days: 1 }])
    expect(await s.b.getLifecycle('bkt')).toEqual([{ id: 'logs', prefix: 'logs/', enabled: true, expiration_days: 3, abort_incomplete_days: 1 }])
    await put(s.b, 'logs/a', 'a')
    expect(await s.at(Date.now() + 5 * DAY)).toEqual([{ bucket: 'bkt', expired: 1, aborted: 0 }])
    await s.b.setLifecycle('bkt', [])
    expect(await s.b.bucketRules!.getLifecycle('bkt')).toBeNull()
  })
})

describe('a sweep that fails', () => {
  test('a bucket that fails does not keep the sweep from the others, and the failure is reported', async () => {
    const s = await swept()
    await s.b.createBucket('aaa')
    await put(s.b, 'doomed', 'x')
    await setRules(s.b, rules('<ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>'))
    await setRules(s.b, rules('<ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>'), 'aaa')
    // Rules that are not what Stowage writes (a hand edit): the walk trips over the missing scope.
    const path = join(s.root, '.stowage', 'buckets', 'aaa.json')
    const record = JSON.parse(await readFile(path, 'utf8')) as { lifecycle: Array<Record<string, unknown>> }
    await writeFile(path, JSON.stringify({ ...record, lifecycle: [{ ...record.lifecycle[0], scope: null }] }))
    await expect(s.at(Date.now() + 10 * DAY)).rejects.toThrow(TypeError)
    expect(s.outcomes).toEqual([{ bucket: 'bkt', expired: 1, aborted: 0 }])
    expect(await keysOf(s.b)).toEqual([])
  })

  test('a record that is not one of ours counts as no rules', async () => {
    const f = await fixture()
    await setRules(f.b, rules('<ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>'))
    const path = join(f.root, '.stowage', 'buckets', 'bkt.json')
    const record = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    await writeFile(path, JSON.stringify({ ...record, lifecycle: 5, tags: 'x' }))
    expect(await f.b.bucketRules!.getLifecycle('bkt')).toBeNull()
    expect(await f.b.bucketRules!.getTags('bkt')).toBeNull()
    await writeFile(path, '{"dir": ')
    expect(await f.b.bucketRules!.getLifecycle('bkt')).toBeNull()
  })
})
