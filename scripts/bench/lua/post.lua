-- POST /Users with a unique userName per request: post-<tag>-<thread>-<counter>@bench.example.
function init(args)
  common_init(args)
  headers["Content-Type"] = "application/scim+json"
end

function request()
  counter = counter + 1
  local name = "post-" .. opt.tag .. "-" .. tid .. "-" .. counter
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],' ..
    '"userName":"' .. name .. '@bench.example","externalId":"' .. name .. '",' ..
    '"name":{"givenName":"Post","familyName":"User ' .. counter .. '"},' ..
    '"displayName":"Post User ' .. counter .. '",' ..
    '"emails":[{"primary":true,"type":"work","value":"' .. name .. '@bench.example"}],' ..
    '"active":true}'
  return wrk.format("POST", opt.base .. "/Users", headers, body)
end
