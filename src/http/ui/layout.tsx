/** The admin UI's page frame and the small pieces every page shares (forms, pager, copy field). */

import { html } from 'hono/html'
import type { Child } from 'hono/jsx'
import { SCRIPT, STYLESHEET } from './assets.js'

/** Where the UI is served (authentik's path). */
export const UI_BASE = '/if/admin'

export type Section =
  | 'sources'
  | 'providers'
  | 'mappings'
  | 'users'
  | 'groups'
  | 'tokens'
  | 'events'
  | 'none'

const SECTIONS: Array<{ key: Section; label: string; href: string }> = [
  { key: 'sources', label: 'Sources', href: `${UI_BASE}/sources` },
  { key: 'providers', label: 'Providers', href: `${UI_BASE}/providers` },
  { key: 'mappings', label: 'Mappings', href: `${UI_BASE}/mappings` },
  { key: 'users', label: 'Users', href: `${UI_BASE}/users` },
  { key: 'groups', label: 'Groups', href: `${UI_BASE}/groups` },
  { key: 'tokens', label: 'Admin tokens', href: `${UI_BASE}/tokens` },
  { key: 'events', label: 'Events', href: `${UI_BASE}/events` },
]

export interface PageProps {
  title: string
  section: Section
  /** The session's CSRF token; absent on the sign-in page (no navigation, no sign-out). */
  csrf?: string | undefined
  username?: string | undefined
  crumbs?: Array<{ label: string; href?: string }>
  /** Buttons beside the page title. */
  actions?: Child
  /** A narrow centred column (the sign-in page). */
  narrow?: boolean
  children?: Child
}

/** A whole page: `<!doctype html>` and the frame around `children`. */
export function page(props: PageProps) {
  return html`<!doctype html>${<Frame {...props} />}`
}

