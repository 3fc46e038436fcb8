-- The bare Hono app's tiny JSON: the ceiling of the stack. opt.path: the path to GET.
function init(args)
  common_init(args)
end

function request()
  counter = counter + 1
  return wrk.format("GET", opt.path, headers)
end
