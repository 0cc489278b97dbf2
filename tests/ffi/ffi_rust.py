# SPDX-License-Identifier: MIT
# Python (ctypes) hands a buffer from libbuffers.so (C++) to librsfree.so
# (Rust, tests/ffi/rsfree.rs), which frees it with libc's free. The free is
# the Rust library's: the report must name it, not Python, in the HINT,
# show no host boundary, and print Rust names demangled, with both of
# rustc's manglings. Usage: ffi_rust.py MODE LIBBUFFERS LIBRSFREE
# MODE: legacy-new, v0-new (a new[] buffer: reported), legacy-malloc
# (a malloc buffer: clean). Needs rustc (https://rustup.rs, or Debian's
# `apt-get install rustc`); the test is skipped without it.
#
# SKIP-EXIT: 77
# EXPECT[legacy-new,v0-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[legacy-new,v0-new]: SIGABRT
# EXPECT-WORDS[legacy-new,v0-new]: allocated by operator new[], freed by free()
# EXPECT-ALLOC-FRAME[legacy-new,v0-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-FREE-MODULE[legacy-new,v0-new]: #0 /librsfree[_v0]*\.so$
# EXPECT-FREE-OFFSET[legacy-new,v0-new]: @rs_free
# EXPECT-LINE[legacy-new,v0-new]: ^    #0 0x[0-9a-f]+ in <rsfree::Buffer as core::ops::drop::Drop>::drop \S*rsfree\.rs:\d+ \(
# EXPECT-LINE[legacy-new]: ^    #\d+ 0x[0-9a-f]+ in rsfree::consume::\{\{closure\}\} \S*rsfree\.rs:\d+ \(
# EXPECT-LINE[v0-new]: ^    #\d+ 0x[0-9a-f]+ in rsfree::consume::\{closure#0\} \S*rsfree\.rs:\d+ \(
# EXPECT-LINE[legacy-new,v0-new]: ^    #\d+ 0x[0-9a-f]+ in rsfree::consume \S*rsfree\.rs:\d+ \(
# EXPECT-LINE[legacy-new,v0-new]: ^SUMMARY: crossfree: alloc-dealloc-mismatch \S*rsfree\.rs:\d+ in <rsfree::Buffer as core::ops::drop::Drop>::drop$
# EXPECT-LINE[legacy-new]: ^HINT: librsfree\.so freed memory that libbuffers\.so allocated with operator new\[\]: memory from operator new\[\] must be released with operator delete\[\]; export a release function from libbuffers\.so that uses operator delete\[\] and call it from librsfree\.so instead of free\(\), or allocate the buffer with malloc\(\) if librsfree\.so must free it \(CROSSFREE_OPTIONS=halt_on_error=0 continues after a report\)$
# EXPECT-LINE[v0-new]: ^HINT: librsfree_v0\.so freed memory that libbuffers\.so allocated with operator new\[\]: .* call it from librsfree_v0\.so instead of free\(\)
# Not Python's doing, and nothing left mangled:
# EXPECT-NO-LINE[legacy-new,v0-new]: ^freed from
# EXPECT-NO-LINE[legacy-new,v0-new]: host boundary
# EXPECT-NO-LINE[legacy-new,v0-new]: ^HINT: .*Python
# EXPECT-NO-LINE[legacy-new,v0-new]: \$LT\$|\$u7b\$|\$u20\$|::h[0-9a-f]{16}\b|\b_ZN|\b_R[A-Z]
# EXPECT-STDOUT[legacy-new,v0-new]: handing 10 ints to Rust
#
# The same run as JSON (check_json.py): no host, the HINT names the library.
# JSON-EXIT[legacy-new]: SIGABRT
# JSON-KIND[legacy-new]: alloc-dealloc-mismatch
# JSON-ALLOC[legacy-new]: new[] | operator new[]
# JSON-FREE[legacy-new]: malloc | free()
# JSON-ALLOC-FRAME[legacy-new]: #0 make_array buffers.cc@alloc_array
# JSON-FIELD[legacy-new]: freed_from=null
# JSON-FIELD[legacy-new]: hint="librsfree.so freed memory that libbuffers.so allocated with operator new[]: memory from operator new[] must be released with operator delete[]; export a release function from libbuffers.so that uses operator delete[] and call it from librsfree.so instead of free(), or allocate the buffer with malloc() if librsfree.so must free it (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)"
#
# EXPECT[legacy-malloc]: clean
# EXPECT-EXIT[legacy-malloc]: 0
# EXPECT-STDOUT[legacy-malloc]: handing 10 ints to Rust
# EXPECT-STDOUT[legacy-malloc]: sum 285
import ctypes
import os
import sys

mode, buffers_path, rust_path = sys.argv[1], sys.argv[2], sys.argv[3]
if not os.path.exists(rust_path):
    print(f"SKIP: {rust_path} was not built: rustc is not installed (rustup: https://rustup.rs, "
          "or apt-get install rustc)")
    sys.exit(77)
lib = ctypes.CDLL(buffers_path)
for fn in (lib.make_array, lib.make_malloc):
    fn.restype = ctypes.POINTER(ctypes.c_int)
    fn.argtypes = [ctypes.c_int]
rs = ctypes.CDLL(rust_path)
rs.rs_sum_and_free.restype = ctypes.c_int64
rs.rs_sum_and_free.argtypes = [ctypes.POINTER(ctypes.c_int), ctypes.c_int]

buf = lib.make_malloc(10) if mode.endswith("malloc") else lib.make_array(10)
print("handing 10 ints to Rust", flush=True)
print("sum", rs.rs_sum_and_free(buf, 10), flush=True)
