// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Which preview an object gets: by its Content-Type, falling back to the file extension when the
 * type says nothing (application/octet-stream is common for uploads from other tools). The server
 * has the last word on what may show inline; SVG and HTML are never rendered, only shown as text.
 */

export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf' | 'text'

/** Text previews read the whole object, so only small ones get one. */
export const TEXT_PREVIEW_MAX = 256 * 1024

const EXTENSIONS: Record<string, PreviewKind> = {
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  avif: 'image',
  bmp: 'image',
  ico: 'image',
  mp4: 'video',
  m4v: 'video',
  webm: 'video',
  mov: 'video',
  ogv: 'video',
  mp3: 'audio',
  m4a: 'audio',
  wav: 'audio',
  ogg: 'audio',
  oga: 'audio',
  flac: 'audio',
  opus: 'audio',
  pdf: 'pdf',
  txt: 'text',
  md: 'text',
  markdown: 'text',
  csv: 'text',
  tsv: 'text',
  log: 'text',
  json: 'text',
  ndjson: 'text',
  yaml: 'text',
  yml: 'text',
  toml: 'text',
  ini: 'text',
  conf: 'text',
  cfg: 'text',
  env: 'text',
  xml: 'text',
  svg: 'text',
  html: 'text',
  htm: 'text',
  css: 'text',
  js: 'text',
  mjs: 'text',
  ts: 'text',
  py: 'text',
  go: 'text',
  rs: 'text',
  java: 'text',
  c: 'text',
  h: 'text',
  cpp: 'text',
  sh: 'text',
  sql: 'text',
  rb: 'text',
  php: 'text',
  svelte: 'text',
  vue: 'text',
  tf: 'text',
  properties: 'text',
}

const TEXT_TYPES = /^(text\/|application\/(json|ld\+json|x-ndjson|xml|yaml|x-yaml|toml|javascript|x-sh|sql|csv)\b)|\+(json|xml)\b|^image\/svg\+xml/

export function previewKind(contentType: string | undefined, key: string): PreviewKind | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (TEXT_TYPES.test(type)) return 'text'
  if (type === 'application/pdf') return 'pdf'
  if (type.startsWith('image/')) return 'image'
  if (type.startsWith('video/')) return 'video'
  if (type.startsWith('audio/')) return 'audio'
  if (type && type !== 'application/octet-stream' && type !== 'binary/octet-stream') return null
  const dot = key.lastIndexOf('.')
  return dot >= 0 ? (EXTENSIONS[key.slice(dot + 1).toLowerCase()] ?? null) : null
}
