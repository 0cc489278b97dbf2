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

// The frame locations[0] points at: the first user frame of the
// deallocation stack, else of the allocation stack, else of the first
// free's stack; NULL if no stack has one.
const cli_frame *cli_primary_frame(const cli_record *r);

// `file` relative to the source root when it lies below it, else NULL.
const char *cli_relative_to_root(const cli_report_opts *o, const char *file);

// The record as a text report: ERROR line, plain words, stacks, regions,
// each line ending in '\n' (no SUMMARY or HINT: the log has those).
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
