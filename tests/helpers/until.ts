// SPDX-License-Identifier: AGPL-3.0-or-later
/** Waits until `check` holds, polling every 10 ms; throws after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await Bun.sleep(10)
  }
}
