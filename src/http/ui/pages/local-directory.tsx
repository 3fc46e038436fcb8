/**
 * Writing to the directory: create, edit and delete local users and groups, and add or remove
 * the members of a local group. What a source provisioned is refused with the service's 403.
 */
import { type Context, Hono } from 'hono'
import type { Child } from 'hono/jsx'
import type { DirectoryGroup, DirectoryUser } from '../../../core/domain.js'
import { FieldErrors } from '../../../core/field-errors.js'
import { ScimError } from '../../../scim/errors.js'
import * as browse from '../../../services/browse.js'
import * as directory from '../../../services/directory.js'
import * as local from '../../../services/local-directory.js'
import { text, textProblem } from '../forms.js'
import { Counted, DeleteOrCancel, FormPanel, Notice, page, TextField, UI_BASE } from '../layout.js'
import { frame } from '../request.js'
import { formBody, type UiEnv } from '../security.js'

const userHref = (pk: number, rest = '') => `${UI_BASE}/users/${pk}${rest}`
const groupHref = (id: string, rest = '') => `${UI_BASE}/groups/${encodeURIComponent(id)}${rest}`

const USER_TYPES = ['internal', 'external', 'service_account'] as const
type LocalUserType = (typeof USER_TYPES)[number]
const EMAIL = /^[^@\s]+@[^@\s]+$/

type Errors = Record<string, string>

/** Why an optional text field is refused (blank is fine), or undefined. */
function optionalProblem(value: string | undefined, max: number): string | undefined {
  return value === undefined || value === '' ? undefined : textProblem(value, max)
}

/** A service's field errors (a taken name) under the form's fields; others on the form. */
function serviceErrors(err: unknown, fields: readonly string[]): Errors | undefined {
  if (!(err instanceof FieldErrors)) return undefined
  const errors: Errors = {}
  for (const [field, messages] of Object.entries(err.fields)) {
    errors[fields.includes(field) ? field : 'form'] = messages.join(' ')
  }
  return errors
}

/**
 * A submitted form's outcome: its own errors re-render it (400); for an object a source
 * provisioned (`readOnly` gives the reason) that is a 403 whatever was typed, as the admin API
 * answers; otherwise `save` runs and the browser follows its redirect, or the service's field
 * errors re-render the form.
 */
async function saveForm(
  c: Context<UiEnv>,
  form: {
    errors: Errors
    fields: readonly string[]
    render: (errors: Errors) => Response | Promise<Response>
    readOnly?: () => Promise<string | undefined>
    save: () => Promise<string>
  },
): Promise<Response> {
  if (Object.keys(form.errors).length > 0) {
    const reason = await form.readOnly?.()
    if (reason) throw ScimError.forbidden(reason)
    return form.render(form.errors)
  }
  try {
    return c.redirect(await form.save(), 303)
  } catch (err) {
    const errors = serviceErrors(err, form.fields)
    if (errors) return form.render(errors)
    throw err
  }
}

/** The way to a local object's edit or delete page: Users or Groups › its name › `last`. */
function objectCrumbs(list: 'Users' | 'Groups', name: string, href: string, last: string) {
  return [
    { label: list, href: `${UI_BASE}/${list.toLowerCase()}` },
    { label: name, href },
    { label: last },
  ]
}

/** A page holding one form: its errors, the CSRF field, `fields`, and Save. */
function formPage(
  c: Context<UiEnv>,
  props: {
    title: string
    section: 'users' | 'groups'
    action: string
    errors: Errors
    crumbs: Array<{ label: string; href?: string }>
  },
  fields: Child,
) {
  const { title, section, crumbs } = props
  return page({
    title,
    section,
    ...frame(c),
    crumbs,
    children: (
      <FormPanel action={props.action} csrf={c.get('session').csrfToken} errors={props.errors}>
        {fields}
      </FormPanel>
    ),
  })
}

// ---- users ----------------------------------------------------------------------------------

const USER_FIELDS = ['username', 'name', 'email', 'path', 'type'] as const

interface UserForm {
  username?: string | undefined
  name?: string | undefined
  email?: string | undefined
  path?: string | undefined
  type: string
  isActive: boolean
}

