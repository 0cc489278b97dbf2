<?php
// SPDX-License-Identifier: MIT
// A PHP host using PHP's FFI extension (php8.2-cli), which calls C through
// libffi: it frees libbuffers.so's buffers with libc's free, declared in an
// FFI::cdef without a library (found in the process). `double-free` frees a
// malloc buffer twice: the first free's stack, which a release from libffi
// keeps past libffi, reaches PHP's ffi.so. Exits 77 (skip) without the
// extension. Usage: MODE LIB
//
// SKIP-EXIT: 77
// EXPECT[global-free-new]: alloc-dealloc-mismatch
// EXPECT-EXIT[global-free-new]: SIGABRT
// EXPECT-WORDS[global-free-new]: allocated by operator new[], freed by free()
// EXPECT-ALLOC-FRAME[global-free-new]: #0 make_array buffers.cc@alloc_array
// EXPECT-FREE-MODULE[global-free-new]: #0 /libffi\.so[.0-9]*$
// EXPECT-FREE-MODULE[global-free-new]: /ffi\.so$
// EXPECT-LINE[global-free-new]: ^freed from PHP \(FFI via libffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
// EXPECT-BOUNDARY-MODULE[global-free-new]: #0 /libffi\.so[.0-9]*$
// EXPECT-STDOUT[global-free-new]: sum 285
//
// EXPECT[double-free]: double-free
// EXPECT-EXIT[double-free]: SIGABRT
// EXPECT-WORDS[double-free]: freed twice: first by free(), now by free()
// EXPECT-FIRST-FREE-MODULE[double-free]: #0 /libffi\.so[.0-9]*$
// EXPECT-FIRST-FREE-MODULE[double-free]: /ffi\.so$
// EXPECT-FREE-MODULE[double-free]: /ffi\.so$
//
// EXPECT[global-free-malloc,release-array]: clean
// EXPECT-EXIT[global-free-malloc,release-array]: 0
// EXPECT-STDOUT[global-free-malloc,release-array]: freed

if (!extension_loaded('ffi') || !class_exists('FFI')) {
    echo "SKIP: php has no FFI extension (apt-get install php8.2-cli)\n";
    exit(77);
}
[$mode, $path] = [$argv[1] ?? null, $argv[2] ?? null];
if ($path === null) {
    fwrite(STDERR, "usage: {$argv[0]} MODE LIB\n");
    exit(2);
}

$buffers = FFI::cdef("int *make_array(int n); int *make_malloc(int n);
                      void release_array(int *a);", $path);
$libc = FFI::cdef("void free(void *p);");

switch ($mode) {
case 'global-free-new':
    $p = $buffers->make_array(10);
    $s = 0;
    for ($i = 0; $i < 10; $i++)
        $s += $p[$i];
    echo "sum $s\n";
    $libc->free($p); // wrong: new[] memory
    break;
case 'global-free-malloc':
    $libc->free($buffers->make_malloc(10));
    echo "freed\n";
    break;
case 'release-array':
    $buffers->release_array($buffers->make_array(10));
    echo "freed\n";
    break;
case 'double-free':
    $p = $buffers->make_malloc(10);
    $libc->free($p);
    $libc->free($p); // wrong: freed already
    break;
default:
    fwrite(STDERR, "unknown mode $mode\n");
    exit(2);
}
