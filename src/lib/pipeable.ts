// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A body that can also write itself to a node:http response, with no web stream in between:
 * a promise and a queue per chunk cost measurably more CPU and latency than the bytes' own
 * copy (a 1 MiB download through the dashboard: ≈ 0.3 ms of CPU). Its source registers how,
 * on the stream it hands out; whoever sends the stream (`pump`) takes that way when nothing
 * has read the stream yet. The stream must not read ahead before its first read, so the
 * source still has every byte when the pipe is chosen.
 */
import type { Writable } from 'node:stream'

/** Writes the body to `out` with backpressure; resolves with the bytes written, also when `signal` aborts or `out` closes first. */
export type Pipe = (out: Writable, signal: AbortSignal) => Promise<number>

const pipes = new WeakMap<ReadableStream<Uint8Array>, Pipe>()

export function pipeable(stream: ReadableStream<Uint8Array>, pipe: Pipe): ReadableStream<Uint8Array> {
  pipes.set(stream, pipe)
  return stream
}

/** The stream's pipe, and it is then forgotten: undefined when it has none or something reads the stream. */
export function takePipe(stream: ReadableStream<Uint8Array>): Pipe | undefined {
  const pipe = pipes.get(stream)
  pipes.delete(stream)
  return stream.locked ? undefined : pipe
}
