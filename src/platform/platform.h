// SPDX-License-Identifier: MIT
// The platform contract: everything a port of crossfree to another OS
// implements, and nothing else. Read top to bottom, it is the port:
//
//   1. Platform macros      what the port is, always 0 or 1
//   2. OS services          memory, files, time, environment, ending
//   3. Interposition        the shim: how calls reach crossfree
//   4. Raw backtrace        return addresses of the calling thread
//   5. Modules and symbols  program counters to modules, functions, lines
//
// Linux implements it in platform/linux, macOS in platform/macos and
// Windows in platform/windows: per-OS code lives nowhere else. Each folder
// has a shim.c (section 3) and hands its sources to src/meson.build.
//
// Unless a function says otherwise, it may run before initialisation,
// inside malloc or free, and it never calls the wrapped allocator.
#ifndef CF_PLATFORM_H
#define CF_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/symbolize.h" // cf_frame_info

// ---------------------------------------------------------------------------
// 1. Platform macros

#if defined(__linux__)
#define CF_OS_LINUX 1
#else
#define CF_OS_LINUX 0
#endif
#if defined(_WIN32)
#define CF_OS_WINDOWS 1
#else
#define CF_OS_WINDOWS 0
#endif
#if defined(__APPLE__)
#define CF_OS_MACOS 1
#else
#define CF_OS_MACOS 0
#endif

// Whether owner records live in a header in front of each block
// (core/header.h). Linux does; macOS and Windows keep every record in the
// owner table.
#define CF_BLOCK_HEADERS CF_OS_LINUX

// Address space the stack depot reserves. Linux and macOS commit pages on
// first touch, so a large reservation costs nothing until used; Windows
// commits the whole mapping up front (cf_os_map there), so it asks less.
#if CF_OS_WINDOWS
#define CF_DEPOT_RESERVE_BYTES ((size_t)64 << 20)
#else
#define CF_DEPOT_RESERVE_BYTES ((size_t)1 << 30)
#endif

// ---------------------------------------------------------------------------
// 2. OS services

// Anonymous zeroed pages, outside the user's heap. NULL on failure.
// `reserve_only` asks for address space that is committed lazily on touch.
void *cf_os_map(size_t bytes, bool reserve_only);
void cf_os_unmap(void *p, size_t bytes);
size_t cf_os_page_size(void);

// Writes all of [s, s+n) to fd, retrying on EINTR and short writes.
// Returns 0 when all was written, else the error (a positive errno value:
// ENOSPC on a full disk, EFBIG past RLIMIT_FSIZE, ...). errno is kept.
int cf_os_write_all(int fd, const char *s, size_t n);

// Whether the file open as `fd` has lost its last name (its log directory
// or the file itself was removed while open): writing there loses the data.
// False where that cannot be told. Error path only (a system call).
bool cf_os_file_unlinked(int fd);
#define CF_FD_STDERR 2

// Keeps a copy of stderr as the process starts (close-on-exec, numbered 100
// or above): when a write to CF_FD_STDERR finds it closed (gnulib's
// close_stdout closes it at exit, before later exit-time frees are judged),
// cf_os_write_all writes to the copy instead, if it is still the same open
// file (a copy the program closed, its number reused, is left alone).
// Called once, at start-up; a no-op where stderr is not a descriptor.
void cf_os_keep_stderr(void);

// Opens `path` for appending a log: created exclusively (O_EXCL), never
// through a symlink (O_NOFOLLOW), mode 0666 under the umask, close-on-exec.
// Returns a file descriptor, or -errno.
int cf_os_open_log(const char *path);
void cf_os_close(int fd);
// Reads the file at `path` (symlinks are followed) into buf: at most `cap`
// bytes. Returns the bytes read, or -errno. A result equal to `cap` means
// the file may be longer: a caller that must know passes one byte more
// than it accepts. Never blocks on a FIFO without a writer (it reads as
// empty). Used at start-up for the suppressions file.
long cf_os_read_file(const char *path, char *buf, size_t cap);
const char *cf_os_strerror(int err); // static text, never allocates

