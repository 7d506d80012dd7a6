-- runner.lua: runs each case of cases.lua natively (in the host built by
-- run.sh) and through redis-cli EVAL, and compares the replies as redis-cli
-- prints them (raw mode). MIT licence (the project's).
local cases_file, port, tmpdir, verbose = arg[1], arg[2], arg[3], arg[4] == "-v"

-- Helpers put in front of every snippet, on its first line (so error
-- positions stay "user_script:1:").
local PRELUDE = "local function hx(s) return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)) end " ..
  "local function unhx(h) return (string.gsub(h, '..', function(x) return string.char(tonumber(x, 16)) end)) end " ..
  "local function J(...) local t = {} for i = 1, select('#', ...) do local v = select(i, ...) " ..
  "if type(v) == 'string' then v = '\"' .. hx(v) .. '\"' end t[#t + 1] = tostring(v) end return table.concat(t, ',') end " ..
  "local function D(v) if type(v) ~= 'table' then return J(v) end local keys = {} for k in pairs(v) do keys[#keys + 1] = k end " ..
  "table.sort(keys, function(a, b) return tostring(a) < tostring(b) end) local t = {} " ..
  "for _, k in ipairs(keys) do t[#t + 1] = J(k) .. '=' .. D(v[k]) end return '{' .. table.concat(t, ';') .. '}' end "

-- A reply printed the way redis-cli --raw prints it.
local function reply_text(v)
  local t = type(v)
  if t == "string" then return v
  elseif t == "number" then
    local n = v >= 0 and math.floor(v) or math.ceil(v)
    return string.format("%.0f", n)
  elseif t == "boolean" then return v and "1" or ""
  elseif t == "table" then
    if type(v.err) == "string" then return v.err end
    if type(v.ok) == "string" then return v.ok end
    local out = {}
    local i = 1
    while v[i] ~= nil do out[#out + 1] = reply_text(v[i]); i = i + 1 end
    return table.concat(out, "\n")
  end
  return ""
end

local function native(code)
  local f, err = loadstring(code, "@user_script")
  if not f then return "ERR " .. err end
  local ok, res = pcall(f)
  if not ok then return "ERR " .. tostring(res) end
  return reply_text(res)
end

local function normalize(s)
  s = string.gsub(s, "%s+$", "")
  -- redis adds " script: <sha1>, on @user_script:<line>." to script errors
  s = string.gsub(s, " script: %x+, on @user_script:%d+%.$", "")
  return s
end

local function remote(code)
  local path = tmpdir .. "/snippet.lua"
  local f = assert(io.open(path, "wb"))
  f:write(code)
  f:close()
  local p = assert(io.popen('redis-cli -p ' .. port .. ' EVAL "$(cat ' .. path .. ')" 0 2>&1', "r"))
  local out = p:read("*a")
  p:close()
  return out
end

local cases = dofile(cases_file)
local pass, fail = 0, 0
for i, snippet in ipairs(cases) do
  local code = PRELUDE .. snippet
  local mine = normalize(native(code))
  local theirs = normalize(remote(code))
  if mine == theirs then
    pass = pass + 1
    if verbose then print("ok   " .. i .. ": " .. snippet .. "\n     -> " .. mine) end
  else
    fail = fail + 1
    print("FAIL " .. i .. ": " .. snippet)
    print("  native: " .. mine)
    print("  redis:  " .. theirs)
  end
end
print(string.format("%d passed, %d failed", pass, fail))
os.exit(fail == 0 and 0 or 1)
