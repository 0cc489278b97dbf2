// SPDX-License-Identifier: MIT
// Windows implementation of the OS half of the platform contract
// (platform.h), on Win32 calls that never reach the C runtime's heap. Nothing
// here may call malloc or stdio (except fflush at exit): these functions run
// inside the CRT and CoTaskMem wrappers.
#include <errno.h>
#include <stdio.h>
#include <windows.h>

#include "platform/platform.h"
#include "support/fmt.h"
#include "support/lock.h"

// The exit status of a process crossfree stops after a report (halt_on_error=1):
// 128 + SIGABRT, the number a POSIX shell shows for an aborted program, so
// scripts can test for the same value on Linux and Windows (docs/windows.md).
#define CF_WINDOWS_ABORT_STATUS 134

// Win32 reserves address space that cannot be committed on first touch, so
// every mapping is committed up front; untouched pages still cost no RAM.
void *cf_os_map(size_t bytes, bool reserve_only) {
    (void)reserve_only;
    return VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void cf_os_unmap(void *p, size_t bytes) {
    (void)bytes;
    VirtualFree(p, 0, MEM_RELEASE);
}

size_t cf_os_page_size(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}

// ---------------------------------------------------------------------------
// Descriptors: 1 and 2 are the standard handles, 3 and up index log_handles.

#define MAX_LOGS 16
static HANDLE log_handles[MAX_LOGS];
static cf_lock log_lock;

static HANDLE handle_of(int fd) {
    if (fd == 1)
        return GetStdHandle(STD_OUTPUT_HANDLE);
    if (fd == CF_FD_STDERR)
        return GetStdHandle(STD_ERROR_HANDLE);
    if (fd >= 3 && fd < 3 + MAX_LOGS)
        return log_handles[fd - 3];
    return INVALID_HANDLE_VALUE;
}

int cf_os_write_all(int fd, const char *s, size_t n) {
    DWORD saved = GetLastError(); // reports happen inside free(): keep the caller's error
    int saved_errno = errno;
    HANDLE h = handle_of(fd);
    int err = h == NULL || h == INVALID_HANDLE_VALUE ? EBADF : 0;
    while (err == 0 && n > 0) {
        DWORD w = 0;
        DWORD chunk = n > 0x40000000u ? 0x40000000u : (DWORD)n;
        if (!WriteFile(h, s, chunk, &w, NULL) || w == 0) {
            err = GetLastError() == ERROR_DISK_FULL ? ENOSPC : EIO;
            break;
        }
        s += w;
        n -= w;
    }
    errno = saved_errno;
    SetLastError(saved);
    return err;
}

// Windows refuses to delete a file open without FILE_SHARE_DELETE, as
// crossfree opens its logs: a log cannot lose its name while open.
bool cf_os_file_unlinked(int fd) {
    (void)fd;
    return false;
}

static int errno_of(DWORD err) {
    switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
        return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
        return EACCES;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return EEXIST;
    case ERROR_WRITE_PROTECT:
        return EROFS;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return ENOSPC;
    case ERROR_FILENAME_EXCED_RANGE:
        return ENAMETOOLONG;
    case ERROR_TOO_MANY_OPEN_FILES:
        return EMFILE;
    default:
        return EACCES;
    }
}

int cf_os_open_log(const char *path) {
    DWORD saved = GetLastError();
    // CREATE_NEW is O_EXCL; FILE_FLAG_OPEN_REPARSE_POINT refuses to follow a
    // symbolic link to somewhere else (a link itself already exists, so
    // CREATE_NEW fails on it anyway). The handle is not inheritable.
    HANDLE h = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           CREATE_NEW, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        int e = errno_of(GetLastError());
        SetLastError(saved);
        return -e;
    }
    SetLastError(saved);
    cf_lock_acquire(&log_lock);
    for (int i = 0; i < MAX_LOGS; i++) {
        if (log_handles[i] == NULL) {
            log_handles[i] = h;
            cf_lock_release(&log_lock);
            return 3 + i;
        }
    }
    cf_lock_release(&log_lock);
    CloseHandle(h);
    return -EMFILE;
}

void cf_os_close(int fd) {
    if (fd < 3 || fd >= 3 + MAX_LOGS)
        return;
    cf_lock_acquire(&log_lock);
    HANDLE h = log_handles[fd - 3];
    log_handles[fd - 3] = NULL;
    cf_lock_release(&log_lock);
    if (h != NULL)
        CloseHandle(h);
}

long cf_os_read_file(const char *path, char *buf, size_t cap) {
    DWORD saved = GetLastError();
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        int e = errno_of(GetLastError());
        SetLastError(saved);
        return -e;
    }
    size_t have = 0;
    long result = 0;
    while (have < cap) {
        DWORD r = 0;
        DWORD want = cap - have > 0x10000000u ? 0x10000000u : (DWORD)(cap - have);
        if (!ReadFile(h, buf + have, want, &r, NULL)) {
            result = -errno_of(GetLastError());
            break;
        }
        if (r == 0)
            break;
        have += r;
    }
    CloseHandle(h);
    SetLastError(saved);
    return result < 0 ? result : (long)have;
}

const char *cf_os_strerror(int err) {
    switch (err) {
    case ENOENT:
        return "No such file or directory";
    case EACCES:
        return "Permission denied";
    case EEXIST:
        return "File exists (not overwritten)";
    case EROFS:
        return "Read-only file system";
    case ENOSPC:
        return "No space left on device";
    case ENAMETOOLONG:
        return "File name too long";
    case EMFILE:
        return "Too many open files";
    default:
        return "Cannot open";
    }
}

