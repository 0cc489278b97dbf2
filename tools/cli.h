// SPDX-License-Identifier: MIT
// What the parts of the crossfree command share: the subcommands' entry
// points, their exit statuses, and a few helpers for reading files and
// printing one-line errors. The command is an ordinary program: it may use
// stdio and malloc freely; it preloads libcrossfree only into what it runs.
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef CF_VERSION
#define CF_VERSION "unknown"
#endif

// `crossfree run` fails before the command starts with one of these; once
// the command runs, its own exit status is returned. They sit just below
// the shell's 126 and 127 (which keep their shell meaning), where test
// programs rarely exit, so a harness can tell them apart.
enum {
    CLI_RUN_LOG_DIR = 122,    // --log-dir cannot be created
    CLI_RUN_NO_LIBRARY = 123, // libcrossfree.so not found
    CLI_RUN_BAD_OPTION = 124, // -o not key=value, unknown key or bad value
    CLI_RUN_USAGE = 125,      // unknown flag, no command after --
    CLI_RUN_CANNOT_EXEC = 126,
    CLI_RUN_NOT_FOUND = 127,
};

// `crossfree report` and `crossfree symbolize`.
enum {
    CLI_OK = 0,
    CLI_ERRORS_FOUND = 1, // report: the logs hold at least one error
    CLI_BAD_INPUT = 2,    // a log could not be read, or a usage error
};

int cli_cmd_run(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_symbolize(int argc, char **argv);

// "crossfree run: " style prefix for messages of the running subcommand.
extern const char *cli_prog;

// Prints "crossfree SUB: message\n" on stderr.
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *cli_xmalloc(size_t n);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);

// A growable string.
typedef struct cli_str {
    char *data; // always NUL-terminated once anything was appended
    size_t len, cap;
} cli_str;

void cli_str_add(cli_str *s, const char *text);
void cli_str_addn(cli_str *s, const char *text, size_t n);
void cli_str_addf(cli_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_str_free(cli_str *s);

// Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0
// if the bytes there are not one (overlong, surrogate, beyond U+10FFFF,
// truncated). ASCII gives 1, NUL too.
size_t cli_utf8_seq_len(const unsigned char *s, size_t n);
// Appends [s, s+n) with each byte that starts no valid UTF-8 sequence, and
// each NUL, replaced by U+FFFD: the result is valid UTF-8 and a C string.
void cli_str_add_utf8(cli_str *out, const char *s, size_t n);

// Reads the whole file ("-" is stdin). Returns false and sets errno on
// failure. The data is NUL-terminated (it may also hold NULs).
bool cli_read_file(const char *path, char **data, size_t *len);

// getopt_long for the subcommands, which pass an optstring starting with
// "+:" (stop at the first operand, so a command's own flags are never
// read; report a missing value apart from an unknown flag). Unlike bare
// getopt_long it takes long flags only by their whole name ("--log" is
// no "--log-dir"), and it prints each problem as one line: an unknown
// flag, a flag without its value, a value given to a flag that takes
// none. Returns the flag's value, -1 after the last flag, or '?' once the
// problem is printed (the caller then exits with its usage status).
int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts);

#endif
