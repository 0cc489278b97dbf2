# SPDX-License-Identifier: MIT
# The cffi (ABI mode) variant of ffi_ctypes.py: ffi.dlopen(None) and
# ffi.dlopen("libc.so.6") both reach free through libffi. Exits 77 (skip)
# when Debian's python3 has no cffi (apt package python3-cffi).
#
# SKIP-EXIT: 77
# EXPECT[global-free-new,libc-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new,libc-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new,libc-free-new]: allocated by operator new[], freed by free()
# EXPECT-TEXT[global-free-new,libc-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
# EXPECT-ALLOC-FRAME[global-free-new,libc-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new]: #0 /libbuffers\.so$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new]: libffi|_cffi_backend
# EXPECT-LINE[global-free-new,libc-free-new]: ^freed from Python \(cffi via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new]: /libffi\.so[.0-9]*$
# EXPECT-STDOUT: sum 285
#
# EXPECT[global-free-malloc,libc-free-malloc]: clean
# EXPECT-EXIT[global-free-malloc,libc-free-malloc]: 0
# EXPECT-STDOUT[global-free-malloc,libc-free-malloc]: freed
import sys

try:
    import cffi
except ImportError:
    print("SKIP: /usr/bin/python3 has no cffi (apt-get install python3-cffi)")
    sys.exit(77)

mode, path = sys.argv[1], sys.argv[2]
ffi = cffi.FFI()
ffi.cdef("int *make_array(int n); int *make_malloc(int n); void free(void *p);")
lib = ffi.dlopen(path)
libc = ffi.dlopen(None) if mode.startswith("global") else ffi.dlopen("libc.so.6")

buf = lib.make_malloc(10) if mode.endswith("malloc") else lib.make_array(10)
print("sum", sum(buf[i] for i in range(10)), flush=True)
libc.free(buf)
print("freed", flush=True)