// ---------------------------------------------------------------------------
// Process, threads, time

int cf_os_getpid(void) { return (int)GetCurrentProcessId(); }

int cf_os_gettid(void) { return (int)GetCurrentThreadId(); }

// GetThreadDescription allocates its answer with LocalAlloc: not on the
// report path. Reports print thread ids without names.
bool cf_os_thread_name(int os_tid, char *buf, size_t cap) {
    (void)os_tid;
    if (cap > 0)
        buf[0] = '\0';
    return false;
}

void cf_os_yield(void) { SwitchToThread(); }

// Windows threads are not cancelled at system calls (TerminateThread
// stops a thread anywhere, which no code survives).
int cf_os_cancel_disable(void) { return 0; }

void cf_os_cancel_restore(int state) { (void)state; }

uint64_t cf_os_time_us(void) {
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; // 100 ns since 1601
    return t / 10u - 11644473600000000ull;
}

// GetEnvironmentVariableA copies into our buffer; the few names crossfree
// reads each get a slot of their own, so returned pointers stay valid.
#define ENV_SLOTS 4
#define ENV_VALUE_MAX 4096
static struct {
    char name[64];
    char value[ENV_VALUE_MAX];
    bool set;
} env_cache[ENV_SLOTS];
static cf_lock env_lock;

const char *cf_os_getenv(const char *name) {
    if (cf_strlen(name) >= sizeof env_cache[0].name)
        return NULL;
    DWORD saved = GetLastError();
    const char *result = NULL;
    cf_lock_acquire(&env_lock);
    int slot = -1;
    for (int i = 0; i < ENV_SLOTS && slot < 0; i++)
        if (env_cache[i].name[0] == '\0' || cf_strcmp(env_cache[i].name, name) == 0)
            slot = i;
    if (slot >= 0) {
        cf_strlcpy(env_cache[slot].name, name, sizeof env_cache[slot].name);
        DWORD n = GetEnvironmentVariableA(name, env_cache[slot].value, ENV_VALUE_MAX);
        env_cache[slot].set = n > 0 && n < ENV_VALUE_MAX;
        if (!env_cache[slot].set)
            env_cache[slot].value[0] = '\0';
        result = env_cache[slot].set ? env_cache[slot].value : NULL;
    }
    cf_lock_release(&env_lock);
    SetLastError(saved);
    return result;
}

void cf_os_exe_path(char *buf, size_t cap) {
    if (cap == 0)
        return;
    DWORD n = GetModuleFileNameA(NULL, buf, (DWORD)(cap > 0x7fffffff ? 0x7fffffff : cap));
    buf[n < cap ? n : cap - 1] = '\0';
}

// Splits GetCommandLineA by the rules of CommandLineToArgvW (quotes group,
// backslashes before a quote escape it), which needs no allocation here.
size_t cf_os_cmdline(char *buf, size_t cap) {
    if (cap == 0)
        return 0;
    const char *s = GetCommandLineA();
    size_t have = 0;
    while (s != NULL && *s != '\0' && have + 1 < cap) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            break;
        bool quoted = false;
        while (*s != '\0' && (quoted || (*s != ' ' && *s != '\t')) && have + 1 < cap) {
            size_t slashes = 0;
            while (*s == '\\') {
                slashes++;
                s++;
            }
            if (*s == '"') {
                for (size_t i = 0; i < slashes / 2 && have + 1 < cap; i++)
                    buf[have++] = '\\';
                if (slashes % 2 == 1)
                    buf[have++] = '"';
                else
                    quoted = !quoted;
                s++;
            } else {
                for (size_t i = 0; i < slashes && have + 1 < cap; i++)
                    buf[have++] = '\\';
                if (*s != '\0' && (quoted || (*s != ' ' && *s != '\t')) && have + 1 < cap)
                    buf[have++] = *s++;
            }
        }
        if (have + 1 < cap)
            buf[have++] = '\0';
    }
    buf[have < cap ? have : cap - 1] = '\0';
    return have;
}

_Noreturn void cf_os_abort(void) {
    // A debugger stops here, at the bad call, as it would on SIGABRT.
    if (IsDebuggerPresent())
        DebugBreak();
    TerminateProcess(GetCurrentProcess(), CF_WINDOWS_ABORT_STATUS);
    for (;;)
        ExitProcess(CF_WINDOWS_ABORT_STATUS);
}

_Noreturn void cf_os_exit_now(int status) {
    fflush(NULL); // the program's buffered output is part of its behaviour
    TerminateProcess(GetCurrentProcess(), (UINT)status);
    for (;;)
        ExitProcess((UINT)status);
}

bool cf_os_addr_on_current_stack(uintptr_t addr) {
    // The whole reservation, including pages not committed yet.
    ULONG_PTR lo = 0, hi = 0;
    GetCurrentThreadStackLimits(&lo, &hi);
    return addr >= lo && addr < hi;
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

// RtlCaptureStackBackTrace walks the x64 unwind tables (.pdata), which
// MinGW-w64 and MSVC emit for every function. Past the thread's first frame
// (RtlUserThreadStart) a zero return address ends the walk; Wine's unwinder
// can report stale slots after it, which capture ignores.
void cf_os_backtrace_init(void) {}

unsigned cf_os_backtrace(void **raw, unsigned max) {
    return RtlCaptureStackBackTrace(0, (DWORD)max, raw, NULL);
}

void cf_os_backtrace_forget(void) {}

void cf_os_keep_stderr(void) {} // stderr is a HANDLE there (GetStdHandle at each write)
