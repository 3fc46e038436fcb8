/** /api/v3/core/tokens/: view_key and set_key (authentik-compatible). */
import { Hono } from 'hono'
import * as z from 'zod'
import type { AppEnv } from '../../http/env.js'
import * as tokens from '../../services/tokens.js'
import { readAdminBody, validate } from './sources.js'

const SetKeySchema = z.strictObject({
  key: z.string().min(16, 'Ensure this field has at least 16 characters.'),
})

export function tokenRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.get('/:identifier/view_key', async (c) => {
    const key = await tokens.viewKey(c.var.deps, c.req.param('identifier'))
    c.var.deps.logger.info('secret_view', {
      identifier: c.req.param('identifier'),
      by: c.var.adminUser.username,
    })
    return c.json({ key })
  })

  app.post('/:identifier/set_key', async (c) => {
    const { key } = validate(SetKeySchema, await readAdminBody(c))
    await tokens.setKey(c.var.deps, c.req.param('identifier'), key)
    return c.body(null, 204)
  })

  return app
}
