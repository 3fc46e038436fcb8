/** /Groups: members load only when asked for; PATCH answers 204 (Entra's recommendation). */

import { isRequested } from '../../scim/projection.js'
import { scimGroupJson, toScimGroup } from '../../scim/resources.js'
import { GROUP_RESOURCE } from '../../scim/schema/resource-types.js'
import * as groups from '../../services/groups.js'
import { resourceRoutes } from './resource-routes.js'

export const groupRoutes = () =>
  resourceRoutes({
    resource: GROUP_RESOURCE,
    readOptions: (p) => ({ withMembers: isRequested(GROUP_RESOURCE, p, 'members') }),
    bodylessReadOptions: { withMembers: false },
    toWire: (view: groups.GroupView, baseUrl) => toScimGroup(view.record, baseUrl, view.members),
    toJson: (view: groups.GroupView, baseUrl) => scimGroupJson(view.record, baseUrl, view.members),
    create: groups.createGroup,
    get: groups.getGroup,
    replace: groups.replaceGroup,
    patch: groups.patchGroup,
    remove: groups.deleteGroup,
    list: groups.listGroups,
    patchAnswersNoContent: true,
  })
