// SPDX-License-Identifier: MIT
// Suppressions: rules `KIND:PATTERN` that silence known errors. The rules
// live in a fixed table filled once at start-up (no malloc, ever); matching
// runs on the error path only. Reading the file is the runtime's job, so
// this module stays free of platform calls and is unit tested directly.
#ifndef CF_REPORT_SUPPRESS_H
#define CF_REPORT_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"
#include "support/fmt.h"

#define CF_SUPP_MAX_RULES 256
#define CF_SUPP_PATTERN_MAX 255        // bytes of one pattern
#define CF_SUPP_FILE_MAX (64u * 1024u) // bytes of a suppressions file that are read
#define CF_SUPP_MAX_MESSAGES 16        // problems described one by one, then counted

// Parses the suppressions in [text, text+len) and appends their rules to the
// table. `file` only names the source in messages. Each problem (a line
// without ':', an unknown kind, an empty or too long pattern, a NUL byte,
// more than CF_SUPP_MAX_RULES rules) appends one line to `errors` naming
// the file and the line number; the line is ignored, the others are kept.
// Returns the number of problems.
unsigned cf_suppressions_parse(const char *file, const char *text, size_t len, cf_buf *errors);

// Rules in the table.
unsigned cf_suppressions_count(void);

// Empties the table (tests; start-up fills it once).
void cf_suppressions_clear(void);

// Whether a rule of e's kind (or `*`) matches the demangled function name,
// the module path or the module's file name of any frame of the
// deallocation stack, the allocation stack or the first free's stack.
// Symbolizes with names (the caller holds the recursion guard: the
// symbolizer may allocate). Counts the hit on the rule that matched first.
// Callers serialise calls (the runtime holds its report lock).
bool cf_suppressions_match(const cf_error *e, cf_symbolizer sym);

// Appends one log line (support/log.h) "==PID==crossfree:   N KIND:PATTERN
// (line L)" for each rule that matched at least once, in file order.
void cf_suppressions_log_used(cf_buf *out);

// The same with a prefix of the caller's instead of the log's: what
// runtime/output.c calls until it uses cf_suppressions_log_used; then it
// goes.
void cf_suppressions_format_used(cf_buf *out, const char *line_prefix);

#endif
