// SPDX-License-Identifier: MIT
// crossfree's own lines, as opposed to its reports: warnings about options
// and files, errors that turn a feature off, notes at verbosity >= 1. Each
// is one line that always starts the same way,
//   ==PID==crossfree: warning: TEXT   (CF_LOG_WARNING)
//   ==PID==crossfree: error: TEXT     (CF_LOG_ERROR)
//   ==PID==crossfree: TEXT            (CF_LOG_NOTE)
// so that people and tools (runner.py, `crossfree report`) can tell them
// from the program's output. Never allocates; safe inside malloc and free,
// and before start-up has finished.
#ifndef CF_SUPPORT_LOG_H
#define CF_SUPPORT_LOG_H

#include <stdarg.h>

#include "support/fmt.h"

typedef enum cf_log_level {
    CF_LOG_NOTE = 0,
    CF_LOG_WARNING,
    CF_LOG_ERROR,
} cf_log_level;

// Bytes of one line that cf_log_note/warn/error write; a longer line is
// cut and ends in "...".
#define CF_LOG_LINE_MAX 1024

// Where cf_log_note/warn/error write: stderr until the runtime says
// otherwise (it passes the descriptor of its text log, see log_path).
void cf_log_set_fd(int fd);
int cf_log_fd(void);

// Appends one line, prefix and newline included, to `b`. A line that does
// not fit whole is cut, ends in "...\n" and sets b->truncated; when not even
// the prefix fits, nothing is appended (b->truncated is set too). For
// functions that hand their problems to a caller (option parsing, the
// suppressions file) rather than write them.
void cf_log_append(cf_buf *b, cf_log_level level, const char *fmt, ...) CF_PRINTF_FORMAT(3, 4);
void cf_log_vappend(cf_buf *b, cf_log_level level, const char *fmt, va_list ap)
    CF_PRINTF_FORMAT(3, 0);

// Formats one line (at most CF_LOG_LINE_MAX bytes) and writes it to the
// log descriptor with a single write.
void cf_log_note(const char *fmt, ...) CF_PRINTF_FORMAT(1, 2);
void cf_log_warn(const char *fmt, ...) CF_PRINTF_FORMAT(1, 2);
void cf_log_error(const char *fmt, ...) CF_PRINTF_FORMAT(1, 2);

// Writes text made with cf_log_append (any number of whole lines) to the
// log descriptor.
void cf_log_write(const cf_buf *b);

#endif
