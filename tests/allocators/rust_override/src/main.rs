// SPDX-License-Identifier: MIT
// Rust with mimalloc as its global allocator and as the executable's own
// malloc/free (the crate's `override` feature), loading a C++ library at
// run time (argv[2], libcxx_buffers.so) whose operator new[] makes a buffer.
// Modes (argv[1]):
//   clean             Rust collections, a C string from strdup released with
//                     free(), a new[] buffer given back to the library's
//                     delete[]
//   new-array-free    the new[] buffer released with free(): the call binds
//                     to the executable's own free (mimalloc's), which
//                     crossfree does not see; natively it works (libstdc++'s
//                     new[] takes its memory from the executable's malloc),
//                     and it must under crossfree too
//   new-array-delete  the new[] buffer released by the library's scalar
//                     delete: crossfree sees both calls and reports it
use mimalloc::MiMalloc;
use std::ffi::{c_char, c_int, c_void, CStr, CString};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

extern "C" {
    fn free(p: *mut c_void);
    fn strdup(s: *const c_char) -> *mut c_char;
    fn dlopen(path: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

const RTLD_NOW: c_int = 2;

fn collections() -> u64 {
    let mut words: Vec<String> = Vec::new();
    for i in 0..300 {
        words.push(format!("{}-{}", "word".repeat(i % 9 + 1), i));
    }
    let mut total: u64 = words.iter().map(|w| w.len() as u64).sum();
    let boxed: Vec<Box<[u64]>> = (1..50).map(|n| vec![n as u64; n].into_boxed_slice()).collect();
    total += boxed.iter().map(|b| b.iter().sum::<u64>()).sum::<u64>();
    total
}

fn symbol(lib: *mut c_void, name: &str) -> *mut c_void {
    let n = CString::new(name).unwrap();
    let f = unsafe { dlsym(lib, n.as_ptr()) };
    if f.is_null() {
        eprintln!("rust_override: no {name} in the library");
        std::process::exit(2);
    }
    f
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: rust_override MODE LIBCXX_BUFFERS");
        std::process::exit(2);
    }
    let mode = args[1].as_str();
    let path = CString::new(args[2].as_str()).unwrap();
    let lib = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
    if lib.is_null() {
        let why = unsafe { CStr::from_ptr(dlerror()) }.to_string_lossy().into_owned();
        eprintln!("rust_override: cannot load {}: {why}", args[2]);
        std::process::exit(2);
    }
    let make_array: extern "C" fn(c_int) -> *mut c_int =
        unsafe { std::mem::transmute(symbol(lib, "make_array")) };
    let release_array: extern "C" fn(*mut c_int) =
        unsafe { std::mem::transmute(symbol(lib, "release_array")) };
    let release_scalar: extern "C" fn(*mut c_int) =
        unsafe { std::mem::transmute(symbol(lib, "release_scalar")) };

    let mut total = collections();
    let word = CString::new("allocators").unwrap();
    let c = unsafe { strdup(word.as_ptr()) };
    total += unsafe { CStr::from_ptr(c) }.to_bytes().len() as u64;
    unsafe { free(c as *mut c_void) };
    let buf = make_array(64);
    total += (0..64).map(|i| unsafe { *buf.add(i) } as u64).sum::<u64>();
    match mode {
        "clean" => release_array(buf),
        "new-array-free" => unsafe { free(buf as *mut c_void) },
        "new-array-delete" => release_scalar(buf),
        _ => {
            eprintln!("rust_override: unknown mode {mode}");
            std::process::exit(2);
        }
    }
    println!("{mode}: {total}");
}
