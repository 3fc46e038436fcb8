/**
 * Records read from the database keep their document as stored, JSON text, and parse it
 * the first time something reads `document`. A GET or a list page without `attributes`
 * answers with that text spliced into the response (scim/resources.ts), so most reads never
 * parse the document only to serialize it again: the two were a tenth of a GET's CPU time.
 *
 * The text is private to the record and forgotten once `document` is read, since whoever
 * reads it may change it; a copy (`{ ...record, document }`) does not carry it either. A
 * record is thus spliced from its stored text only while that text is exactly what
 * `document` would parse to, and rendered from its document otherwise.
 *
 * `document` lives on the prototype: a copy of a record must name it, as writtenRecord
 * (services/resource-common.ts), which the user and group writes use, does.
 */
import type { ScimDocument } from './domain.js'

export abstract class StoredDocument {
  #json: string | undefined
  #document: ScimDocument | undefined

  constructor(json: string) {
    this.#json = json
  }

  get document(): ScimDocument {
    if (this.#document === undefined) {
      this.#document = JSON.parse(this.#json as string) as ScimDocument
      this.#json = undefined
    }
    return this.#document
  }

  set document(value: ScimDocument) {
    this.#document = value
    this.#json = undefined
  }

  /** The document as the database stored it, while nothing has read `document`. */
  get storedJson(): string | undefined {
    return this.#json
  }
}

/** The stored JSON text of a record's document, if it has it (see StoredDocument). */
export function storedDocumentJson(record: object): string | undefined {
  return record instanceof StoredDocument ? record.storedJson : undefined
}