function readUserForm(body: Record<string, string>): { form: UserForm; errors: Errors } {
  const form: UserForm = {
    username: text(body, 'username'),
    name: text(body, 'name'),
    email: text(body, 'email'),
    path: text(body, 'path'),
    type: body.type ?? 'internal',
    isActive: body.is_active === 'on',
  }
  const errors: Errors = {}
  const username = textProblem(form.username, 150)
  if (username) errors.username = username
  const name = optionalProblem(form.name, 300)
  if (name) errors.name = name
  const email = optionalProblem(form.email, 254)
  if (email) errors.email = email
  else if (form.email && !EMAIL.test(form.email)) errors.email = 'Enter a valid email address.'
  const path = optionalProblem(form.path, 200)
  if (path) errors.path = path
  if (!(USER_TYPES as readonly string[]).includes(form.type)) errors.type = 'Choose a user type.'
  return { form, errors }
}

function userInput(form: UserForm): local.UserInput {
  return {
    username: form.username,
    name: form.name ?? '',
    email: form.email ?? '',
    path: form.path || local.LOCAL_USER_PATH,
    type: form.type as LocalUserType,
    isActive: form.isActive,
  }
}

function userFormPage(
  c: Context<UiEnv>,
  title: string,
  action: string,
  form: UserForm,
  errors: Errors,
  crumbs: Array<{ label: string; href?: string }>,
) {
  return formPage(
    c,
    { title, section: 'users', action, errors, crumbs },
    <>
      <TextField
        name="username"
        label="Username"
        value={form.username}
        error={errors.username}
        required
      />
      <TextField name="name" label="Name" value={form.name} error={errors.name} />
      <TextField name="email" label="Email" value={form.email} error={errors.email} />
      <TextField
        name="path"
        label="Path"
        value={form.path}
        error={errors.path}
        hint={`Where the user sits in the directory; blank is "${local.LOCAL_USER_PATH}".`}
      />
      <div class="field">
        <label for="f-type">Type</label>
        <select
          id="f-type"
          name="type"
          aria-invalid={errors.type ? 'true' : undefined}
          aria-describedby={errors.type ? 'f-type-error' : undefined}
        >
          {USER_TYPES.map((t) => (
            <option value={t} selected={t === form.type}>
              {t}
            </option>
          ))}
        </select>
        {errors.type ? (
          <p class="error-text" id="f-type-error">
            {errors.type}
          </p>
        ) : null}
      </div>
      <div class="field">
        <label class="check">
          <input type="checkbox" name="is_active" checked={form.isActive} />
          Active
        </label>
      </div>
    </>,
  )
}

/** A local user's edit form. */
function editUserPage(c: Context<UiEnv>, user: DirectoryUser, form: UserForm, errors: Errors) {
  const title = `Edit ${user.username}`
  const crumbs = objectCrumbs('Users', user.username, userHref(user.pk), 'Edit')
  return userFormPage(c, title, userHref(user.pk, '/edit'), form, errors, crumbs)
}

// ---- groups ---------------------------------------------------------------------------------

const GROUP_FIELDS = ['name'] as const

interface GroupForm {
  name?: string | undefined
  isSuperuser: boolean
}

function readGroupForm(body: Record<string, string>): { form: GroupForm; errors: Errors } {
  const form: GroupForm = { name: text(body, 'name'), isSuperuser: body.is_superuser === 'on' }
  const errors: Errors = {}
  const name = textProblem(form.name, 150)
  if (name) errors.name = name
  return { form, errors }
}

function groupFormPage(
  c: Context<UiEnv>,
  title: string,
  action: string,
  form: GroupForm,
  errors: Errors,
  crumbs: Array<{ label: string; href?: string }>,
) {
  return formPage(
    c,
    { title, section: 'groups', action, errors, crumbs },
    <>
      <TextField name="name" label="Name" value={form.name} error={errors.name} required />
      <div class="field">
        <label class="check">
          <input type="checkbox" name="is_superuser" checked={form.isSuperuser} />
          Superuser group
        </label>
        <p class="hint">Its members are admins: their API tokens open the admin API and this UI.</p>
      </div>
    </>,
  )
}

function groupInput(form: GroupForm): local.GroupInput {
  return { name: form.name, isSuperuser: form.isSuperuser }
}

/** A local group's edit form. */
function editGroupPage(c: Context<UiEnv>, group: DirectoryGroup, form: GroupForm, errors: Errors) {
  const crumbs = objectCrumbs('Groups', group.name, groupHref(group.id), 'Edit')
  return groupFormPage(c, `Edit ${group.name}`, groupHref(group.id, '/edit'), form, errors, crumbs)
}

/** The user pk a member form names; anything else is no user (404). */
function memberPk(body: Record<string, string>): number {
  return directory.parseUserPk(body.user ?? '') ?? 0
}

