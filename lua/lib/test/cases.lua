-- cases.lua: Lua snippets for run.sh; each is run natively and by redis-server
-- (EVAL), and their replies must be equal. Helpers available in every
-- snippet (see runner.lua): hx(s) hex-encodes, unhx(h) decodes hex, J(...)
-- joins values (strings hex-quoted), D(v) dumps a value or table (sorted keys).
-- MIT licence (the project's).
local C = {}
local function add(s) C[#C + 1] = s end

------------------------------------------------------------------ bit
local nums = { "0", "1", "-1", "0.5", "1.5", "2.5", "-0.5", "-1.5", "-2.5", "3.7", "-3.7",
  "2^31", "2^31-1", "-2^31", "-2^31-1", "2^32", "2^32+1", "2^32-1", "-2^32", "2^33+5",
  "2^40+123", "-2^40-123", "2^51", "2^51+0.5", "2^52", "2^52+1", "2^53", "2^53+2", "2^60+5",
  "2^63", "-2^63", "2^64", "1e300", "-1e300", "1/0", "-1/0", "0/0", "4294967295.5",
  "'0x10'", "'  12  '", "'1e3'", "0x7fffffff", "0xdeadbeef", "1234567.891" }
for _, n in ipairs(nums) do
  add("return J(bit.tobit(" .. n .. "))")
  add("return J(bit.bnot(" .. n .. "))")
  add("return J(bit.tohex(" .. n .. "))")
end
for _, n in ipairs({ "0", "1", "2", "7", "8", "9", "16", "-1", "-4", "-8", "-9", "-2^31", "2^31", "2^32+3", "0.5", "-0.5", "1.5" }) do
  add("return J(bit.tohex(0x12345678, " .. n .. "), bit.tohex(-1, " .. n .. "), bit.tohex(0xabc, " .. n .. "))")
end
add("return J(bit.tohex(-2))")
add("return J(bit.tohex(2^31), bit.tohex(-2^31, -8))")
for _, f in ipairs({ "band", "bor", "bxor" }) do
  add("return J(bit." .. f .. "(0xf0f0f0f0))")
  add("return J(bit." .. f .. "(0xf0f0f0f0, 0x0ff00ff0))")
  add("return J(bit." .. f .. "(0xf0f0f0f0, 0x0ff00ff0, 0x12345678, -1, 2^32+7))")
  add("return J(bit." .. f .. "(1, 2, 4, 8, 16, 32, 64, 128, 256, 0.5, 1.5, -3))")
  add("return J(bit." .. f .. "())")
  add("return J(bit." .. f .. "(1, 'x'))")
  add("return J(bit." .. f .. "(1, 'x', {}))")
  add("return J(bit." .. f .. "(1, nil, 2))")
  add("return J(bit." .. f .. "('3', '5'))")
end
for _, f in ipairs({ "lshift", "rshift", "arshift", "rol", "ror" }) do
  for _, v in ipairs({ "1", "-1", "0x80000001", "0x12345678", "-0x12345678", "2^32+3" }) do
    for _, n in ipairs({ "0", "1", "4", "31", "32", "33", "63", "-1", "-31", "-32", "1.5", "2^32+4" }) do
      add("return J(bit." .. f .. "(" .. v .. ", " .. n .. "))")
    end
  end
  add("return J(bit." .. f .. "(1))")
  add("return J(bit." .. f .. "('a', 1))")
  add("return J(bit." .. f .. "(1, true))")
end
for _, v in ipairs({ "0", "1", "0x12345678", "-1", "0x80000000", "0xff", "2^32+0x1234", "-0x12345678" }) do
  add("return J(bit.bswap(" .. v .. "))")
end
add("return J(bit.tobit())")
add("return J(bit.tobit('x'))")
add("return J(bit.tobit({}))")
add("return J(bit.tobit(nil))")
add("return J(bit.bnot(true))")
add("return J(bit.tohex('z'))")
add("return J(bit.tohex(1, 'z'))")
add("return J(bit.bswap(function() end))")
add("return J(pcall(bit.tobit, 'x'))")
add("local ok, e = pcall(bit.band, 1, {}) return e")
add("local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return table.concat(t, ',')")
add("return J(bit.tobit(bit.lshift(1, 31) + bit.lshift(1, 31)))")
add("return J(bit.band(bit.bor(0x0f, 0xf0), bit.bxor(0xff, 0x3c)))")

------------------------------------------------------------------ struct
local ints = { "0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "32767", "32768",
  "-32768", "-32769", "65535", "65536", "2^31-1", "2^31", "-2^31", "2^32-1", "2^32",
  "2^53", "-2^53", "2^63", "-2^63", "2^64", "2^65+2^63", "-2^70", "1.9", "-1.9", "2.5",
  "0/0", "1/0", "-1/0", "'42'" }
for _, fmt in ipairs({ "b", "B", "h", "H", "i", "I", "l", "L", "T", "i1", "I2", "i3", "I3", "i5",
  "I7", "i8", "I8", "i9", "I12", "i16", "I32", "i0" }) do
  for _, e in ipairs({ "<", ">" }) do
    for _, n in ipairs(ints) do
      add("return hx(struct.pack('" .. e .. fmt .. "', " .. n .. "))")
    end
  end
end
-- unpack of every integer format from fixed bytes, both endiannesses
local blobs = { "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "80000000000000000000000000000000000000000000000000000000000000ff",
  "7f0000000000000000000000000000000000000000000000000000000000ff80",
  "0100000000000000800000000000000000000000000000000000000000000000" }
for _, fmt in ipairs({ "b", "B", "h", "H", "i", "I", "l", "L", "T", "i1", "I1", "i2", "i3", "I3",
  "i5", "I5", "i6", "i7", "I7", "i8", "I8", "i9", "I9", "i12", "I12", "i16", "I16", "i24", "i32", "I32", "i0" }) do
  for _, e in ipairs({ "<", ">" }) do
    for _, b in ipairs(blobs) do
      add("return J(struct.unpack('" .. e .. fmt .. "', unhx('" .. b .. "')))")
    end
  end
end
for _, n in ipairs({ "0", "1", "-1", "0.1", "1.5", "-2.25", "3.14159", "1e38", "1e39", "-1e39", "1e-40",
  "1e-50", "1/0", "-1/0", "0/0", "2^24+1", "16777217", "1e308", "5e-324", "-0" }) do
  for _, e in ipairs({ "<", ">", "" }) do
    add("return hx(struct.pack('" .. e .. "f', " .. n .. "))")
    add("return hx(struct.pack('" .. e .. "d', " .. n .. "))")
    add("return J(struct.unpack('" .. e .. "f', struct.pack('" .. e .. "f', " .. n .. ")))")
    add("return J(struct.unpack('" .. e .. "d', struct.pack('" .. e .. "d', " .. n .. ")))")
  end
end
add("return J(struct.unpack('<f', unhx('0000c07f')))")
add("return J(struct.unpack('>d', unhx('7ff0000000000001')))")
-- strings
add("return hx(struct.pack('s', 'hello'))")
add("return hx(struct.pack('s', ''))")
add("return hx(struct.pack('s', 'a\\0b'))")
add("return hx(struct.pack('ss', 'a', 'bc'))")
add("return hx(struct.pack('s', 12.5))")
add("return hx(struct.pack('c0', 'hello'))")
add("return hx(struct.pack('c0', ''))")
add("return hx(struct.pack('c', 'hello'))")
add("return hx(struct.pack('c3', 'hello'))")
add("return hx(struct.pack('c5', 'hello'))")
add("return hx(struct.pack('c6', 'hello'))")
add("return hx(struct.pack('c2c0c1', 'ab', 'cde', 'f'))")
add("return hx(struct.pack('c2', 42))")
add("return hx(struct.pack('s', {}))")
add("return hx(struct.pack('c0'))")
add("return hx(struct.pack('s'))")
add("return hx(struct.pack('ss', 'ab'))")
add("return hx(struct.pack('i'))")
add("return hx(struct.pack('ii', 1))")
add("return hx(struct.pack('d', 'x'))")
add("return hx(struct.pack('f', nil))")
add("return hx(struct.pack('i', '0x10'))")
add("return J(struct.unpack('s', 'hello\\0world\\0'))")
add("return J(struct.unpack('ss', 'hello\\0world\\0'))")
add("return J(struct.unpack('sss', 'hello\\0world\\0'))")
add("return J(struct.unpack('s', 'abc'))")
add("return J(struct.unpack('s', ''))")
add("return J(struct.unpack('s', '\\0'))")
add("return J(struct.unpack('c3', 'hello'))")
add("return J(struct.unpack('c5', 'hello'))")
add("return J(struct.unpack('c6', 'hello'))")
add("return J(struct.unpack('c', 'hello'))")
add("return J(struct.unpack('c0', 'hello'))")
add("return J(struct.unpack('c0', '3'))")
add("return J(struct.unpack('bc0', unhx('03616263')))")
add("return J(struct.unpack('bc0', unhx('0461626364') .. 'xyz'))")
add("return J(struct.unpack('bc0', unhx('05616263')))")
add("return J(struct.unpack('bc0', unhx('ff616263')))")
add("return J(struct.unpack('bc0', unhx('00616263')))")
add("return J(struct.unpack('<bc0b', unhx('0261626305')))")
add("return J(struct.unpack('>Hc0', unhx('0003616263')))")
add("return J(struct.unpack('<i2c0s', unhx('02004142') .. 'zz\\0'))")
add("return J(struct.unpack('sc0', 'ab\\0cd'))")
add("return J(struct.unpack('dc0', struct.pack('d', 2.5) .. 'abc'))")
add("return J(struct.unpack('dc0', struct.pack('d', -1) .. 'abc'))")
-- padding, alignment
add("return hx(struct.pack('xbx', 1))")
add("return hx(struct.pack('x'))")
add("return J(struct.unpack('xbx', unhx('000100')))")
add("return J(struct.unpack('xxxx', 'abcd'))")
add("return J(struct.unpack('xxxxx', 'abcd'))")
for _, f in ipairs({ "!bi", "!2bi", "!4bi", "!8bd", "!16bd", "!1bi", "!bh", "!4bhbibdbf", "!8bhbibdbfbl", "!4bc3i", "!4bxi",
  "!4bsi", "!2bd", "!4bi3", "!4bI8", "!8bi16", "!4b!1i", "!8bl!2d", "<!4bi", ">!4bi", "!4 b i", "bi!4" }) do
  add("return hx(struct.pack('" .. f .. "', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))")
end
add("return hx(struct.pack('!4bsi', 1, 'ab', 3))")
add("return hx(struct.pack('!4bc3i', 1, 'abc', 3))")
add("return J(struct.unpack('!4bi', struct.pack('!4bi', -5, 77)))")
add("return J(struct.unpack('!8bd', struct.pack('!8bd', 3, 0.25)))")
add("return J(struct.unpack('!4bhbibdbf', struct.pack('!4bhbibdbf', 1, 2, 3, 4, 5, 6, 7, 8)))")
add("return J(struct.unpack('!4bsi', struct.pack('!4bsi', 1, 'ab', 3)))")
add("return hx(struct.pack('!3i', 1))")
add("return hx(struct.pack('!0i', 1))")
add("return hx(struct.pack('!6i', 1))")
add("return hx(struct.pack('!64bd', 1, 2))")
add("return hx(struct.pack('!99999999999', 1))")
add("return J(struct.unpack('!3i', 'abcd'))")
-- endianness, spaces, mixed
add("return hx(struct.pack('>i<i', 1, 1))")
add("return hx(struct.pack('< i > i', 1, 1))")
add("return hx(struct.pack('>hHlL', -2, 65534, -3, 2^40))")
add("return hx(struct.pack('<bBhHiIlLfd', -1, 255, -2, 65535, -3, 2^32-1, -4, 2^63, 1.5, -2.5))")
add("return J(struct.unpack('<bBhHiIlLfd', struct.pack('<bBhHiIlLfd', -1, 255, -2, 65535, -3, 2^32-1, -4, 2^53, 1.5, -2.5)))")
add("return J(struct.unpack('>bBhHiIlLfd', struct.pack('>bBhHiIlLfd', -1, 255, -2, 65535, -3, 2^32-1, -4, 2^53, 1.5, -2.5)))")
add("return hx(struct.pack('', 1, 2))")
add("return J(struct.unpack('', 'abc'))")
add("return J(struct.unpack('', 'abc', 3))")
add("return J(struct.unpack('', 'abc', 4))")
add("return J(struct.unpack('', 'abc', 5))")
add("return J(struct.unpack('', ''))")
add("return J(struct.unpack(' ', 'abc', 9))")
add("return J(struct.unpack('<', 'abc', 9))")
-- unpack offsets
for _, o in ipairs({ "1", "2", "3", "4", "5", "0", "-1", "1.9", "2.5", "2^32+1", "-2^32", "0/0", "1/0", "'2'", "'x'", "nil", "{}" }) do
  add("return J(struct.unpack('>I2', 'abcd', " .. o .. "))")
end
add("return J(struct.unpack('>I2I2', 'abcdef', 2))")
add("return J(struct.unpack('b', 'abc', 3))")
add("return J(struct.unpack('b', 'abc', 4))")
-- too short, bad options, sizes
add("return J(struct.unpack('i', 'abc'))")
add("return J(struct.unpack('d', 'abcdefg'))")
add("return J(struct.unpack('f', 'abc'))")
add("return J(struct.unpack('bi', 'abcd'))")
add("return J(struct.unpack('i32', string.rep('a', 31)))")
add("return J(struct.unpack('c5', 'abcd'))")
add("return J(struct.unpack('x', ''))")
add("return J(struct.unpack('i4c0', unhx('05000000') .. 'abc'))")
add("return J(struct.unpack('b'))")
add("return J(struct.unpack('b', 1))")
add("return J(struct.unpack('b', 12))")
add("return J(struct.unpack())")
add("return J(struct.unpack({}, 'a'))")
add("return J(struct.unpack('y', 'abc'))")
add("return J(struct.unpack('=b', 'abc'))")
add("return J(struct.unpack('i33', string.rep('a', 40)))")
add("return J(struct.unpack('c99999999999', 'a'))")
for _, f in ipairs({ "y", "=", "=i", "i=", "?", "#", "z", "1", "@", "%", "i33", "I40", "i2147483648",
  "c2147483648", "c99999999999", "!3", "!0", "!5" }) do
  add("return hx(struct.pack('" .. f .. "', 1))")
end
add("return hx(struct.pack())")
add("return hx(struct.pack(1))")
add("return hx(struct.pack(12, 1))")
add("return hx(struct.pack({}))")
add("return hx(struct.pack(nil))")
for _, f in ipairs({ "", "b", "B", "h", "H", "i", "I", "l", "L", "T", "f", "d", "x", "c", "c0", "c10", "s",
  "i3", "I7", "i32", "i33", "bi", "!bi", "!2bi", "!4bd", "!8bd", "!bhbibdbf", "<bi", ">bi", " b i ", "x!8d",
  "b!d", "!16!32bd", "bxhxi", "y", "=", "i=", "!3", "!", "c2147483647", "c2147483648",
  "c2000000000c2000000000c2000000000", "bs", "bc0", "i0", "I0" }) do
  add("return J(struct.size('" .. f .. "'))")
end
add("return J(struct.size())")
add("return J(struct.size(5))")
add("return J(struct.size('i', 1))")
add("local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return table.concat(t, ',')")
add("return J(pcall(struct.pack, 'q'))")
add("return J(pcall(struct.unpack, 'i', 'ab'))")

------------------------------------------------------------------ cmsgpack
local vals = { "nil", "true", "false", "0", "1", "-1", "127", "128", "-32", "-33", "-128", "-129",
  "255", "256", "-255", "-256", "32767", "32768", "-32768", "-32769", "65535", "65536",
  "2^31-1", "2^31", "-2^31", "-2^31-1", "2^32-1", "2^32", "-2^32", "2^53", "2^53+1", "-2^53",
  "2^62", "2^63-1024", "2^63", "-2^63", "-2^63-2048", "2^64", "-2^64", "1e300", "0.5", "-0.5", "1.1",
  "-1.1", "0.1", "3.14", "1e38", "1e39", "1e-45", "2^24+1", "16777217.5", "1/0", "-1/0", "0/0", "-(0/0)", "-0", "1/3",
  "''", "'a'", "string.rep('x', 31)", "string.rep('x', 32)", "string.rep('x', 255)",
  "string.rep('x', 256)", "string.rep('x', 65535)", "string.rep('x', 65536)", "string.rep('x', 70000)",
  "'a\\0b'", "{}", "{1, 2, 3}", "{1, nil, 3}", "{nil, 2}", "{[1] = 1, [3] = 3}", "{[2] = 2}", "{[0] = 1}",
  "{[-1] = 1}", "{[1.5] = 1}", "{[1] = 'a', [2] = 'b'}", "{a = 1}", "{1, 2, a = 3}", "{[2^31] = 1}",
  "{['1'] = 1}", "{[true] = 1}", "{{}}", "{{1}, {2, {3}}}", "{a = {b = {c = {}}}}",
  "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}", "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}",
  "string.len", "function() end", "coroutine.create(function() end)" }
for _, v in ipairs(vals) do
  add("return hx(cmsgpack.pack(" .. v .. "))")
  add("return D(cmsgpack.unpack(cmsgpack.pack(" .. v .. ")))")
end
-- big containers and maps (hash order must match redis's Lua)
add("local t = {} for i = 1, 65535 do t[i] = i % 7 end return hx(string.sub(cmsgpack.pack(t), 1, 20)) .. #cmsgpack.pack(t)")
add("local t = {} for i = 1, 65536 do t[i] = i % 7 end return hx(string.sub(cmsgpack.pack(t), 1, 20)) .. #cmsgpack.pack(t)")
add("local t = {} for i = 1, 100 do t[i] = i end return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 16 do t['k' .. i] = i end return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 15 do t['k' .. i] = i end return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 70000 do t['k' .. i] = i end local s = cmsgpack.pack(t) return hx(string.sub(s, 1, 8)) .. #s")
add("local t = {} for i = 1, 70000 do t['k' .. i] = i end local u = cmsgpack.unpack(cmsgpack.pack(t)) local n = 0 for k, v in pairs(u) do n = n + v end return J(n)")
add("return hx(cmsgpack.pack({a = 1, b = 2, c = {1, 2}, d = {x = 'y'}}))")
add("return hx(cmsgpack.pack({[1] = 1, [2] = 2, [4] = 4}))")
add("return hx(cmsgpack.pack({1, 2, 3, [10] = 10}))")
add("local t = {1, 2, 3} t[2] = nil return hx(cmsgpack.pack(t))")
add("local t = {1, 2, 3, 4} t[4] = nil t[3] = nil return hx(cmsgpack.pack(t))")
add("local t = {} t[1] = 1 t[2] = 2 t[3] = 3 t[2] = nil return hx(cmsgpack.pack(t))")
add("return hx(cmsgpack.pack({[1] = 1, [2] = 2, [3.5] = 3}))")
add("return hx(cmsgpack.pack({[2^31 - 1] = 1}))")
add("return hx(cmsgpack.pack({[2^32 + 1] = 1}))")
add("return hx(cmsgpack.pack({[1/0] = 1}))")
add("return hx(cmsgpack.pack({[{}] = 1}))")
add("return hx(cmsgpack.pack({[{1}] = {2}}))")
-- multiple arguments
add("return hx(cmsgpack.pack(1, 2, 3))")
add("return hx(cmsgpack.pack(nil, true, 'x', {1}, 1.5))")
add("return hx(cmsgpack.pack(nil))")
add("return hx(cmsgpack.pack(nil, nil))")
add("return hx(cmsgpack.pack())")
add("return J(cmsgpack.unpack(cmsgpack.pack(1, 'two', 3.5, true, false)))")
add("return J(select('#', cmsgpack.unpack(cmsgpack.pack(1, nil, 3))))")
add("return J(cmsgpack.unpack(''))")
add("return J(select('#', cmsgpack.unpack('')))")
-- nesting limit
local function nest(n) return "local t = 1 for i = 1, " .. n .. " do t = {t} end " end
for _, n in ipairs({ 1, 15, 16, 17, 18, 30 }) do
  add(nest(n) .. "return hx(cmsgpack.pack(t))")
  add(nest(n) .. "return D(cmsgpack.unpack(cmsgpack.pack(t)))")
end
add("local t = {} t.self = t return hx(cmsgpack.pack(t))")
add("local t = {} t[1] = t return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 16 do t = {k = t} end return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 16 do t = {[t] = 1} end return hx(cmsgpack.pack(t))")
add("local t = {} for i = 1, 16 do t = {[t] = 1} end return D(cmsgpack.unpack(cmsgpack.pack(t)))")
add("local t = {} for i = 1, 16 do t = {[t] = 1} end return J(cmsgpack.unpack(cmsgpack.pack(t)))")
-- decoding of every type from bytes
local raw = { "c0", "c2", "c3", "00", "7f", "e0", "ff", "cc", "ccff", "cd", "cdff", "cdffff", "ce", "ceffffffff",
  "cf", "cfffffffffffffffff", "cf0020000000000001", "d0", "d080", "d0ff", "d1", "d18000", "d1ffff", "d2", "d280000000",
  "d3", "d38000000000000000", "d3ffffffffffffffff", "d3ffe0000000000001", "ca", "ca3fc00000", "ca7fc00000",
  "ca7f800000", "caff800000", "cb", "cb3ff8000000000000", "cb7ff0000000000001", "cb8000000000000000",
  "a0", "a161", "a1", "a3616263", "a36162", "bf" .. string.rep("61", 31), "d9", "d903616263", "d9036162",
  "d900", "da", "da0003616263", "da00036162", "db", "db00000003616263", "db000000036162", "dbffffffff61",
  "90", "93010203", "930102", "9f", "dc", "dc0002", "dc00020102", "dd", "dd0000000201c0", "dd00000002",
  "80", "81a161c3", "81a161", "8201020304", "82c0010203", "81c001", "81cb7ff800000000000001",
  "81010282", "de", "de000181a17801", "df0000000100c0", "df00000001", "c1", "c4", "c40161", "c5", "c6", "c7",
  "c8", "c9", "d4", "d5", "d6", "d7", "d8", "dcffff", "9181a1619100", "92c0c0", "94c0c0c001",
  "010203", "01c1", "91c1", "cc01cc" }
for _, h in ipairs(raw) do
  add("return D({cmsgpack.unpack(unhx('" .. h .. "'))})")
end
add("return D({cmsgpack.unpack(unhx('9201c0'))})")
add("return J(cmsgpack.unpack(string.rep('\\1', 100)))")
add("return J(select('#', cmsgpack.unpack(string.rep('\\1', 7990))))")
add("return J(select('#', cmsgpack.unpack(string.rep('\\1', 9000))))")
add("return J(cmsgpack.unpack())")
add("return J(cmsgpack.unpack(nil))")
add("return J(cmsgpack.unpack({}))")
add("return J(cmsgpack.unpack(12))")
-- unpack_one / unpack_limit
local stream = "cmsgpack.pack(1, 'two', {3}, nil, 5)"
for _, o in ipairs({ "", ", 0", ", 1", ", 2", ", 5", ", 6", ", 7", ", 8", ", 9", ", 10", ", -1", ", 1.9", ", '3'",
  ", nil", ", 'x'", ", 2^32", ", 2^32+1", ", 2^31", ", -2^31", ", 1/0", ", 0/0" }) do
  add("return D({cmsgpack.unpack_one(" .. stream .. o .. ")})")
end
for _, a in ipairs({ "0", "1", "2", "3", "5", "6", "100", "-1", "0, 0", "0, 1", "0, 9", "0, 10", "2, 1", "2, 8",
  "3, 2", "1, 9", "1, 10", "1, -1", "-1, -1", "2^32+2, 0", "'2', '1'", "'x'", "nil", "1, 'x'", "1, 2^32+1" }) do
  add("return D({cmsgpack.unpack_limit(" .. stream .. ", " .. a .. ")})")
end
add("return D({cmsgpack.unpack_limit(" .. stream .. ")})")
add("return D({cmsgpack.unpack_one('')})")
add("return D({cmsgpack.unpack_one('', 0)})")
add("return D({cmsgpack.unpack_one('', 1)})")
add("return D({cmsgpack.unpack_limit('', 1)})")
add("return D({cmsgpack.unpack_limit('', 0)})")
add("return D({cmsgpack.unpack_one(unhx('cc'))})")
add("return D({cmsgpack.unpack_one(unhx('01c1'), 1)})")
add("return D({cmsgpack.unpack_one(unhx('01c1'))})")
add("return D({cmsgpack.unpack_limit(unhx('0102c1'), 2)})")
add("return D({cmsgpack.unpack_limit(unhx('0102c1'), 3)})")
add("local s = cmsgpack.pack(1, 2, 3) local out, off = {}, 0 while off >= 0 do local o, v = cmsgpack.unpack_one(s, off) out[#out + 1] = v off = o end return J(unpack(out))")
add("local s = cmsgpack.pack('a', 'b', 'c', 'd', 'e') local off, a, b = cmsgpack.unpack_limit(s, 2, 2) return J(off, a, b)")
add("return J(cmsgpack.unpack_one(nil))")
add("return J(cmsgpack.unpack_limit('a'))")
add("local t = {} for k, v in pairs(cmsgpack) do t[#t+1] = k .. '=' .. (type(v) == 'string' and v or type(v)) end table.sort(t) return table.concat(t, ',')")
add("return J(pcall(cmsgpack.unpack, unhx('c1')))")
add("return J(pcall(cmsgpack.pack))")
add("return J(type(cmsgpack.pack), #cmsgpack.pack(cmsgpack))")
-- round trips through all three libraries
add("return J(cmsgpack.unpack(cmsgpack.pack(struct.pack('>i', bit.bnot(0)))))")
add("return J(bit.tohex(struct.unpack('>I4', cmsgpack.unpack(cmsgpack.pack(unhx('deadbeef'))))))")

------------------------------------------------------------------ large data and stack limits
add("local s = struct.pack('c0', string.rep('x', 10000)) return J(#s, string.sub(s, 9990))")
add("local s = struct.pack('s', string.rep('y', 20000)) return J(#s, string.byte(s, -1))")
add("local s = struct.pack(string.rep('i', 3000), unpack((function() local t = {} for i = 1, 3000 do t[i] = i end return t end)())) return J(#s, struct.unpack('i', s, 4 * 2999 + 1))")
add("local s = struct.pack(string.rep('b', 2999) .. 'i', unpack((function() local t = {} for i = 1, 2999 do t[i] = 1 end return t end)())) return J(#s)")
add("return J(select('#', struct.unpack(string.rep('b', 7000), string.rep('a', 7000))))")
add("return J(select('#', struct.unpack(string.rep('b', 9000), string.rep('a', 9000))))")
add("local t = {} for i = 1, 300 do t[i] = string.rep('z', i) end local u = cmsgpack.unpack(cmsgpack.pack(t)) local n = 0 for i = 1, #u do n = n + #u[i] end return J(#u, n)")
add("local t = {} for i = 1, 1000 do t[i] = {i, tostring(i), i + 0.5} end return J(#cmsgpack.pack(t), string.sub(hx(cmsgpack.pack(t)), 1, 40))")
add("local s = cmsgpack.pack(string.rep('q', 100000)) return J(#s, hx(string.sub(s, 1, 6)), #cmsgpack.unpack(s))")
add("local t = 1 for i = 1, 200 do t = {t} end local s = cmsgpack.pack(t) return hx(s)")
add("local s = string.rep(string.char(0x91), 150) .. string.char(1) local t = cmsgpack.unpack(s) local d = 0 while type(t) == 'table' do t = t[1] d = d + 1 end return J(d, t)")
add("return J(bit.band(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 7))")
add("return J(bit.tobit(1, 'ignored'), bit.bnot(0, {}), bit.bswap(1, nil))")

return C