function Frame(props: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · scimd</title>
        <link rel="stylesheet" href={`${UI_BASE}/static/${STYLESHEET.path}`} />
        <link rel="icon" href="data:," />
        <script src={`${UI_BASE}/static/${SCRIPT.path}`} defer />
      </head>
      <body>
        <a class="skip" href="#content">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={`${UI_BASE}/`}>
            scimd
          </a>
          {props.csrf !== undefined ? (
            <>
              <nav class="main" aria-label="Main">
                <ul>
                  {SECTIONS.map((s) => (
                    <li>
                      <a href={s.href} aria-current={s.key === props.section ? 'page' : undefined}>
                        {s.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <form method="post" action={`${UI_BASE}/sign-out`}>
                <Csrf token={props.csrf} />
                <span class="muted">{props.username} </span>
                <button type="submit">Sign out</button>
              </form>
            </>
          ) : null}
        </header>
        <main id="content" class={props.narrow ? 'narrow' : undefined}>
          {props.crumbs && props.crumbs.length > 0 ? (
            <p class="crumbs">
              {props.crumbs.map((c, i) => (
                <>
                  {i > 0 ? ' / ' : ''}
                  {c.href ? <a href={c.href}>{c.label}</a> : c.label}
                </>
              ))}
            </p>
          ) : null}
          <div class="title">
            <h1>{props.title}</h1>
            {props.actions}
          </div>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/** The hidden CSRF field every state-changing form carries. */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />
}

/** A one-button form that POSTs to `action` (an action, never a link: links must be safe). */
export function PostButton(props: {
  action: string
  csrf: string
  label: string
  variant?: 'primary' | 'danger'
  confirm?: string
  fields?: Record<string, string>
  /** The button's accessible name when `label` alone is ambiguous (a Remove on every row). */
  ariaLabel?: string
}) {
  return (
    <form class="inline" method="post" action={props.action} data-confirm={props.confirm}>
      <Csrf token={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.variant} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </form>
  )
}

/** A read-only value with a Copy button (shown only when the script runs). */
export function CopyField(props: { id: string; label: string; value: string; hint?: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <div class="copy">
        <input type="text" id={props.id} value={props.value} readonly spellcheck={false} />
        <button type="button" data-copy={props.id} hidden aria-label={`Copy ${props.label}`}>
          Copy
        </button>
      </div>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
    </div>
  )
}

/** A labelled text input with its error, if any. */
export function TextField(props: {
  name: string
  label: string
  value?: string | undefined
  error?: string | undefined
  hint?: string
  required?: boolean
  type?: 'text' | 'password' | 'url'
  autocomplete?: string
}) {
  const id = `f-${props.name}`
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ')
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        type={props.type ?? 'text'}
        id={id}
        name={props.name}
        value={props.value ?? ''}
        required={props.required}
        autocomplete={props.autocomplete ?? 'off'}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="error-text" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  )
}

/** A GET search form over a list; `q` is sent back as typed. */
export function SearchForm(props: { action: string; q: string; label: string }) {
  return (
    <form class="bar" method="get" action={props.action}>
      <label class="grow" for="q">
        <span class="skip">{props.label}</span>
        <input type="search" id="q" name="q" value={props.q} placeholder={props.label} />
      </label>
      <button type="submit">Search</button>
    </form>
  )
}

/** Previous / next links of a paged list; the query string keeps the search term. */
export function Pager(props: {
  base: string
  q: string
  page: number
  pageSize: number
  count: number
  shown: number
  extra?: Record<string, string>
}) {
  const pages = Math.max(1, Math.ceil(props.count / props.pageSize))
  const link = (n: number) => {
    const params = new URLSearchParams(props.extra)
    if (props.q) params.set('q', props.q)
    params.set('page', String(n))
    return `${props.base}?${params}`
  }
  const first = props.shown > 0 ? (props.page - 1) * props.pageSize + 1 : 0
  if (props.count === 0) return null
  return (
    <nav class="pager" aria-label="Pages">
      <span>
        {props.shown > 0
          ? `${first}–${first + props.shown - 1} of ${props.count}`
          : `0 of ${props.count}`}
      </span>
      {props.page > 1 ? (
        <a href={link(Math.min(props.page - 1, pages))} rel="prev">
          ← Previous
        </a>
      ) : null}
      {props.page < pages ? (
        <a href={link(props.page + 1)} rel="next">
          Next →
        </a>
      ) : null}
    </nav>
  )
}

/** A notice above a page's content (after an action). */
export function Notice(props: { kind?: 'warn' | 'error'; children?: Child }) {
  return (
    <div class={`notice ${props.kind ?? ''}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  )
}

/**
 * A page's form: a notice when `errors` has any (its `form` entry, or a request to correct the
 * fields, whose own errors show under each), the CSRF field, the fields, and Save.
 */
export function FormPanel(props: {
  action: string
  csrf: string
  errors?: Record<string, string | undefined>
  children: Child
}) {
  const { errors = {} } = props
  return (
    <form class="panel" method="post" action={props.action} novalidate>
      {Object.keys(errors).length > 0 ? (
        <Notice kind="error">{errors.form ?? 'Please correct the fields below.'}</Notice>
      ) : null}
      <Csrf token={props.csrf} />
      {props.children}
      <button type="submit" class="primary">
        Save
      </button>
    </form>
  )
}

/** A delete confirmation's buttons: delete (a POST to `<href>/delete`), or back to `href`. */
export function DeleteOrCancel(props: { href: string; csrf: string; label: string }) {
  return (
    <div class="actions">
      <PostButton
        action={`${props.href}/delete`}
        csrf={props.csrf}
        label={props.label}
        variant="danger"
      />
      <a class="button" href={props.href}>
        Cancel
      </a>
    </div>
  )
}

/** A list page's main action: the button to the form that creates one more. */
export function NewButton(props: { href: string; label: string }) {
  return (
    <a class="button primary" href={props.href}>
      {props.label}
    </a>
  )
}

/** "3 users: ada, bob and 1 more": how many, then the names of the first few listed. */
export function Counted(props: { count: number; noun: string; names: string[] }) {
  const { count, names } = props
  return (
    <>
      <strong>{count}</strong> {props.noun}
      {count === 1 ? '' : 's'}
      {count > 0 ? ': ' : ''}
      {names.join(', ')}
      {count > names.length ? ` and ${count - names.length} more` : ''}
    </>
  )
}

export function Badge(props: { on: boolean; yes: string; no: string }) {
  return <span class={`badge ${props.on ? 'ok' : 'off'}`}>{props.on ? props.yes : props.no}</span>
}

/** An instant as readable UTC text (the data's own zone; no guessing the browser's). */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—'
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
}
