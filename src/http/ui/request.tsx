/** What a page reads from its request: the signed-in frame, list parameters, the `?done=` notice. */
import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import { pageNumber, searchTerm } from './forms.js'
import { Notice } from './layout.js'
import type { UiEnv } from './security.js'

/** The page frame's session fields: the CSRF token of its forms and who is signed in. */
export function frame(c: Context<UiEnv>): { csrf: string; username: string } {
  return { csrf: c.get('session').csrfToken, username: c.get('session').user.username }
}

/** A list page's search term (`q`) and page number. */
export function listParams(c: Context<UiEnv>): { q: string; page: number } {
  return { q: searchTerm(c.req.query('q')), page: pageNumber(c.req.query('page')) }
}

/** The notice a change leaves on the page it returns to (`?done=`), from that page's messages. */
export function doneNotice(c: Context<UiEnv>, messages: Record<string, string>): Child {
  const done = messages[c.req.query('done') ?? '']
  return done ? <Notice>{done}</Notice> : null
}
