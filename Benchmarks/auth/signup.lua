-- wrk: POST /signup with a new email on every request.
local counter = 0
local prefix
function setup(thread)
  thread:set("id", tostring(math.random(1, 1000000000)))
end
function init(args)
  prefix = id .. "-" .. tostring(os.time())
end
request = function()
  counter = counter + 1
  local body = string.format('{"firstName":"Bench","lastName":"User","emailId":"b%s-%d@example.com","password":"correct horse 1"}', prefix, counter)
  return wrk.format("POST", "/signup", { ["Content-Type"] = "application/json" }, body)
end
