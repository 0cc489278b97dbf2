// SPDX-License-Identifier: MIT
// The writers of `crossfree report` (text, JUnit XML, SARIF 2.1.0, GitHub
// workflow commands) and what they share: the kinds' descriptions, records
// grouped by process, the frame that points at user code, paths made
// relative to the source root. Writers only read the records.
#ifndef CLI_REPORT_OUT_H
#define CLI_REPORT_OUT_H

#include "cli.h"
#include "logs.h"

#include <stdio.h>

typedef struct cli_report_opts {
    FILE *out;
    // Absolute source root without a trailing '/', and its real path (they
    // differ when a symlink is involved); NULL when not given.
    const char *source_root, *source_root_real;
} cli_report_opts;

// What each kind means, for SARIF rules and summaries.
typedef struct cli_kind_info {
    const char *id;   // the stable kind name
    const char *name; // PascalCase, for SARIF rule names
    const char *short_description;
    const char *full_description;
    const char *help;
} cli_kind_info;

// The known kinds, then a generic entry for any other kind name.
const cli_kind_info *cli_kind_info_of(const char *kind);
extern const cli_kind_info cli_known_kinds[];
extern const size_t cli_n_known_kinds;

// Records of one process (one log file and pid), in log order.
typedef struct cli_process {
    const cli_record **records;
    size_t n;
} cli_process;

// Groups logs->records by (log, pid). Free with cli_processes_free.
cli_process *cli_processes(const cli_logs *logs, size_t *n);
void cli_processes_free(cli_process *p, size_t n);

// "seed_host (pid 1234)"; the executable's name, else argv[0], else "process".
void cli_process_name(const cli_record *r, cli_str *out);

// The frame an annotation or SARIF's locations[0] points at: where the bad
// call happened in the user's code, the first user frame (cli_frame_is_user)
// of the deallocation stack, up to the frame where an FFI host entered
// native code; else the first user frame of the allocation stack, else of
// the first free's stack; NULL if no stack has one. *from_free (unless
// from_free is NULL) says whether it is the deallocation stack's.
const cli_frame *cli_primary_frame(const cli_record *r, bool *from_free);

// The words a one-line summary uses: the Windows view when only Windows
// rejects the pair (semantics=windows), else the plain-words message.
const char *cli_record_headline(const cli_record *r);
// "KIND: WORDS[ in FUNCTION][ from HOST]": FUNCTION that of f when it is
// the deallocation stack's (from_free), HOST the FFI host that freed.
void cli_record_headline_text(const cli_record *r, const cli_frame *f, bool from_free,
                              cli_str *out);

// `file` relative to the source root when it lies below it, else NULL.
const char *cli_relative_to_root(const cli_report_opts *o, const char *file);

// The record as the library's text report shows it: ERROR line, plain
// words, the "freed from" and "Linux:" lines, stacks (the host boundary
// tagged), regions and HINT, each line ending in '\n' (no SUMMARY).
void cli_record_text(const cli_record *r, cli_str *out);
// One frame line, as the library prints it: "    #N 0xPC in F FILE:LINE (MODULE+0xOFF)".
void cli_frame_text(size_t n, const cli_frame *f, cli_str *out);
// "main (host.c:23)", "main", "host.c:23" or "" for the frame.
void cli_frame_short(const cli_frame *f, cli_str *out);

void cli_write_text(const cli_logs *logs, const cli_report_opts *o);
void cli_write_github(const cli_logs *logs, const cli_report_opts *o);
void cli_write_junit(const cli_logs *logs, const cli_report_opts *o);
void cli_write_sarif(const cli_logs *logs, const cli_report_opts *o);

#endif
