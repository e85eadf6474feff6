// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A body that breaks off is the client's doing (a paused or reloaded upload): it is reported as an
 * interrupted upload and never logged as a storage backend failure.
 */
import { expect, test } from 'bun:test'
import { BackendError } from '../../src/backends/backend.ts'
import { createLogger } from '../../src/lib/log.ts'
import { exactLength } from '../../src/objects/streams.ts'
import { storage } from '../../src/storage/errors.ts'

function recordingLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return { lines, logger: createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(line) }) }
}

/** A client body that sends some bytes and then fails, as a dropped connection does. */
function brokenBody(): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true
        controller.enqueue(new Uint8Array(10))
      } else controller.error(new Error('socket closed'))
    },
  })
}

/** What a driver does with the body: reads it, and fails as a backend error when it breaks. */
async function driverWrite(stream: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (const chunk of stream) void chunk
  } catch (err) {
    throw new BackendError('failed', 'put object failed', { cause: err })
  }
}

test('a body that breaks off is the problem the caller reports, and is not logged as a backend failure', async () => {
  const { lines, logger } = recordingLogger()
  const body = exactLength(brokenBody(), 100)
  const failure = await storage(driverWrite(body.stream), logger, { clientFault: () => body.problem() !== undefined }).catch((err: unknown) => err)
  expect(failure).toBeDefined()
  expect(body.problem()?.message).toBe('The upload was interrupted.')
  expect(lines.filter((line) => line.includes('storage backend failure'))).toEqual([])
})

test('a backend that fails on a whole body is still logged', async () => {
  const { lines, logger } = recordingLogger()
  const body = exactLength(new Blob([new Uint8Array(100)]).stream(), 100)
  const failing = async (): Promise<void> => {
    for await (const chunk of body.stream) void chunk
    throw new BackendError('failed', 'put object failed')
  }
  await storage(failing(), logger, { clientFault: () => body.problem() !== undefined }).catch(() => undefined)
  expect(body.problem()).toBeUndefined()
  expect(lines.filter((line) => line.includes('storage backend failure'))).toHaveLength(1)
})
