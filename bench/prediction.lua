-- wrk script: POST /prediction with a different MNIST PNG on each request.
-- usage: wrk -s bench/prediction.lua <url> -- <png-dir> <count>
local boundary = "predictionapi-bench-boundary"
local bodies = {}
local next_body = 0

function init(args)
  local dir, count = args[1], tonumber(args[2])
  for i = 0, count - 1 do
    local name = string.format("%05d.png", i)
    local file = assert(io.open(dir .. "/" .. name, "rb"))
    local png = file:read("*a")
    file:close()
    bodies[#bodies + 1] = "--" .. boundary .. "\r\n"
      .. "Content-Disposition: form-data; name=\"file\"; filename=\"" .. name .. "\"\r\n"
      .. "Content-Type: image/png\r\n\r\n" .. png .. "\r\n--" .. boundary .. "--\r\n"
  end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/prediction",
    { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, bodies[next_body])
end
