// SPDX-License-Identifier: MIT
// A named JavaScript function, releaseFromJs, frees libbuffers.so's new[]
// buffer with koffi.free while node writes a perf map (--perf-basic-prof):
// the report must name releaseFromJs in a JIT frame of the free stack. The
// runner deletes the perf map, and the V8 log that --perf-basic-prof also
// writes into the working directory, afterwards. Modes:
//   compiled     node --perf-basic-prof: releaseFromJs is JIT code only once
//                V8 has compiled it, so the script first calls it on malloc'd
//                buffers (clean frees) until the perf map lists compiled code
//                for it (V8's baseline compiler gets there first)
//   turbofan     the same, waiting for TurboFan's optimized code
//   interpreted  node --perf-basic-prof --interpreted-frames-native-stack:
//                every interpreted function runs in a named copy of the
//                interpreter's entry code, so no warm-up is needed
// Usage: node --perf-basic-prof [--interpreted-frames-native-stack]
//        ffi_koffi_perf.js MODE LIB KOFFI_DIR
//
// SKIP-EXIT: 77
// CLEANUP: /tmp/perf-%pid.map
// CLEANUP: isolate-0x*-%pid-v8.log
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-LINE: ^freed from Node\.js \(koffi\) \(frame #\d+\); allocated in libbuffers\.so by operator new\[\] in make_array$
// EXPECT-BOUNDARY-MODULE: #0 /koffi\.node$
// EXPECT-ALLOC-FRAME: #0 make_array buffers.cc@alloc_array
// EXPECT-FREE-JIT-FRAME: \breleaseFromJs\b
// EXPECT-NO-LINE: \(<unknown module>\)
// EXPECT-STDOUT: sum 285
'use strict';

const fs = require('fs');
const path = require('path');

const [mode, libPath, koffiDir] = process.argv.slice(2);
// V8 marks code in the perf map: ~ interpreted, ^ baseline, + Maglev,
// * TurboFan.
const tiers = {compiled: '[\\^+*]', turbofan: '[*]', interpreted: null};
if (!(mode in tiers) || !libPath || !koffiDir) {
    console.error('usage: node --perf-basic-prof ffi_koffi_perf.js ' +
                  'compiled|turbofan|interpreted LIB KOFFI_DIR');
    process.exit(2);
}

const koffi = require(path.join(__dirname, 'koffi_load.js'))(koffiDir);

const lib = koffi.load(libPath);
const makeArray = lib.func('int *make_array(int n)');
const makeMalloc = lib.func('int *make_malloc(int n)');

// The function the report must name.
function releaseFromJs(p) {
    koffi.free(p);
}

const perfMap = `/tmp/perf-${process.pid}.map`;

function isCompiled() {
    const entry = new RegExp(`^[0-9a-f]+ [0-9a-f]+ \\S*${tiers[mode]}releaseFromJs\\b`, 'm');
    try {
        return entry.test(fs.readFileSync(perfMap, 'utf8'));
    } catch (_) {
        return false;
    }
}

if (tiers[mode] !== null) {
    let rounds = 0;
    while (!isCompiled() && rounds < 500) {
        for (let i = 0; i < 1000; i++)
            releaseFromJs(makeMalloc(1));
        rounds++;
    }
    if (!isCompiled()) {
        console.log(`releaseFromJs is not compiled after ${rounds * 1000} calls`);
        process.exit(1);
    }
    // Compiled code is installed at a later call: a few more.
    for (let i = 0; i < 1000; i++)
        releaseFromJs(makeMalloc(1));
}

const buf = makeArray(10);
console.log('sum ' + koffi.decode(buf, 'int', 10).reduce((a, b) => a + b, 0));
releaseFromJs(buf);
console.log('freed');
