/** /Users: users answer PATCH with 200 and the resource, which Entra and Okta read back. */

import { isRequested } from '../../scim/projection.js'
import { scimUserJson, toScimUser } from '../../scim/resources.js'
import { USER_RESOURCE } from '../../scim/schema/resource-types.js'
import * as users from '../../services/users.js'
import { resourceRoutes } from './resource-routes.js'

export const userRoutes = () =>
  resourceRoutes({
    resource: USER_RESOURCE,
    readOptions: (p) => ({ withGroups: isRequested(USER_RESOURCE, p, 'groups') }),
    bodylessReadOptions: { withGroups: false },
    toWire: (view: users.UserView, baseUrl) => toScimUser(view.record, baseUrl, view.groups),
    toJson: (view: users.UserView, baseUrl) => scimUserJson(view.record, baseUrl, view.groups),
    create: users.createUser,
    get: users.getUser,
    replace: users.replaceUser,
    patch: users.patchUser,
    remove: users.deleteUser,
    list: users.listUsers,
    patchAnswersNoContent: false,
  })
