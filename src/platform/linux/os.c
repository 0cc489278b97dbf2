// SPDX-License-Identifier: MIT
// Linux implementation of the OS half of the platform contract beyond the
// POSIX part (posix/os_posix.c): /proc, environ, thread ids. Raw syscalls
// and libc calls known not to allocate.
// Nothing here may call malloc, stdio (except at exit) or getenv's setters.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/platform.h"
#include "support/fmt.h"

extern char **environ;

int cf_os_gettid(void) { return (int)syscall(SYS_gettid); }

bool cf_os_thread_name(int os_tid, char *buf, size_t cap) {
    if (cap == 0)
        return false;
    buf[0] = '\0';
    // The calling thread's own (every thread's at its end): one call.
    char own[16];
    if (os_tid == cf_os_gettid() && prctl(PR_GET_NAME, own, 0, 0, 0) == 0) {
        own[sizeof own - 1] = '\0';
        cf_strlcpy(buf, own, cap);
        return buf[0] != '\0';
    }
    char path[64];
    cf_buf p;
    cf_buf_init(&p, path, sizeof path);
    cf_buf_printf(&p, "/proc/self/task/%d/comm", os_tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    // The kernel ends the name with a newline.
    size_t len = (size_t)n;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
        len--;
    buf[len] = '\0';
    return len > 0;
}

const char *cf_os_getenv(const char *name) {
    size_t n = cf_strlen(name);
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (cf_streqn(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

void cf_os_exe_path(char *buf, size_t cap) {
    if (cap == 0)
        return;
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    buf[n > 0 ? (size_t)n : 0] = '\0';
}

size_t cf_os_cmdline(char *buf, size_t cap) {
    if (cap == 0)
        return 0;
    size_t have = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        for (;;) {
            ssize_t r = read(fd, buf + have, cap - 1 - have);
            if (r <= 0)
                break;
            have += (size_t)r;
            if (have == cap - 1)
                break;
        }
        close(fd);
    }
    buf[have] = '\0';
    return have;
}

// Reads `path` line by line into a fixed buffer, calling `line` for each
// complete line until it returns true. Lines longer than the buffer are
// skipped whole: the rest of one, up to its newline, is no line of its own.
static void each_line(const char *path, bool (*line)(const char *s, size_t n, void *ctx),
                      void *ctx) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return;
    char buf[4096];
    size_t have = 0;
    bool done = false, skipping = false;
    while (!done) {
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t start = 0;
        for (size_t i = 0; i < have && !done; i++) {
            if (buf[i] != '\n')
                continue;
            if (!skipping)
                done = line(buf + start, i - start, ctx);
            skipping = false;
            start = i + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof buf) {
            have = 0; // a line longer than the buffer: drop it to its end
            skipping = true;
        }
    }
    close(fd);
}

static const char *parse_hex(const char *s, const char *end, uintptr_t *out) {
    uintptr_t v = 0;
    if (end - s > 2 && s[0] == '0' && (s[1] | 32) == 'x')
        s += 2;
    const char *start = s;
    for (; s < end; s++) {
        char c = (char)(*s | 32);
        if (*s >= '0' && *s <= '9')
            v = v * 16 + (uintptr_t)(*s - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else
            break;
    }
    *out = v;
    return s > start ? s : NULL;
}

typedef struct mapping_query {
    uintptr_t addr, lo, hi;
    bool readable, found;
} mapping_query;

// One line of /proc/self/maps: "lo-hi perms ...".
static bool mapping_line(const char *s, size_t n, void *ctx) {
    mapping_query *q = ctx;
    const char *end = s + n;
    uintptr_t l, h;
    const char *p = parse_hex(s, end, &l);
    if (p == NULL || p >= end || *p != '-')
        return false;
    p = parse_hex(p + 1, end, &h);
    if (p == NULL || q->addr < l || q->addr >= h)
        return false;
    q->lo = l;
    q->hi = h;
    q->readable = p + 1 < end && p[1] == 'r';
    q->found = true;
    return true;
}

// Finds the mapping in /proc/self/maps that contains `a`; returns its range
// and whether it is readable.
static bool mapping_of(uintptr_t a, uintptr_t *lo, uintptr_t *hi, bool *readable) {
    mapping_query q = {.addr = a};
    each_line("/proc/self/maps", mapping_line, &q);
    *lo = q.lo;
    *hi = q.hi;
    *readable = q.readable;
    return q.found;
}

bool cf_os_addr_on_current_stack(uintptr_t addr) {
    volatile char here = 0;
    uintptr_t lo, hi;
    bool readable;
    if (!mapping_of((uintptr_t)&here, &lo, &hi, &readable))
        return false;
    return addr >= lo && addr < hi;
}

bool cf_os_readable_from(uintptr_t addr, uintptr_t *lo) {
    uintptr_t hi;
    bool readable;
    return mapping_of(addr, lo, &hi, &readable) && readable;
}

typedef struct jit_query {
    uintptr_t pc;
    bool found;
    bool jit;
    char *name;
    size_t cap;
} jit_query;

// "lo-hi perms offset dev inode [path]": executable and not backed by a
// file (no path, or an [anon:...] name) means generated code.
static bool maps_line(const char *s, size_t n, void *ctx) {
    jit_query *q = ctx;
    const char *end = s + n;
    uintptr_t lo, hi;
    const char *p = parse_hex(s, end, &lo);
    if (p == NULL || p >= end || *p != '-')
        return false;
    p = parse_hex(p + 1, end, &hi);
    if (p == NULL || q->pc < lo || q->pc >= hi)
        return false;
    q->found = true;
    while (p < end && *p == ' ')
        p++;
    bool exec = end - p >= 3 && p[2] == 'x';
    // Skip perms, offset, dev, inode to the path.
    for (int field = 0; field < 4 && p < end; field++) {
        while (p < end && *p != ' ')
            p++;
        while (p < end && *p == ' ')
            p++;
    }
    bool anonymous = p >= end || cf_streqn(p, "[anon:", 6) || cf_streqn(p, "/memfd:", 7);
    q->jit = exec && anonymous;
    return true;
}

// "START SIZE NAME" (hex, with or without 0x); the last entry covering pc
// wins, since a JIT may reuse code memory for a newer function.
static bool perf_map_line(const char *s, size_t n, void *ctx) {
    jit_query *q = ctx;
    const char *end = s + n;
    uintptr_t start, size;
    const char *p = parse_hex(s, end, &start);
    if (p == NULL || p >= end || *p != ' ')
        return false;
    p = parse_hex(p + 1, end, &size);
    if (p == NULL || p >= end || *p != ' ')
        return false;
    if (q->pc >= start && q->pc - start < size) {
        size_t len = (size_t)(end - (p + 1));
        if (len >= q->cap)
            len = q->cap - 1;
        memcpy(q->name, p + 1, len);
        q->name[len] = '\0';
    }
    return false;
}

bool cf_os_jit_frame(uintptr_t pc, char *name, size_t cap) {
    if (cap == 0)
        return false;
    name[0] = '\0';
    jit_query q = {pc, false, false, name, cap};
    each_line("/proc/self/maps", maps_line, &q);
    if (!q.jit)
        return false;
    char path[64];
    cf_buf b;
    cf_buf_init(&b, path, sizeof path);
    cf_buf_printf(&b, "/tmp/perf-%d.map", (int)getpid());
    each_line(path, perf_map_line, &q);
    if (name[0] == '\0' && access(path, F_OK) == 0) {
        // Mono (MONO_ENV_OPTIONS=--jitmap) writes its map through stdio
        // and never flushes it: the newest methods, the ones a report is
        // about, are still in the process's buffer. Flushing every stream
        // pushes them out (and the program's own buffered output with
        // them, which an abort would otherwise lose). Error path only.
        fflush(NULL);
        each_line(path, perf_map_line, &q);
    }
    return true;
}
