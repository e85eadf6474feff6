// SPDX-License-Identifier: AGPL-3.0-or-later
/** Reading the proxy's S3 XML answers in tests. */
import { parseXml, textOf, children, type XmlElement } from '../../src/s3/xml.ts'

export type S3ErrorDoc = { code: string; message: string; resource: string; requestId: string; doc: XmlElement }

export async function s3Error(res: Response): Promise<S3ErrorDoc> {
  const text = await res.text()
  let doc: XmlElement
  try {
    doc = parseXml(text)
  } catch {
    throw new Error(`not XML (${res.status}): ${text.slice(0, 200)}`)
  }
  if (doc.name !== 'Error') throw new Error(`not an S3 error (${res.status}): ${text.slice(0, 200)}`)
  return {
    code: textOf(doc, 'Code') ?? '',
    message: textOf(doc, 'Message') ?? '',
    resource: textOf(doc, 'Resource') ?? '',
    requestId: textOf(doc, 'RequestId') ?? '',
    doc,
  }
}

export async function xml(res: Response): Promise<XmlElement> {
  return parseXml(await res.text())
}

export { children, textOf }
