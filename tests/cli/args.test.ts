// SPDX-License-Identifier: AGPL-3.0-or-later
import { expect, test } from 'bun:test'
import { parseArgs, UsageError } from '../../src/cli/args.ts'

const spec = { config: 'string', username: 'string', 'password-stdin': 'boolean' } as const

test('--name value, --name=value and boolean flags', () => {
  expect(parseArgs(['--config', 'a.yaml', '--username=bob', '--password-stdin'], spec).flags).toEqual({
    config: 'a.yaml',
    username: 'bob',
    'password-stdin': true,
  })
  expect(parseArgs(['--config=with=equals.yaml'], spec).flags.config).toBe('with=equals.yaml')
  expect(parseArgs([], spec)).toEqual({ flags: {}, positional: [] })
})

test('unknown options, missing values and values on booleans are usage errors', () => {
  expect(() => parseArgs(['--bogus'], spec)).toThrow(new UsageError('unknown option --bogus'))
  expect(() => parseArgs(['--config'], spec)).toThrow('--config needs a value')
  expect(() => parseArgs(['--config', '--username', 'x'], spec)).toThrow('--config needs a value')
  expect(() => parseArgs(['--password-stdin=yes'], spec)).toThrow('--password-stdin takes no value')
})

test('a bare argument is refused without echoing it', () => {
  let err: unknown
  try {
    parseArgs(['hunter2-typed-by-mistake'], spec)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(UsageError)
  expect((err as Error).message).not.toContain('hunter2')
  expect(() => parseArgs(['--config', 'a.yaml', 'extra'], spec)).toThrow(UsageError)
})
