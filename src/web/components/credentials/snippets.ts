// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Client setup for a freshly minted credential, ready to paste. Every snippet uses path-style
 * addressing against the proxy's endpoint URL, because the proxy cannot count on wildcard DNS for
 * bucket sub-domains. Snippets are code only; the words around them live in the catalogue.
 */

export type SnippetClient = 'awscli' | 'rclone' | 's3cmd' | 'sdk'

export const SNIPPET_CLIENTS: readonly SnippetClient[] = ['awscli', 'rclone', 's3cmd', 'sdk']

/** The proxy does not check the region in a signature, but every client needs one to sign with. */
export const REGION = 'us-east-1'

export interface SnippetInput {
  endpoint: string
  accessKey: string
  secretKey: string
  bucket: string
}

/** POSIX shell single quotes: nothing inside is expanded. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/** The environment variables scope the key to this shell, so no `aws configure` profile is touched. */
function awscli(i: SnippetInput): string {
  return [
    `export AWS_ACCESS_KEY_ID=${shellQuote(i.accessKey)}`,
    `export AWS_SECRET_ACCESS_KEY=${shellQuote(i.secretKey)}`,
    `export AWS_DEFAULT_REGION=${REGION}`,
    `aws --endpoint-url ${shellQuote(i.endpoint)} s3 ls ${shellQuote(`s3://${i.bucket}/`)}`,
  ].join('\n')
}

function rclone(i: SnippetInput): string {
  return [
    '[stowage]',
    'type = s3',
    'provider = Other',
    `access_key_id = ${i.accessKey}`,
    `secret_access_key = ${i.secretKey}`,
    `endpoint = ${i.endpoint}`,
    `region = ${REGION}`,
    'force_path_style = true',
    // A virtual credential may not create buckets; without this rclone tries before each upload.
    'no_check_bucket = true',
  ].join('\n')
}

/** s3cmd wants host and port without the scheme, and the bucket host equal to it for path-style. */
function s3cmd(i: SnippetInput): string {
  const url = new URL(i.endpoint)
  return [
    '[default]',
    `access_key = ${i.accessKey}`,
    `secret_key = ${i.secretKey}`,
    `host_base = ${url.host}`,
    `host_bucket = ${url.host}`,
    `use_https = ${url.protocol === 'https:' ? 'True' : 'False'}`,
    `bucket_location = ${REGION}`,
    'signature_v2 = False',
  ].join('\n')
}

function sdk(i: SnippetInput): string {
  return [
    "import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'",
    '',
    'const s3 = new S3Client({',
    `  endpoint: ${JSON.stringify(i.endpoint)},`,
    `  region: ${JSON.stringify(REGION)},`,
    '  forcePathStyle: true,',
    `  credentials: { accessKeyId: ${JSON.stringify(i.accessKey)}, secretAccessKey: ${JSON.stringify(i.secretKey)} },`,
    '})',
    '',
    `const listing = await s3.send(new ListObjectsV2Command({ Bucket: ${JSON.stringify(i.bucket)} }))`,
  ].join('\n')
}

const BUILDERS: Record<SnippetClient, (input: SnippetInput) => string> = { awscli, rclone, s3cmd, sdk }

export function snippet(client: SnippetClient, input: SnippetInput): string {
  return BUILDERS[client](input)
}