int cf_os_getpid(void);
// Kernel thread id of the caller.
int cf_os_gettid(void);
// The name of the live thread with kernel id `os_tid` in this process (as
// pthread_setname_np or prctl(PR_SET_NAME) set it) into buf, NUL-terminated;
// false, buf "", when it cannot be read (the thread is gone, or the port
// cannot read another thread's name). Error and thread-exit paths only:
// may read /proc, never mallocs.
bool cf_os_thread_name(int os_tid, char *buf, size_t cap);
// Lets another thread run (only called under contention).
void cf_os_yield(void);

// Holds off thread cancellation (POSIX deferred cancellation) while
// crossfree reports: its writes and the symbolizer's opens are
// cancellation points, and a thread unwound from there would leave the
// report half written and the report lock held. Returns the state to give
// back to cf_os_cancel_restore. No system call; no-op where threads are
// not cancelled that way.
int cf_os_cancel_disable(void);
void cf_os_cancel_restore(int state);
// Wall-clock time in microseconds since the epoch.
uint64_t cf_os_time_us(void);

// The value of environment variable `name`, read from the process
// environment without allocating; NULL if unset.
const char *cf_os_getenv(const char *name);

// Path of the running executable into buf (truncated to cap); "" if unknown.
void cf_os_exe_path(char *buf, size_t cap);

// The process's command line into buf as NUL-separated arguments
// (truncated to cap, always NUL-terminated); returns the bytes filled.
size_t cf_os_cmdline(char *buf, size_t cap);

// Ends the process: abort() raises SIGABRT (so a debugger stops there),
// exit_now skips atexit handlers (like _exit) after flushing stdio.
_Noreturn void cf_os_abort(void);
_Noreturn void cf_os_exit_now(int status);

// Classifies an address for invalid-free reports: is it on the stack of the
// calling thread, or inside a loaded module's image (static data)?
// Error path only: may read /proc and take the loader lock, never mallocs.
bool cf_os_addr_on_current_stack(uintptr_t addr);

// Whether `addr` lies in readable memory; if so, *lo is the start of its
// mapping (everything in [*lo, addr] may be read). Error path only: reads
// /proc, never mallocs. Ports without block headers may answer false.
bool cf_os_readable_from(uintptr_t addr, uintptr_t *lo);

// Whether `pc` lies in anonymous executable memory (code a JIT generated).
// If so, `name` receives the symbol a perf map (/tmp/perf-PID.map, as
// `node --perf-basic-prof` and JVM agents write it) gives for pc, or "".
// Error path only: reads /proc and the map file, never mallocs.
bool cf_os_jit_frame(uintptr_t pc, char *name, size_t cap);

// ---------------------------------------------------------------------------
// 3. Interposition

// The shim (platform/<os>/shim.c) makes every allocation entry point of the
// platform, and every C++ operator of platform/shim.h's list, reach a
// wrapper. A wrapper calls the real function and reports to the runtime
// (runtime/runtime.h: cf_rt_enter, then cf_rt_on_alloc* after an
// allocation, cf_rt_on_free instead of a deallocation, cf_rt_realloc_*
// around a resize), keeping the caller's errno. The shim also calls
// cf_rt_enter once as early as it can (a constructor, DllMain),
// cf_rt_at_exit at process exit, cf_rt_fork_* around fork, and
// cf_shim_before_unload/cf_shim_after_unload around a module unload.

// Finds the real allocator, tells capture where crossfree's own code is
// (cf_capture_set_self), registers fork handlers. Called once, by the
// initialising thread under the recursion guard; false when no real
// allocator exists (the process then exits with status 127).
bool cf_platform_init(void);

// Whether the program replaces a C++ operator new or delete of its own
// (the standard allows any form). The shim then forwards every operator
// form to the C++ runtime's own, which reaches the replacement the way the
// standard's default forms do, and the runtime keeps every record in the
// owner table: a replacement's pointer need not start a block of crossfree's.
// Called once, after cf_platform_init. Ports that cannot tell answer false.
bool cf_platform_operators_replaced(void);

