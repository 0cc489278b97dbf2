// SPDX-License-Identifier: MIT
// Named threads from Rust: std::thread::Builder::name sets each thread's
// name (the new thread calls pthread_setname_np on itself). A buffer made
// with the C++ runtime's operator new[] in the thread "producer", which has
// ended by then, is wrongly freed with libc's free in the thread "consumer".
// check_thread_names.py builds this with rustc and checks that the report
// names both threads, their OS ids (printed here) and where each was
// spawned.
use std::thread;

extern "C" {
    #[link_name = "_Znam"]
    fn cxx_new_array(n: usize) -> *mut u8;
    fn free(p: *mut u8);
    fn gettid() -> i32;
}

#[inline(never)]
fn produce() -> usize {
    unsafe { cxx_new_array(48) as usize }
}

#[inline(never)]
fn consume(p: usize) {
    unsafe { free(p as *mut u8) }
}

#[inline(never)]
fn spawn_producer() -> thread::JoinHandle<usize> {
    thread::Builder::new()
        .name("producer".into())
        .spawn(|| {
            println!("producer tid {}", unsafe { gettid() });
            produce()
        })
        .unwrap()
}

#[inline(never)]
fn spawn_consumer(p: usize) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name("consumer".into())
        .spawn(move || {
            println!("consumer tid {}", unsafe { gettid() });
            consume(p);
        })
        .unwrap()
}

fn main() {
    let p = spawn_producer().join().unwrap();
    spawn_consumer(p).join().unwrap();
}
