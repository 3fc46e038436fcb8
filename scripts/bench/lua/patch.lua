-- One-member PATCH on group opt.group, every request a real change. Each thread owns
-- opt.per ids of the pool file (opt.pool, ids not in the group): request c adds id c % per
-- on even passes (c / per) and removes it on odd ones. A connection has one request in
-- flight, so with opt.per well above the connections per thread the add of an id has been
-- answered long before the same thread removes it.
local mine = {}
local per

function init(args)
  common_init(args)
  headers["Content-Type"] = "application/scim+json"
  per = tonumber(opt.per)
  local pool = read_lines(opt.pool)
  local first = tonumber(opt.offset or "0") + tid * per
  for i = 1, per do mine[i] = pool[first + i] end
end

function request()
  local i = counter % per
  local pass = math.floor(counter / per)
  counter = counter + 1
  local op = (pass % 2 == 0) and "add" or "remove"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
    '"Operations":[{"op":"' .. op .. '","path":"members","value":[{"value":"' .. mine[i + 1] ..
    '"}]}]}'
  return wrk.format("PATCH", opt.base .. "/Groups/" .. opt.group, headers, body)
end