/**
 * The confirmation before a local user or group is deleted: what goes with it (`children`, list
 * items; its copy at the providers always), then the delete button and a way back.
 */
function ConfirmDelete(props: {
  what: 'user' | 'group'
  name: string
  href: string
  csrf: string
  warning?: string | undefined
  children: unknown
}) {
  return (
    <div class="panel">
      <Notice kind="warn">This cannot be undone. Deleting the {props.what} deletes with it:</Notice>
      {props.warning ? <Notice kind="error">{props.warning}</Notice> : null}
      <ul class="plain">
        {props.children}
        <li>its copy in every provider's application (the providers delete it there)</li>
      </ul>
      <DeleteOrCancel href={props.href} csrf={props.csrf} label={`Delete ${props.name}`} />
    </div>
  )
}

export function localDirectoryPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  // ---- a local user -------------------------------------------------------------------------

  app.get('/users/:pk/edit', async (c) => {
    const deps = c.get('deps')
    const { user } = await directory.getUser(deps, c.req.param('pk'))
    const reason = await local.userReadOnlyReason(deps, String(user.pk))
    if (reason)
      return c.html(readOnlyPage(c, `Edit ${user.username}`, reason, userHref(user.pk)), 403)
    const form: UserForm = {
      username: user.username,
      name: user.name,
      email: user.email,
      path: user.path,
      type: user.type,
      isActive: user.isActive,
    }
    return c.html(editUserPage(c, user, form, {}))
  })

  app.post('/users/:pk/edit', async (c) => {
    const deps = c.get('deps')
    const { user } = await directory.getUser(deps, c.req.param('pk'))
    const { form, errors } = readUserForm(await formBody(c))
    return saveForm(c, {
      errors,
      fields: USER_FIELDS,
      render: (errs) => c.html(editUserPage(c, user, form, errs), 400),
      readOnly: () => local.userReadOnlyReason(deps, String(user.pk)),
      save: async () => {
        await local.updateUser(deps, String(user.pk), userInput(form))
        return userHref(user.pk, '?done=saved')
      },
    })
  })

  app.get('/users/:pk/delete', async (c) => {
    const deps = c.get('deps')
    const detail = await directory.getUser(deps, c.req.param('pk'))
    const { user } = detail
    const reason = await local.userReadOnlyReason(deps, String(user.pk))
    if (reason)
      return c.html(readOnlyPage(c, `Delete ${user.username}`, reason, userHref(user.pk)), 403)
    const csrf = c.get('session').csrfToken
    const isSelf = user.pk === c.get('session').user.pk
    return c.html(
      page({
        title: `Delete ${user.username}?`,
        section: 'users',
        ...frame(c),
        crumbs: objectCrumbs('Users', user.username, userHref(user.pk), 'Delete'),
        children: (
          <ConfirmDelete
            what="user"
            name={user.username}
            href={userHref(user.pk)}
            csrf={csrf}
            warning={
              isSelf
                ? 'This is the user you are signed in as: its tokens go with it, and this session ends.'
                : undefined
            }
          >
            <li>
              its membership of{' '}
              <Counted
                count={detail.groups.length}
                noun="group"
                names={detail.groups.map((g) => g.name)}
              />
            </li>
            <li>its API tokens, which stop working at once</li>
          </ConfirmDelete>
        ),
      }),
    )
  })

  app.post('/users/:pk/delete', async (c) => {
    await local.deleteUser(c.get('deps'), c.req.param('pk'))
    return c.redirect(`${UI_BASE}/users?done=user-deleted`, 303)
  })

  // ---- a local group ------------------------------------------------------------------------

  app.get('/groups/:id/edit', async (c) => {
    const deps = c.get('deps')
    const { group } = await directory.getGroup(deps, c.req.param('id'))
    const reason = await local.groupReadOnlyReason(deps, group.id)
    if (reason)
      return c.html(readOnlyPage(c, `Edit ${group.name}`, reason, groupHref(group.id)), 403)
    return c.html(editGroupPage(c, group, { name: group.name, isSuperuser: group.isSuperuser }, {}))
  })

  app.post('/groups/:id/edit', async (c) => {
    const deps = c.get('deps')
    const { group } = await directory.getGroup(deps, c.req.param('id'))
    const { form, errors } = readGroupForm(await formBody(c))
    return saveForm(c, {
      errors,
      fields: GROUP_FIELDS,
      render: (errs) => c.html(editGroupPage(c, group, form, errs), 400),
      readOnly: () => local.groupReadOnlyReason(deps, group.id),
      save: async () => {
        await local.updateGroup(deps, group.id, groupInput(form))
        return groupHref(group.id, '?done=saved')
      },
    })
  })

  app.get('/groups/:id/delete', async (c) => {
    const deps = c.get('deps')
    const detail = await directory.getGroup(deps, c.req.param('id'))
    const { group } = detail
    const reason = await local.groupReadOnlyReason(deps, group.id)
    if (reason)
      return c.html(readOnlyPage(c, `Delete ${group.name}`, reason, groupHref(group.id)), 403)
    const members = await browse.listGroupMembers(deps, group.id, { page: 1, pageSize: 10 })
    const csrf = c.get('session').csrfToken
    return c.html(
      page({
        title: `Delete ${group.name}?`,
        section: 'groups',
        ...frame(c),
        crumbs: objectCrumbs('Groups', group.name, groupHref(group.id), 'Delete'),
        children: (
          <ConfirmDelete what="group" name={group.name} href={groupHref(group.id)} csrf={csrf}>
            <li>
              the membership of{' '}
              <Counted
                count={members.count}
                noun="user"
                names={members.items.map((u) => u.username)}
              />{' '}
              (the users stay)
            </li>
            <li>
              its place in {detail.parents.length} parent group
              {detail.parents.length === 1 ? '' : 's'}, and {detail.children.length} group
              {detail.children.length === 1 ? '' : 's'} nested in it
            </li>
            {group.isSuperuser ? (
              <li>
                <strong>admin rights</strong> of its members (it is a superuser group)
              </li>
            ) : null}
          </ConfirmDelete>
        ),
      }),
    )
  })

  app.post('/groups/:id/delete', async (c) => {
    await local.deleteGroup(c.get('deps'), c.req.param('id'))
    return c.redirect(`${UI_BASE}/groups?done=group-deleted`, 303)
  })

  app.post('/groups/:id/members/add', async (c) => {
    const id = c.req.param('id')
    await local.changeGroupMember(c.get('deps'), id, memberPk(await formBody(c)), 'add')
    return c.redirect(groupHref(id, '?done=added'), 303)
  })

  app.post('/groups/:id/members/remove', async (c) => {
    const id = c.req.param('id')
    await local.changeGroupMember(c.get('deps'), id, memberPk(await formBody(c)), 'remove')
    return c.redirect(groupHref(id, '?done=removed'), 303)
  })

  return app
}

