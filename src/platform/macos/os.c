// SPDX-License-Identifier: MIT
// macOS implementation of the OS half of the platform contract (platform.h):
// system calls and libSystem functions that do not allocate. Nothing here
// may call malloc or stdio (except at exit), and nothing may depend on
// libSystem having finished its own start-up: the first malloc can come
// from inside libSystem's initializer, before `environ` is set.
#include <crt_externs.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <libproc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysctl.h>
#include <unistd.h>

#include "platform/platform.h"
#include "support/fmt.h"

int cf_os_gettid(void) {
    // The system-wide thread id (what Instruments and lldb show), truncated.
    uint64_t tid = 0;
    pthread_threadid_np(NULL, &tid);
    return (int)tid;
}

// macOS names only the caller's own thread by id without allocating
// (pthread_getname_np takes a pthread_t): the report leaves names out.
bool cf_os_thread_name(int os_tid, char *buf, size_t cap) {
    (void)os_tid;
    if (cap > 0)
        buf[0] = '\0';
    return false;
}

// ---------------------------------------------------------------------------
// The process's arguments and environment as the kernel recorded them

// KERN_PROCARGS2 returns, for a process: int argc, the executable path as
// given to exec, NUL padding, argc arguments, then the environment, each
// NUL-terminated. One sysctl, no allocation: the buffer is mmap'd once.
// It is the fallback for when libSystem has not yet set `environ` and the
// argv pointers (crossfree can start inside libSystem's initializer).
enum { ARGS_UNSET, ARGS_BUSY, ARGS_READY, ARGS_FAILED };
static _Atomic int args_state = ARGS_UNSET;
static char *args_buf;
static size_t args_len;

static bool load_procargs(void) {
    int state = atomic_load_explicit(&args_state, memory_order_acquire);
    while (state == ARGS_BUSY) {
        cf_os_yield();
        state = atomic_load_explicit(&args_state, memory_order_acquire);
    }
    if (state != ARGS_UNSET)
        return state == ARGS_READY;
    int expected = ARGS_UNSET;
    if (!atomic_compare_exchange_strong(&args_state, &expected, ARGS_BUSY))
        return load_procargs();
    int saved = errno;
    int argmax = 0;
    size_t size = sizeof argmax;
    int mib_max[2] = {CTL_KERN, KERN_ARGMAX};
    bool ok = sysctl(mib_max, 2, &argmax, &size, NULL, 0) == 0 && argmax > 0;
    if (ok) {
        // One page more than the kernel fills: the buffer always ends in NULs.
        args_buf = cf_os_map((size_t)argmax + cf_os_page_size(), true);
        size = (size_t)argmax;
        int mib[3] = {CTL_KERN, KERN_PROCARGS2, getpid()};
        ok =
            args_buf != NULL && sysctl(mib, 3, args_buf, &size, NULL, 0) == 0 && size > sizeof(int);
        args_len = ok ? size : 0;
    }
    errno = saved;
    atomic_store_explicit(&args_state, ok ? ARGS_READY : ARGS_FAILED, memory_order_release);
    return ok;
}

// Offset of the first argument in the KERN_PROCARGS2 buffer (after argc,
// the exec path and its padding), and argc; false when unavailable.
static bool procargs_args(size_t *at, int *argc) {
    if (!load_procargs())
        return false;
    memcpy(argc, args_buf, sizeof *argc);
    size_t i = sizeof *argc;
    while (i < args_len && args_buf[i] != '\0') // the exec path
        i++;
    while (i < args_len && args_buf[i] == '\0') // its padding
        i++;
    *at = i;
    return true;
}

