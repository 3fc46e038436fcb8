/** Reading the UI's form fields and list parameters: trimmed text, checks, page numbers. */
import { isWellFormed } from '../../core/unicode.js'

export const PAGE_SIZE = 25

/** A field's text, trimmed; undefined when absent. */
export function text(body: Record<string, string>, name: string): string | undefined {
  const value = body[name]
  return value === undefined ? undefined : value.trim()
}

/** Why a text field is refused, or undefined when it is fine. */
export function textProblem(value: string | undefined, max: number): string | undefined {
  if (value === undefined || value === '') return 'This field may not be blank.'
  if (value.includes('\u0000')) return 'NUL characters are not allowed.'
  if (!isWellFormed(value)) return 'This text is not valid Unicode.'
  if ([...value].length > max) return `At most ${max} characters.`
  return undefined
}

/** A one-based page number from the query; anything but 1–100000 digits is page 1. */
export function pageNumber(raw: string | undefined): number {
  if (!raw || !/^[0-9]{1,6}$/.test(raw)) return 1
  return Math.max(1, Number(raw))
}

/** A search term from the query: trimmed, bounded, well-formed; else none. */
export function searchTerm(raw: string | undefined): string {
  const q = (raw ?? '').trim().slice(0, 200)
  return q.includes('\u0000') || !isWellFormed(q) ? '' : q
}
