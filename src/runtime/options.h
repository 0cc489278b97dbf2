// SPDX-License-Identifier: MIT
// Options: the struct generated from options.inc, and a parser that never
// allocates or crashes. Bad input becomes a one-line warning and the
// default stays; the caller decides where warnings go.
#ifndef CF_RUNTIME_OPTIONS_H
#define CF_RUNTIME_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "support/fmt.h"

#define CF_OPTION_STR_MAX 1024

typedef struct cf_options {
#define CF_OPTION_BOOL(name, def, doc) bool name;
#define CF_OPTION_INT(name, def, lo, hi, doc) int64_t name;
#define CF_OPTION_STR(name, def, doc) char name[CF_OPTION_STR_MAX];
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
} cf_options;

extern cf_options cf_flags;

void cf_options_set_defaults(cf_options *o);

// Parses "key=value:key=value" (':' or whitespace between pairs) into `o`.
// Each problem appends one line "==PID==crossfree: warning: ...\n" (see
// support/log.h) to `warnings`.
// Returns the number of problems found.
int cf_options_parse(cf_options *o, const char *text, cf_buf *warnings);

// The checks a value needs beyond its type, which only the library's
// other parts can make: report_format's words, host_modules' entries and
// semantics=windows' settings (each configures its part as it checks).
// Problems append warning lines to `warnings`, and a bad report_format
// falls back to text. Returns whether semantics=windows is on. The library
// calls it once at start-up; `crossfree run` calls it to refuse, before the
// program starts, any value the library would warn about.
bool cf_options_configure(cf_options *o, cf_buf *warnings);

// Appends the warning line for a malformed value of option `key` (the
// first 64 bytes of it), naming what was `expected`, to `warnings`. For
// checks made outside the parser (semantics=windows' options).
void cf_options_warn_malformed(cf_buf *warnings, const char *key, const char *value,
                               const char *expected);

// Appends the help text: one line per option with its default.
void cf_options_help(cf_buf *out);

#endif