// Whether the program's malloc or free is another allocator's that comes
// before crossfree's in lookup order (the executable's own, or a library
// preloaded ahead of crossfree): calls that bind to it never reach
// crossfree, blocks crossfree hands out may be freed by it unseen (so they
// carry no header), and a pointer crossfree never saw allocated is that
// allocator's, handed back to it untouched. Then fills `line` (at most
// `cap` bytes, NUL-terminated) with one sentence for the start-up log:
// which allocator, where, and what crossfree still checks. Called once,
// after cf_platform_init. Ports that cannot tell answer false.
bool cf_platform_allocator_shadowed(char *line, size_t cap);

// Releases a block through the real deallocator of its family: `addr` is
// what the real allocator returned. A program-registered family's blocks
// belong to the program: a no-op. Called with no lock held.
void cf_platform_release(uintptr_t addr, unsigned family);

#if CF_OS_MACOS
// The calling thread's runtime state (runtime/runtime.h's cf_tls). Only
// where __thread cannot be used inside malloc: on macOS, dyld allocates a
// thread's copy of thread-local variables with malloc on first use.
struct cf_tls;
struct cf_tls *cf_platform_tls(void);
#endif

// ---------------------------------------------------------------------------
// 4. Raw backtrace

// stack/capture.c drops crossfree's own frames from these, keeps the
// depot, and on x86_64 Linux puts its cached unwinder in front.

// Prepares the walker; called once, from cf_capture_set_self during
// cf_platform_init.
void cf_os_backtrace_init(void);

// Fills raw with up to `max` return addresses of the calling thread,
// innermost first, crossfree's own frames included; returns the count. A
// null entry ends the walk. Runs on every allocation the cached unwinder
// does not serve: never allocates, takes no lock of crossfree's, makes no
// syscall once warm.
unsigned cf_os_backtrace(void **raw, unsigned max);

// Code was loaded or unloaded: the walker forgets what it cached about
// code addresses. Safe before initialisation.
void cf_os_backtrace_forget(void);

// ---------------------------------------------------------------------------
// 5. Modules and symbols

// Fills `out` for `pc`. Module and offset come from the live module list,
// then from the history of unloaded modules. With `names` false, only the
// module and offset are filled (no allocation, no file access). Returns
// false when not even the module is known (then out->module is "").
// Error path only: it may allocate (callers hold the recursion guard, so
// its allocations go straight to the real allocator) but never takes a lock
// that the hot path holds.
bool cf_symbolize(uintptr_t pc, bool names, cf_frame_info *out);

// Records the currently loaded modules (path, load bias, address range) in
// the history of unloaded modules, so frames in a module that is later
// unloaded still print as module+offset. Called before each unload. Never
// allocates (the history is an mmap'd array).
void cf_symbolize_note_modules(void);

// The address ranges (first to last loadable segment) of the loaded modules
// whose path `want` accepts, at most `max` of them, into lo[]/hi[];
// returns how many. Never allocates; takes the loader's lock, so it is
// called only where the loader may be entered (before a dlopen, after a
// dlclose, at start-up). Ports that cannot list modules return 0.
unsigned cf_os_module_ranges(bool (*want)(const char *path), uintptr_t *lo, uintptr_t *hi,
                             unsigned max);

// Forgets cached debug info (the next cf_symbolize re-reads the modules).
void cf_symbolize_reset(void);

// Offline symbolization, for `crossfree symbolize`: fills `out` for the
// address `offset` (as a report prints it: pc minus the load bias, a return
// address) in the file `module`, read from disk. Separate debug files are
// found as for live frames. Returns false when neither a function nor a
// file was found. May allocate and open files; never runs inside malloc.
bool cf_symbolize_file(const char *module, uintptr_t offset, cf_frame_info *out);

// Sets the debug-info search path (on Linux, elfutils' debuginfo path:
// ":.debug:/usr/lib/debug" when NULL) for every later lookup, and forgets
// cached debug info. Returns false, changing nothing, if the path is too
// long. Ports without a search path accept and ignore it.
bool cf_symbolize_set_debuginfo_path(const char *path);

#endif
