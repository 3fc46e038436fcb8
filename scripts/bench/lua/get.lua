-- GET /Users/<id> over the seeded ids (one id a line in opt.ids), picked at random.
local ids

function init(args)
  common_init(args)
  ids = read_lines(opt.ids)
end

function request()
  counter = counter + 1
  return wrk.format("GET", opt.base .. "/Users/" .. ids[math.random(#ids)], headers)
end
