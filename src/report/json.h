// SPDX-License-Identifier: MIT
// The JSON rendering of an error: one object on one line (JSON Lines), the
// schema in docs/json-report.md that `crossfree report` reads. Like the text
// report it writes into a caller's buffer and never allocates; whatever the
// input bytes or the buffer size, the output is one complete, valid line.
#ifndef CF_REPORT_JSON_H
#define CF_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"
#include "support/fmt.h"

// What a report says about the process besides the error itself.
typedef struct cf_report_meta {
    const char *executable; // absolute path, "" if unknown (JSON null)
    const char *cmdline;    // arguments separated by NULs, as cf_os_cmdline fills it
    size_t cmdline_len;     // bytes of cmdline (a trailing NUL is optional)
    uint64_t time_us;       // microseconds since the Unix epoch, UTC
} cf_report_meta;

// The schema version written as "crossfree": N. Bump it only for changes
// that break readers (renamed or retyped fields); new fields keep it.
#define CF_JSON_SCHEMA_VERSION 1

// Bytes held back while the object is written, so that after the first
// piece that does not fit, the rest of the object (its keys, numbers and
// brackets; strings become null, frames are left out) still fits. Any
// buffer of at least this size gets one complete, valid line.
#define CF_JSON_RESERVE 1024

// Appends one JSON object and "\n" for `e`. Frames that do not fit are left
// out whole (the stacks stay valid arrays) and "truncated" says so. With
// `names` false, frames have no function, file or line (JSON null).
void cf_report_format_json(const cf_error *e, const cf_report_meta *meta, bool names,
                           cf_symbolizer sym, cf_buf *out);

// "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" for `us` microseconds since the epoch,
// computed arithmetically (no gmtime: it may take locks or allocate).
void cf_json_format_time(cf_buf *out, uint64_t us);

#endif
