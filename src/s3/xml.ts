// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A tiny reader and writer for the XML S3 speaks. minio's own parsers run
 * fast-xml-parser with number coercion on, which turns the key "007" into 7
 * and "1e3" into 1000, so every response body is read here instead.
 * S3 documents are plain: elements, text and entities; attributes and
 * namespaces are skipped.
 */

export type XmlElement = { name: string; children: XmlElement[]; text: string }

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/g
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function decodeEntities(s: string): string {
  return s.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, name: string | undefined) =>
    hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(parseInt(dec, 10)) : NAMED[name!]!,
  )
}

const TOKEN = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^>]*?)?)(\/?)>|([^<]+)/g

/** Parses a document and returns its root element. */
export function parseXml(doc: string): XmlElement {
  const root: XmlElement = { name: '', children: [], text: '' }
  const stack: XmlElement[] = [root]
  for (const m of doc.matchAll(TOKEN)) {
    const [, cdata, closing, rawName, , selfClosing, text] = m
    const top = stack[stack.length - 1]!
    if (cdata !== undefined) top.text += cdata
    else if (text !== undefined) top.text += decodeEntities(text)
    else if (rawName !== undefined) {
      const name = rawName.includes(':') ? rawName.slice(rawName.indexOf(':') + 1) : rawName
      if (closing) {
        if (stack.length > 1 && top.name === name) stack.pop()
        else throw new Error(`malformed XML: unexpected </${name}>`)
      } else {
        const el: XmlElement = { name, children: [], text: '' }
        top.children.push(el)
        if (!selfClosing) stack.push(el)
      }
    }
  }
  if (stack.length !== 1) throw new Error('malformed XML: unclosed element')
  const first = root.children[0]
  if (!first) throw new Error('malformed XML: no root element')
  return first
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name)
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : []
}

/** Text of the named child; undefined when the child is absent. */
export function textOf(el: XmlElement | undefined, name: string): string | undefined {
  return child(el, name)?.text
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`)
}

/** Characters XML 1.0 allows nowhere in a document, not even as character references; lone surrogates would not even encode. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * `escapeXml` for text that may hold anything, such as a key taken from a request URL: what
 * XML 1.0 forbids becomes U+FFFD, so every parser (expat, the SDKs') still reads the document.
 */
export function escapeXmlText(s: string): string {
  return escapeXml(s).replace(XML_FORBIDDEN, '\uFFFD')
}

/** `tag(name, inner)` with text content escaped by the caller via `escapeXml`. */
export function tag(name: string, inner: string | number): string {
  return `<${name}>${inner}</${name}>`
}
