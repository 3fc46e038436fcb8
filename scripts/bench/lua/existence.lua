-- Existence check as identity providers do before a create: GET /Users?filter=userName eq "…".
-- Half the names exist (user<n>@bench.example, n < users), half do not (n >= users).
-- opt.base: SCIM base path; opt.users: seeded user count.
local users

function init(args)
  common_init(args)
  users = tonumber(opt.users)
end

function request()
  counter = counter + 1
  local n = math.random(0, 2 * users - 1)
  local path = opt.base .. "/Users?filter=userName%20eq%20%22user" .. n .. "%40bench.example%22"
  return wrk.format("GET", path, headers)
end
