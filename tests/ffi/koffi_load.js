// SPDX-License-Identifier: MIT
// Loads koffi from the prefix install_koffi.py filled, or exits 77 (meson's
// "skipped") with the reason npm gave, which install_koffi.py left in
// install.log. Shared by ffi_koffi.js and ffi_koffi_perf.js.
'use strict';

const fs = require('fs');
const path = require('path');

module.exports = function loadKoffi(koffiDir) {
    try {
        return require(path.resolve(koffiDir, 'node_modules', 'koffi'));
    } catch (e) {
        let why = e.message.split('\n')[0];
        try {
            why = fs.readFileSync(path.join(koffiDir, 'install.log'), 'utf8').trim() || why;
        } catch (_) {
            // No log: the install step never ran.
        }
        console.log(`SKIP: koffi is not installed in ${koffiDir}: ${why}`);
        process.exit(77);
    }
};