// The value of `name` in the environment the process was started with.
static const char *procargs_getenv(const char *name, size_t name_len) {
    size_t i;
    int argc;
    if (!procargs_args(&i, &argc))
        return NULL;
    for (int a = 0; a < argc && i < args_len; a++) // skip the arguments
        i += cf_strlen(args_buf + i) + 1;
    // Each string is NUL-terminated: the kernel copies whole strings and the
    // buffer ends with a NUL.
    while (i < args_len && args_buf[i] != '\0') {
        const char *s = args_buf + i;
        if (cf_streqn(s, name, name_len) && s[name_len] == '=')
            return s + name_len + 1;
        i += cf_strlen(s) + 1;
    }
    return NULL;
}

const char *cf_os_getenv(const char *name) {
    size_t n = cf_strlen(name);
    char ***envp = _NSGetEnviron();
    if (envp != NULL && *envp != NULL) {
        for (char **e = *envp; *e != NULL; e++)
            if (cf_streqn(*e, name, n) && (*e)[n] == '=')
                return *e + n + 1;
        return NULL;
    }
    return procargs_getenv(name, n);
}

void cf_os_exe_path(char *buf, size_t cap) {
    if (cap == 0)
        return;
    // proc_pidpath is one proc_info system call and gives the resolved path.
    char path[PROC_PIDPATHINFO_MAXSIZE];
    int saved = errno;
    int n = proc_pidpath(getpid(), path, sizeof path);
    errno = saved;
    if (n > 0 && (size_t)n < sizeof path) {
        path[n] = '\0';
        cf_strlcpy(buf, path, cap);
        return;
    }
    buf[0] = '\0';
}

// Appends the NUL-terminated string s to buf (truncated to leave room for
// the final NUL); returns the new length.
static size_t append_arg(char *buf, size_t cap, size_t have, const char *s) {
    size_t n = cf_strlen(s) + 1;
    if (n > cap - 1 - have)
        n = cap - 1 - have;
    memcpy(buf + have, s, n);
    return have + n;
}

size_t cf_os_cmdline(char *buf, size_t cap) {
    if (cap == 0)
        return 0;
    size_t have = 0;
    int *argcp = _NSGetArgc();
    char ***argvp = _NSGetArgv();
    size_t i;
    int argc;
    if (argcp != NULL && argvp != NULL && *argvp != NULL) {
        for (int a = 0; a < *argcp && (*argvp)[a] != NULL && have < cap - 1; a++)
            have = append_arg(buf, cap, have, (*argvp)[a]);
    } else if (procargs_args(&i, &argc)) {
        for (int a = 0; a < argc && i < args_len && have < cap - 1; a++) {
            have = append_arg(buf, cap, have, args_buf + i);
            i += cf_strlen(args_buf + i) + 1;
        }
    }
    buf[have] = '\0';
    return have;
}

bool cf_os_addr_on_current_stack(uintptr_t addr) {
    // The stack's highest address and its size, from the thread's own record.
    pthread_t self = pthread_self();
    uintptr_t top = (uintptr_t)pthread_get_stackaddr_np(self);
    size_t size = pthread_get_stacksize_np(self);
    return addr < top && addr >= top - size;
}

bool cf_os_readable_from(uintptr_t addr, uintptr_t *lo) {
    // Only block headers need it, and this port keeps its records in the
    // owner table (CF_BLOCK_HEADERS).
    (void)addr, (void)lo;
    return false;
}

bool cf_os_jit_frame(uintptr_t pc, char *name, size_t cap) {
    // No perf-map convention here yet: JIT frames print as unknown memory.
    (void)pc;
    if (cap > 0)
        name[0] = '\0';
    return false;
}

// ---------------------------------------------------------------------------
// Raw backtrace

// backtrace(3) walks the frame-pointer chain (both macOS ABIs keep frame
// pointers) within the thread's stack bounds and strips pointer
// authentication bits from return addresses. It caches nothing.
void cf_os_backtrace_init(void) {}

unsigned cf_os_backtrace(void **raw, unsigned max) {
    int got = backtrace(raw, (int)max);
    return got > 0 ? (unsigned)got : 0;
}

void cf_os_backtrace_forget(void) {}
