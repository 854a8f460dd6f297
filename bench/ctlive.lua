-- The native route's enrichment: what a Fluent Bit user writes instead of
-- the ctlive plugin, with Lua patterns (bench/native-*.conf). It finds the
-- function, the tenant, the contactID and its channel, the sessionID and
-- the event, roughly as the contract says; it is the comparison's
-- stand-in, not a second implementation of the contract.
local components = {
  REDIS=true, MONGODB=true, MONGO=true, DOMAIN=true, CT7PROTOCOL=true, HTTP=true, CTI=true,
  JWT=true, API=true, SOCKETIO=true, ERROR=true, WARN=true, WARNING=true, INFO=true,
  DEBUG=true, TRACE=true, FATAL=true, TEXT=true, IMAGE=true, LINK=true, MENU=true,
}
local events = {
  {"savetranscript", "saveTranscript"}, {"newcontact", "newContact"}, {"endcontact", "endContact"},
  {"joincontact", "joinContact"}, {"agentlogin", "agentLogin"}, {"login", "agentLogin"},
}

function ctlive(tag, ts, record)
  local body = record["body"]
  if body == nil then return 0, ts, record end
  local tokens = {}
  local rest = body
  while true do
    local tok, r = rest:match("^%[([^%]%s%[]+)%] ?(.*)$")
    if tok == nil then break end
    tokens[#tokens + 1] = tok
    rest = r
  end
  if #tokens > 0 then record["function"] = tokens[1] end
  for k = 2, #tokens do
    local t = tokens[k]
    if t:match("^[A-Z0-9_]+$") and t:match("[A-Z]") and not components[t] then
      record["tenant"] = t
      break
    end
  end
  local channel, tenant, id = body:match("(%u[%u%d]*)_([%u%d_]+)_(%x%x%x%x%x%x%x%x%-[%x%-]+)")
  if channel and channel ~= "USER" then
    record["contactID"] = channel .. "_" .. tenant .. "_" .. id
    record["channel"] = channel
    if record["tenant"] == nil then record["tenant"] = tenant end
  end
  local session = body:match("[Ss]ession[^%x]*(%x%x%x%x%x%x%x%x%-[%x%-]+)")
  if session then record["sessionID"] = session end
  local lower = body:lower()
  for _, e in ipairs(events) do
    if lower:find(e[1], 1, true) then record["event"] = e[2] break end
  end
  if body:find("Error:", 1, true) or body:find("Exception:", 1, true) then record["event"] = "exception" end
  record["message"] = rest
  record["level"] = (lower:find("error", 1, true) or lower:find("failed", 1, true)) and "error" or "info"
  return 1, ts, record
end
