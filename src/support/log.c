// SPDX-License-Identifier: MIT
// crossfree's own lines: one prefix, one place. Lines are formatted into a
// stack buffer and written with one write(2), so that lines from two
// threads or two processes sharing a log never interleave mid-line.
#include "support/log.h"

#include <stdatomic.h>

#include "platform/platform.h"

static atomic_int log_fd = CF_FD_STDERR;

void cf_log_set_fd(int fd) { atomic_store_explicit(&log_fd, fd, memory_order_relaxed); }

int cf_log_fd(void) { return atomic_load_explicit(&log_fd, memory_order_relaxed); }

static const char *level_words(cf_log_level level) {
    switch (level) {
    case CF_LOG_WARNING:
        return "warning: ";
    case CF_LOG_ERROR:
        return "error: ";
    default:
        return "";
    }
}

void cf_log_vappend(cf_buf *b, cf_log_level level, const char *fmt, va_list ap) {
    size_t start = b->len;
    // One byte is held back for the newline (and one is the NUL).
    if (b->cap < 2 || b->cap - b->len < 2) {
        b->truncated = true;
        return;
    }
    size_t cap = b->cap;
    bool was_truncated = b->truncated;
    b->truncated = false;
    b->cap = cap - 1;
    cf_buf_printf(b, "==%d==crossfree: %s", cf_os_getpid(), level_words(level));
    size_t text = b->len;
    if (b->truncated) {
        // Not even the prefix fits: a line without it would be no line of
        // ours, so there is none.
        b->len = start;
        b->data[start] = '\0';
    } else {
        cf_buf_vprintf(b, fmt, ap);
        if (b->truncated && b->len >= text + 3) {
            b->data[b->len - 3] = b->data[b->len - 2] = b->data[b->len - 1] = '.';
        }
        b->data[b->len++] = '\n';
        b->data[b->len] = '\0';
    }
    b->cap = cap;
    b->truncated = b->truncated || was_truncated;
}

void cf_log_append(cf_buf *b, cf_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cf_log_vappend(b, level, fmt, ap);
    va_end(ap);
}

void cf_log_write(const cf_buf *b) {
    if (b->len > 0)
        cf_os_write_all(cf_log_fd(), b->data, b->len);
}

static void write_line(cf_log_level level, const char *fmt, va_list ap) CF_PRINTF_FORMAT(2, 0);
static void write_line(cf_log_level level, const char *fmt, va_list ap) {
    char line[CF_LOG_LINE_MAX];
    cf_buf b;
    cf_buf_init(&b, line, sizeof line);
    cf_log_vappend(&b, level, fmt, ap);
    cf_log_write(&b);
}

void cf_log_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line(CF_LOG_NOTE, fmt, ap);
    va_end(ap);
}

void cf_log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line(CF_LOG_WARNING, fmt, ap);
    va_end(ap);
}

void cf_log_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line(CF_LOG_ERROR, fmt, ap);
    va_end(ap);
}
