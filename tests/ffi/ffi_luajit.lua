-- SPDX-License-Identifier: MIT
-- A LuaJIT ffi host freeing libbuffers.so's buffers with libc's free, reached
-- through ffi.C (the global symbol), through ffi.load("libc.so.6") (dlsym on
-- libc's own handle), as an ffi.gc finalizer and from a compiled trace (a hot
-- loop). LuaJIT calls C from its own VM, so the free stack starts in the
-- luajit binary; from a trace it starts in the trace's machine code, JIT code
-- that LuaJIT keeps no frame information for, so the stack ends there.
-- Usage: ffi_luajit.lua MODE LIB
--[[ Expectations for tests/integration/runner.py, which reads `#` lines:

# EXPECT[global-free-new,libc-free-new,gc-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new,libc-free-new,gc-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new,libc-free-new,gc-free-new]: allocated by operator new[], freed by free()
# EXPECT-TEXT[global-free-new,libc-free-new,gc-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
# EXPECT-ALLOC-FRAME[global-free-new,libc-free-new,gc-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,gc-free-new]: #0 /libbuffers\.so$
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new,gc-free-new]: /(lua)?jit[^/]*$|/libluajit[^/]*$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new,gc-free-new]: #0 /(lua)?jit[^/]*$|/libluajit[^/]*$
# EXPECT-LINE[global-free-new,libc-free-new,gc-free-new]: ^freed from Lua \(LuaJIT ffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new,gc-free-new]: /(lua)?jit[^/]*$|/libluajit[^/]*$
# EXPECT-STDOUT: sum 285

# EXPECT[trace-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[trace-free-new]: SIGABRT
# EXPECT-WORDS[trace-free-new]: allocated by operator new[], freed by free()
# EXPECT-ALLOC-FRAME[trace-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-FREE-MODULE[trace-free-new]: #0 ^\[jit\]$
# EXPECT-LINE[trace-free-new]: ^freed from (JIT code|Lua \(LuaJIT ffi\)) \(frame #0\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[trace-free-new]: #0 ^\[jit\]$
# EXPECT-NO-LINE[trace-free-new]: \(<unknown module>\)

# EXPECT[global-free-malloc,libc-free-malloc,gc-release-array]: clean
# EXPECT-EXIT[global-free-malloc,libc-free-malloc,gc-release-array]: 0
# EXPECT-STDOUT[global-free-malloc,libc-free-malloc,gc-release-array]: freed
]]

local ffi = require("ffi")

-- Unbuffered, so "sum" is on the pipe before a report aborts the process.
io.stdout:setvbuf("no")

local mode, path = arg[1], arg[2]
ffi.cdef [[
int *make_array(int n);
int *make_malloc(int n);
void release_array(int *a);
void free(void *p);
]]
local lib = ffi.load(path)

local function sum(buf)
    local s = 0
    for i = 0, 9 do
        s = s + buf[i]
    end
    return s
end

if mode:sub(1, 3) == "gc-" then
    -- The idiomatic finalizer: the collector calls it once the cdata is
    -- unreachable. ffi.C.free is wrong for a new[] buffer; release_array
    -- is right.
    local finalizer = mode == "gc-release-array" and lib.release_array or ffi.C.free
    local buf = ffi.gc(lib.make_array(10), finalizer)
    print("sum " .. sum(buf))
    buf = nil
    collectgarbage()
    collectgarbage()
elseif mode == "trace-free-new" then
    -- The same call 2000 times, so LuaJIT compiles the loop into a trace
    -- (after 56 iterations): every buffer but the last is malloc'd, the
    -- last is new[] and is freed by the trace's machine code.
    local bufs = {}
    for i = 1, 1999 do
        bufs[i] = lib.make_malloc(1)
    end
    bufs[2000] = lib.make_array(10)
    print("sum " .. sum(bufs[2000]))
    local free = ffi.C.free
    for i = 1, 2000 do
        free(bufs[i])
    end
else
    local libc = mode:match("^global") and ffi.C or ffi.load("libc.so.6")
    local buf = mode:match("malloc$") and lib.make_malloc(10) or lib.make_array(10)
    print("sum " .. sum(buf))
    libc.free(buf)
end
print("freed")
