// SPDX-License-Identifier: MIT
// A Node.js host using koffi that frees libbuffers.so's buffers with
// koffi.free (libc's free, called from koffi's .node module) and with free
// from koffi.load("libc.so.6") (dlsym on libc's own handle). koffi comes from
// the npm registry into KOFFI_DIR at test time; without it this exits 77.
// Usage: node ffi_koffi.js MODE LIB KOFFI_DIR
//
// SKIP-EXIT: 77
// EXPECT[koffi-free-new,libc-free-new]: alloc-dealloc-mismatch
// EXPECT-EXIT[koffi-free-new,libc-free-new]: SIGABRT
// EXPECT-WORDS[koffi-free-new,libc-free-new]: allocated by operator new[], freed by free()
// EXPECT-TEXT[koffi-free-new,libc-free-new]: is a 40-byte region allocated by operator new[] in thread T0 here:
// EXPECT-ALLOC-FRAME[koffi-free-new,libc-free-new]: #0 make_array buffers.cc@alloc_array
// EXPECT-ALLOC-MODULE[koffi-free-new,libc-free-new]: #0 /libbuffers\.so$
// EXPECT-ALLOC-MODULE[koffi-free-new,libc-free-new]: #1 /koffi\.node$
// EXPECT-FREE-MODULE[koffi-free-new,libc-free-new]: #0 /koffi\.node$
// EXPECT-LINE[koffi-free-new,libc-free-new]: ^freed from Node\.js \(koffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
// EXPECT-BOUNDARY-MODULE[koffi-free-new,libc-free-new]: #0 /koffi\.node$
// EXPECT-STDOUT: sum 285
//
// EXPECT[koffi-free-malloc,libc-free-malloc,release-array]: clean
// EXPECT-EXIT[koffi-free-malloc,libc-free-malloc,release-array]: 0
// EXPECT-STDOUT[koffi-free-malloc,libc-free-malloc,release-array]: freed
'use strict';

const path = require('path');

const [mode, libPath, koffiDir] = process.argv.slice(2);
if (!mode || !libPath || !koffiDir) {
    console.error('usage: node ffi_koffi.js MODE LIB KOFFI_DIR');
    process.exit(2);
}

const koffi = require(path.join(__dirname, 'koffi_load.js'))(koffiDir);

const lib = koffi.load(libPath);
const makeArray = lib.func('int *make_array(int n)');
const makeMalloc = lib.func('int *make_malloc(int n)');
const releaseArray = lib.func('void release_array(int *a)');

// Writes to a pipe are synchronous in Node on Linux, so "sum" is out before
// a report aborts the process.
const buf = mode.endsWith('malloc') ? makeMalloc(10) : makeArray(10);
console.log('sum ' + koffi.decode(buf, 'int', 10).reduce((a, b) => a + b, 0));
if (mode === 'release-array') {
    releaseArray(buf);
} else if (mode.startsWith('koffi-free')) {
    koffi.free(buf);
} else {
    const free = koffi.load('libc.so.6').func('void free(void *p)');
    free(buf);
}
console.log('freed');
