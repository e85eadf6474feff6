// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Helpers for browser tests of the object browser: objects written straight into the quickstart's
 * `local` disk backend (as files dropped into a NAS folder would be), the order the table shows,
 * and how long the page takes to paint after an action.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Page } from 'playwright-core'
import type { Stowage } from './browser.ts'

export type DiskObject = { key: string; bytes: Uint8Array; modified: Date }

/**
 * Writes objects as files of the bucket's directory, with the given modification times: far
 * quicker than thousands of uploads, and the only way to give objects chosen dates.
 */
export function writeDiskObjects(stowage: Stowage, bucket: string, objects: DiskObject[]): void {
  const root = join(stowage.run.dir, 'data', 'objects', bucket)
  for (const { key, bytes, modified } of objects) {
    const path = join(root, key)
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, bytes)
    utimesSync(path, modified, modified)
  }
}

/** The names of the rows on the page, top to bottom, as their checkboxes announce them. */
export async function rowNames(page: Page): Promise<string[]> {
  const labels = await page
    .getByRole('table', { name: 'Folders and objects' })
    .locator('tbody')
    .getByRole('checkbox')
    .evaluateAll((boxes) => boxes.map((box) => box.getAttribute('aria-label') ?? ''))
  return labels.map((label) => label.replace(/^Select /, ''))
}

/**
 * Milliseconds from clicking the column header's button until the browser has painted the next
 * frame: script, style, layout and paint of the change, without Playwright's own round trips.
 * The header is scrolled into view first, as it is for a person clicking it.
 */
export async function msToSort(page: Page, column: string): Promise<number> {
  return page.evaluate(async (label) => {
    const button = [...document.querySelectorAll<HTMLButtonElement>('th button')].find((b) => b.textContent?.trim() === label)
    if (!button) throw new Error(`no sort button ${label}`)
    const frame = (): Promise<unknown> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)))
    button.scrollIntoView({ block: 'center' })
    await frame()
    const started = performance.now()
    button.click()
    await frame()
    return Math.round(performance.now() - started)
  }, column)
}

/** Starts recording animation frames over 50 ms (the Long Animation Frames API); `longestFrame` reads and resets. */
export async function watchFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const record: number[] = []
    ;(window as unknown as { longFrames: number[] }).longFrames = record
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) record.push(entry.duration)
    }).observe({ type: 'long-animation-frame' })
  })
}

export async function longestFrame(page: Page): Promise<number> {
  return page.evaluate(() => {
    const record = (window as unknown as { longFrames: number[] }).longFrames
    const longest = Math.round(Math.max(0, ...record))
    record.length = 0
    return longest
  })
}
