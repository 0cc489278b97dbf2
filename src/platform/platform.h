// SPDX-License-Identifier: MIT
// The platform contract: every service the portable code needs from the OS.
// Each platform (src/platform/linux, later windows and macos) implements all
// of these. Unless a comment says otherwise, a function here may run before
// initialisation, inside malloc or free, and never calls the wrapped
// allocator.
#ifndef CF_PLATFORM_H
#define CF_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

// Anonymous zeroed pages, outside the user's heap. NULL on failure.
// `reserve_only` asks for address space that is committed lazily on touch.
void *cf_os_map(size_t bytes, bool reserve_only);
void cf_os_unmap(void *p, size_t bytes);
size_t cf_os_page_size(void);

// Writes all of [s, s+n) to fd, retrying on EINTR and short writes.
void cf_os_write_all(int fd, const char *s, size_t n);
#define CF_FD_STDERR 2

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
// Lets another thread run (only called under contention).
void cf_os_yield(void);
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

#endif
