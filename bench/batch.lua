-- wrk script: POST /predictions/batch with 64 MNIST PNGs per request.
-- usage: wrk -s batch.lua <url> -- <png-dir> <files-per-batch>
local boundary = "predictionapi-batch-boundary"
local body

function init(args)
  local dir, count = args[1], tonumber(args[2])
  local parts = {}
  for i = 0, count - 1 do
    local name = string.format("%05d.png", i)
    local file = assert(io.open(dir .. "/" .. name, "rb"))
    local png = file:read("*a")
    file:close()
    parts[#parts + 1] = "--" .. boundary .. "\r\n"
      .. "Content-Disposition: form-data; name=\"file\"; filename=\"" .. name .. "\"\r\n"
      .. "Content-Type: image/png\r\n\r\n" .. png .. "\r\n"
  end
  body = table.concat(parts) .. "--" .. boundary .. "--\r\n"
end

function request()
  return wrk.format("POST", "/predictions/batch", { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
end
