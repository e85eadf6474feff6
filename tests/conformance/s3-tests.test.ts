// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The ceph s3-tests suite through Stowage's S3 listener (scripts/s3-tests.ts): a real server
 * process with an RGW and an fs backend, `owner` credentials for the suite's bucket prefix, the
 * suite run against the listener for each path at once. Every test on a path's committed pass list
 * (tests/conformance/passing-<path>.txt) must still pass; the failure names each one that does
 * not. Tests passing that are not on the list are printed, so the list can be raised with
 * `bun scripts/s3-tests.ts --update`. A path without a list fails: every path is measured.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { compare, PATHS, readList, report, runSuite, startServer, SUITE_TIMEOUT_S, type PathName, type SuiteResult } from '../../scripts/s3-tests.ts'

/** The whole suite takes minutes on 2 cores; both paths run concurrently, each within the runner's timeout. */
const SUITE_MS = (SUITE_TIMEOUT_S + 5 * 60) * 1000

const paths = Object.keys(PATHS) as PathName[]
const results = new Map<PathName, SuiteResult | Error>()
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  const server = await startServer()
  stop = server.stop
  const settled = await Promise.allSettled(paths.map((p) => runSuite(server, p, [])))
  settled.forEach((r, i) => results.set(paths[i]!, r.status === 'fulfilled' ? r.value : (r.reason as Error)))
}, SUITE_MS)

afterAll(async () => {
  await stop?.()
})

describe('ceph s3-tests through the S3 listener', () => {
  for (const path of paths) {
    test(`${path}: every test on the pass list still passes`, () => {
      const expected = readList(path)
      if (expected === undefined) throw new Error(`no pass list: tests/conformance/passing-${path}.txt`)
      const r = results.get(path)
      if (r instanceof Error || r === undefined) throw r ?? new Error('the suite did not run')
      const c = compare(expected, r.outcomes)
      console.log(report(path, c, expected.length))
      // The list is only as good as the run: a suite that collected nothing would pass everything vacuously.
      expect(r.outcomes.size).toBeGreaterThanOrEqual(Math.max(expected.length, 1))
      expect(c.regressions).toEqual([])
    })
  }
})
