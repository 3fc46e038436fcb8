-- A page of opt.count users at a random startIndex in [opt.from, opt.to]: the deep page or the
-- list page (scimd), the OFFSET baseline (bare app) or the reference, depending on opt.path.
local from, to

function init(args)
  common_init(args)
  from = tonumber(opt.from)
  to = tonumber(opt.to)
end

function request()
  counter = counter + 1
  local path = opt.path .. "?startIndex=" .. math.random(from, to) .. "&count=" .. opt.count
  return wrk.format("GET", path, headers)
end
