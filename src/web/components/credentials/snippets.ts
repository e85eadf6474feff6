// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Client setup for a freshly minted credential, ready to paste. Every snippet uses path-style
 * addressing against the S3 endpoint URL, because Stowage cannot count on wildcard DNS for bucket
 * sub-domains (and `bucket.localhost` resolves nowhere). Snippets are code only; the words around
 * them live in the catalogue.
 */

export type SnippetClient = 'awscli' | 'awsprofile' | 'rclone' | 's3cmd' | 'restic' | 'boto3' | 'sdk'

export const SNIPPET_CLIENTS: readonly SnippetClient[] = ['awscli', 'awsprofile', 'rclone', 's3cmd', 'restic', 'boto3', 'sdk']

/** Stowage does not check the region in a signature, but every client needs one to sign with. */
export const REGION = 'us-east-1'

/** The profile the AWS CLI snippet configures, and the remote name of the rclone one. */
export const PROFILE = 'stowage'

export interface SnippetInput {
  endpoint: string
  accessKey: string
  secretKey: string
  /** A bucket of the scope (for a prefix-only key, a name inside the prefix). */
  bucket: string
}

/** POSIX shell single quotes: nothing inside is expanded. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/** Python string literal. */
function py(value: string): string {
  return JSON.stringify(value)
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

/**
 * A named profile in ~/.aws. AWS CLI 2.13 and later read `endpoint_url` from it; older ones (Debian
 * 12 ships 2.9) ignore it and go to AWS, so the command still names the endpoint.
 */
function awsprofile(i: SnippetInput): string {
  const set = (key: string, value: string): string => `aws configure set ${key} ${shellQuote(value)} --profile ${PROFILE}`
  return [
    set('aws_access_key_id', i.accessKey),
    set('aws_secret_access_key', i.secretKey),
    set('region', REGION),
    set('endpoint_url', i.endpoint),
    set('s3.addressing_style', 'path'),
    `aws --profile ${PROFILE} --endpoint-url ${shellQuote(i.endpoint)} s3 ls ${shellQuote(`s3://${i.bucket}/`)}`,
  ].join('\n')
}

function rclone(i: SnippetInput): string {
  return [
    `[${PROFILE}]`,
    'type = s3',
    'provider = Other',
    `access_key_id = ${i.accessKey}`,
    `secret_access_key = ${i.secretKey}`,
    `endpoint = ${i.endpoint}`,
    `region = ${REGION}`,
    'force_path_style = true',
    // Without it rclone tries to create the bucket before each upload, which only owner keys may.
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

/** restic asks for the repository's own password when RESTIC_PASSWORD is not set, which is the safer default. */
function restic(i: SnippetInput): string {
  return [
    `export AWS_ACCESS_KEY_ID=${shellQuote(i.accessKey)}`,
    `export AWS_SECRET_ACCESS_KEY=${shellQuote(i.secretKey)}`,
    `export AWS_DEFAULT_REGION=${REGION}`,
    `export RESTIC_REPOSITORY=${shellQuote(`s3:${i.endpoint}/${i.bucket}/restic`)}`,
    'restic -o s3.bucket-lookup=path init',
  ].join('\n')
}

/** SigV4 explicitly: boto3 presigns with SigV2 by default, which Stowage refuses. */
function boto3(i: SnippetInput): string {
  return [
    'import boto3',
    'from botocore.config import Config',
    '',
    's3 = boto3.client(',
    "    's3',",
    `    endpoint_url=${py(i.endpoint)},`,
    `    region_name=${py(REGION)},`,
    `    aws_access_key_id=${py(i.accessKey)},`,
    `    aws_secret_access_key=${py(i.secretKey)},`,
    "    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}),",
    ')',
    `for item in s3.list_objects_v2(Bucket=${py(i.bucket)}).get('Contents', []):`,
    "    print(item['Key'])",
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

const BUILDERS: Record<SnippetClient, (input: SnippetInput) => string> = { awscli, awsprofile, rclone, s3cmd, restic, boto3, sdk }

export function snippet(client: SnippetClient, input: SnippetInput): string {
  return BUILDERS[client](input)
}
