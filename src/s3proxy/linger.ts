// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What becomes of an upload's body when the answer goes out before the body
 * was read (a refusal: 403, 501, 507, a bad digest midway).
 *
 * Closing the socket at once loses the answer for clients that send the whole
 * body before they read anything — Python's http.client, under boto3, s3cmd
 * and requests: the kernel resets a connection closed with unread data, and
 * the client sees EPIPE or a reset instead of the XML error. So, as nginx
 * does, the body is read and discarded after the answer, within bounds: a
 * client still sending after LINGER_BYTES, or idle for LINGER_IDLE_MS, or not
 * done after LINGER_MAX_MS, is cut off. A body drained to its end leaves the
 * connection usable for the next request. 32 MiB covers one part of every
 * common client (aws-cli 8 MiB, s3cmd 15 MiB, rclone 5 MiB) with room to spare.
 *
 * A client that sent `Expect: 100-continue` and got no 100 sends no body;
 * its connection is closed with the answer instead (`connection: close`).
 */
import type { IncomingMessage } from 'node:http'

const LINGER_BYTES = 32 * 1024 * 1024
const LINGER_IDLE_MS = 5_000
const LINGER_MAX_MS = 30_000

/** True when the client waits for 100 Continue before sending its body. */
export function expectsContinue(req: IncomingMessage): boolean {
  return req.headers.expect?.toLowerCase() === '100-continue'
}

/** Reads and discards what is left of `req`'s body, cutting the connection off past the bounds. */
export function linger(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return
  let read = 0
  const cut = (): void => {
    done()
    req.socket.destroy()
  }
  let idle = setTimeout(cut, LINGER_IDLE_MS)
  const deadline = setTimeout(cut, LINGER_MAX_MS)
  const onData = (chunk: Buffer): void => {
    read += chunk.length
    if (read > LINGER_BYTES) return cut()
    clearTimeout(idle)
    idle = setTimeout(cut, LINGER_IDLE_MS)
  }
  function done(): void {
    clearTimeout(idle)
    clearTimeout(deadline)
    req.off('data', onData)
    req.off('end', done)
    req.off('error', done)
    req.off('close', done)
  }
  req.on('data', onData)
  req.once('end', done)
  req.once('error', done)
  req.once('close', done)
  req.resume()
}
