// SPDX-License-Identifier: MIT
// librsfree.so: a Rust library (a cdylib, no crates) that takes ownership
// of a C buffer and releases it with libc's free, as a Rust wrapper over a
// C API would. Given a new[] buffer from libbuffers.so, that free is the
// bug, and this library, not the Python that called it, made it.
// Built by rustc alone (tests/ffi/meson.build), once with each mangling.
use std::os::raw::{c_int, c_void};

extern "C" {
    fn free(p: *mut c_void);
}

pub struct Buffer {
    ptr: *mut c_int,
    len: usize,
}

impl Buffer {
    fn sum(&self) -> i64 {
        (0..self.len).map(|i| unsafe { *self.ptr.add(i) } as i64).sum()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        unsafe { free(self.ptr as *mut c_void) }; // @rs_free
    }
}

#[inline(never)]
fn consume(b: Buffer) -> i64 {
    let total = b.sum();
    let release = |b: Buffer| drop(b); // @rs_release
    release(b);
    total
}

/// Sums `n` ints at `p`, then frees `p` with libc's free.
#[no_mangle]
pub extern "C" fn rs_sum_and_free(p: *mut c_int, n: c_int) -> i64 {
    consume(Buffer { ptr: p, len: n as usize })
}
