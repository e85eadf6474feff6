// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, test } from 'bun:test'
import { cidrMatcher, parseCidr, rateLimitKey } from '../../src/lib/cidr.ts'

test('parseCidr accepts IPs and CIDRs of both families', () => {
  expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' })
  expect(parseCidr('192.168.1.5')).toEqual({ address: '192.168.1.5', prefix: 32, family: 'ipv4' })
  expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' })
  expect(parseCidr('fd00::/8')?.prefix).toBe(8)
})

test('parseCidr refuses what is not an IP or CIDR', () => {
  for (const bad of ['', 'localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/-1', '10.0.0.0/8x', '10.0.0.0/', '300.1.1.1', '10.0.0.0/8/9'])
    expect(parseCidr(bad)).toBeUndefined()
})

test('cidrMatcher matches members only', () => {
  const m = cidrMatcher(['10.0.0.0/8', '192.168.1.5', 'fd00::/8'])
  expect(m('10.1.2.3')).toBe(true)
  expect(m('11.0.0.1')).toBe(false)
  expect(m('192.168.1.5')).toBe(true)
  expect(m('192.168.1.6')).toBe(false)
  expect(m('fd12::1')).toBe(true)
  expect(m('fe80::1')).toBe(false)
  expect(m('not-an-ip')).toBe(false)
  expect(m('')).toBe(false)
})

test('IPv4-mapped IPv6 peers match IPv4 entries', () => {
  expect(cidrMatcher(['127.0.0.1'])('::ffff:127.0.0.1')).toBe(true)
  expect(cidrMatcher(['127.0.0.1'])('::ffff:127.0.0.2')).toBe(false)
})

test('an empty list trusts nobody', () => {
  const m = cidrMatcher([])
  expect(m('127.0.0.1')).toBe(false)
  expect(m('::1')).toBe(false)
})

describe('rateLimitKey', () => {
  test('IPv4 addresses count alone; IPv6 addresses count by /64', () => {
    expect(rateLimitKey('192.0.2.7')).toBe('192.0.2.7')
    expect(rateLimitKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(rateLimitKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(rateLimitKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(rateLimitKey('2001:0db8:0001:0002::9'))
    expect(rateLimitKey('2001:db8:1:3::1')).not.toBe(rateLimitKey('2001:db8:1:2::1'))
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64')
  })
})