/** A form page for something a source provisioned: the reason instead of the form. */
function readOnlyPage(c: Context<UiEnv>, title: string, reason: string, back: string) {
  return page({
    title,
    section: 'none',
    ...frame(c),
    children: (
      <>
        <Notice kind="error">{reason}</Notice>
        <p>
          <a href={back}>Back</a>
        </p>
      </>
    ),
  })
}

/**
 * The forms that create a local user and a local group, at `/new/user` and `/new/group`: a
 * static segment beside `/users/:pk` would make Hono's RegExpRouter refuse the whole app.
 */
export function newUserPage(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()
  const crumbs = [{ label: 'Users', href: `${UI_BASE}/users` }, { label: 'New' }]
  const action = `${UI_BASE}/new/user`

  app.get('/', (c) =>
    c.html(userFormPage(c, 'New user', action, { type: 'internal', isActive: true }, {}, crumbs)),
  )

  app.post('/', async (c) => {
    const { form, errors } = readUserForm(await formBody(c))
    return saveForm(c, {
      errors,
      fields: USER_FIELDS,
      render: (errs) => c.html(userFormPage(c, 'New user', action, form, errs, crumbs), 400),
      save: async () => {
        const created = await local.createUser(c.get('deps'), userInput(form))
        return userHref(created.user.pk, '?done=created')
      },
    })
  })

  return app
}

export function newGroupPage(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()
  const crumbs = [{ label: 'Groups', href: `${UI_BASE}/groups` }, { label: 'New' }]
  const action = `${UI_BASE}/new/group`

  app.get('/', (c) =>
    c.html(groupFormPage(c, 'New group', action, { isSuperuser: false }, {}, crumbs)),
  )

  app.post('/', async (c) => {
    const { form, errors } = readGroupForm(await formBody(c))
    return saveForm(c, {
      errors,
      fields: GROUP_FIELDS,
      render: (errs) => c.html(groupFormPage(c, 'New group', action, form, errs, crumbs), 400),
      save: async () => {
        const created = await local.createGroup(c.get('deps'), groupInput(form))
        return groupHref(created.group.id, '?done=created')
      },
    })
  })

  return app
}
