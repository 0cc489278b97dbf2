# SPDX-License-Identifier: MIT
# A Python ctypes host freeing buffers from libbuffers.so with libc's free,
# reached two ways: CDLL(None) (the global symbol, which LD_PRELOAD
# interposes) and CDLL("libc.so.6") (dlsym on libc's own handle, which
# crossfree's dlsym wrapper must redirect). Usage: ffi_ctypes.py MODE LIB
#
# EXPECT[global-free-new,libc-free-new]: alloc-dealloc-mismatch
# EXPECT-EXIT[global-free-new,libc-free-new]: SIGABRT
# EXPECT-WORDS[global-free-new,libc-free-new]: allocated by operator new[], freed by free()
# EXPECT-TEXT[global-free-new,libc-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
# EXPECT-ALLOC-FRAME[global-free-new,libc-free-new]: #0 make_array buffers.cc@alloc_array
# EXPECT-ALLOC-MODULE[global-free-new,libc-free-new]: #0 /libbuffers\.so$
# EXPECT-FREE-MODULE[global-free-new,libc-free-new]: libffi|_ctypes
# EXPECT-LINE[global-free-new,libc-free-new]: ^freed from Python \(ctypes via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-BOUNDARY-MODULE[global-free-new,libc-free-new]: /libffi\.so[.0-9]*$
# EXPECT-LINE[global-free-new,libc-free-new]: ^HINT: memory from operator new\[\] must be released with operator delete\[\]; export a release function from libbuffers\.so .* \(CROSSFREE_OPTIONS=halt_on_error=0 continues after a report\)$
# EXPECT-STDOUT: sum 285
#
# With halt_on_error=0 the run goes on, and the HINT no longer suggests it:
# OPTIONS[libc-free-new-continue]: halt_on_error=0
# EXPECT[libc-free-new-continue]: alloc-dealloc-mismatch
# EXPECT-EXIT[libc-free-new-continue]: 23
# EXPECT-LINE[libc-free-new-continue]: ^freed from Python \(ctypes via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
# EXPECT-LINE[libc-free-new-continue]: ^HINT: memory from operator new\[\] must be released with operator delete\[\]; export a release function from libbuffers\.so that uses operator delete\[\] and call it from Python \(ctypes via libffi\) instead of free\(\), or allocate the buffer with malloc\(\) if the host must free it$
# EXPECT-NO-LINE[libc-free-new-continue]: halt_on_error
# EXPECT-STDERR[libc-free-new-continue]: ^==%pid==crossfree: 1 error\(s\) reported
# EXPECT-STDOUT[libc-free-new-continue]: freed
#
# The same run with report_format=json, for check_json.py:
# JSON-EXIT[libc-free-new]: SIGABRT
# JSON-KIND[libc-free-new]: alloc-dealloc-mismatch
# JSON-ALLOC[libc-free-new]: new[] | operator new[]
# JSON-FREE[libc-free-new]: malloc | free()
# JSON-FREED-FROM[libc-free-new]: Python (ctypes via libffi) | /libffi\.so[.0-9]*$
# JSON-ALLOC-FRAME[libc-free-new]: #0 make_array buffers.cc@alloc_array
# JSON-FIELD[libc-free-new]: hint="memory from operator new[] must be released with operator delete[]; export a release function from libbuffers.so that uses operator delete[] and call it from Python (ctypes via libffi) instead of free(), or allocate the buffer with malloc() if the host must free it (CROSSFREE_OPTIONS=halt_on_error=0 continues after a report)"
#
# EXPECT[global-free-malloc,libc-free-malloc,release-array]: clean
# EXPECT-EXIT[global-free-malloc,libc-free-malloc,release-array]: 0
# EXPECT-STDOUT[global-free-malloc,libc-free-malloc,release-array]: freed
import ctypes
import sys

mode, path = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(path)
for fn in (lib.make_array, lib.make_malloc):
    fn.restype = ctypes.POINTER(ctypes.c_int)
    fn.argtypes = [ctypes.c_int]
lib.release_array.argtypes = [ctypes.POINTER(ctypes.c_int)]

libc = ctypes.CDLL(None) if mode.startswith("global") else ctypes.CDLL("libc.so.6")
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None

buf = lib.make_malloc(10) if mode.endswith("malloc") else lib.make_array(10)
print("sum", sum(buf[i] for i in range(10)), flush=True)
if mode == "release-array":
    lib.release_array(buf)
else:
    libc.free(ctypes.cast(buf, ctypes.c_void_p))
print("freed", flush=True)
