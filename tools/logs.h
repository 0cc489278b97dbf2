// SPDX-License-Identifier: MIT
// crossfree's logs read back: JSON Lines records (report_format=json, the
// schema in docs/reports.md) and, for logs written without it, the text
// reports. Both become the same error records, which the report writers
// consume. Reading never fails on bad content: bad lines are counted and
// reported once per file on stderr. JSON is read with jansson, after bytes
// that are not UTF-8 have been made U+FFFD (jansson refuses them, and a log
// may hold a Latin-1 path or half a character where a line was cut).
#ifndef CLI_LOGS_H
#define CLI_LOGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

// ---------------------------------------------------------------------------
// Arena: every string and frame of the records read lives here
// ---------------------------------------------------------------------------

typedef struct cli_arena {
    struct cli_chunk *chunks;
} cli_arena;

void *cli_arena_alloc(cli_arena *a, size_t bytes); // zeroed; exits on out-of-memory
char *cli_arena_strdup(cli_arena *a, const char *s);
void cli_arena_free(cli_arena *a);

// ---------------------------------------------------------------------------
// JSON, through jansson
// ---------------------------------------------------------------------------

// Parses one JSON value from [text, text+len) (one log line), invalid UTF-8
// repaired first. NULL and *err filled when it is not JSON. Escaped NULs
// are accepted (strings read through cli_record_from_json turn them into
// U+FFFD).
json_t *cli_json_parse(const char *text, size_t len, json_error_t *err);
// A JSON string of s with invalid UTF-8 repaired; null for NULL.
json_t *cli_json_string(const char *s);
// Makes jansson allocate through cli_xmalloc, so that running out of
// memory ends the command as everywhere else in it.
void cli_json_init(void);

typedef struct cli_frame {
    const char *pc;       // "0x7f..."; NULL if absent
    const char *module;   // absolute path; NULL if unknown
    const char *offset;   // "0x1139", offset in module; NULL if unknown
    const char *function; // NULL if unknown
    const char *file;     // NULL if unknown
    long long line;       // 0 if unknown
    bool unloaded;        // the module was dlclose'd after the stack was recorded
    bool inlined;         // a function inlined at pc, listed before the one it is in
} cli_frame;

typedef struct cli_stack {
    bool present; // the record has this stack (possibly empty)
    cli_frame *frames;
    size_t n;
} cli_stack;

// One side of an error: who allocated, who freed, who freed first.
typedef struct cli_side {
    bool present;
    const char *family;   // "new[]", "malloc", ...; NULL if unknown
    const char *function; // "operator new[]", "free()", ...
    long long thread;     // -1 if unknown
} cli_side;

// A thread the record names (JSON "threads", or the text report's
// "Thread T2 (consumer, tid 4242) created by T0 here:" lines).
typedef struct cli_thread {
    long long id;         // crossfree's number, the N of TN
    long long os_tid;     // -1 if unknown
    const char *name;     // NULL if unknown
    bool main;            // the process's main thread
    long long created_by; // -1 if not known
    cli_stack creation_stack;
} cli_thread;

typedef struct cli_record {
    const char *kind;    // "alloc-dealloc-mismatch", ...
    const char *message; // the plain-words line; never NULL ("" if absent)
    long long pid;       // -1 if unknown
    const char *executable;
    const char **argv; // command line; argc entries
    size_t argc;
    long long thread; // -1 if unknown
    const char *address;
    long long size; // -1 if unknown
    cli_side allocated_by, freed_by, first_free;
    cli_stack dealloc_stack, alloc_stack, first_free_stack;
    // What the library's text report says besides the stacks. `freed_from`
    // is the FFI host that made the bad call, tagged `[host boundary: HOST]`
    // on frame `freed_from_frame` of dealloc_stack (-1: no such frame);
    // `sides` the line "freed from HOST (frame #N); allocated in ...";
    // `windows_view` the "Linux: ..." line of semantics=windows, and
    // `windows_only` whether it says only Windows rejects the pair; `hint`
    // the fix, without "HINT: ". Each NULL when the log does not say it.
    const char *freed_from;
    long long freed_from_frame;
    const char *sides;
    const char *windows_view;
    bool windows_only;
    const char *hint;
    const char *where, *where_module; // invalid-free only
    const char *block_address;        // invalid-free inside a block: the block's start
    cli_thread *threads;              // the threads named, the calling thread first
    size_t n_threads;
    bool truncated;   // the library left frames out
    const char *time; // "2026-11-26T05:40:00.123456Z"; NULL if unknown
    const char *log;  // the file it was read from
    size_t line_no;   // line of its first text in that file
} cli_record;

typedef struct cli_logs {
    cli_arena arena;
    cli_record *records;
    size_t n, cap;
    bool unreadable; // some file could not be read at all
} cli_logs;

// Reads one log file ("-" for stdin) and appends its records. Problems go
// to stderr prefixed with `cli_prog`. Returns false if the file could not
// be read (and sets logs->unreadable).
bool cli_logs_read(cli_logs *logs, const char *path);
void cli_logs_free(cli_logs *logs);

// Appends the records in a log's bytes, [data, data+size), named `label` in
// messages. It writes NULs over the line ends, data[size] included, so
// data must have size+1 bytes (as cli_read_file gives).
void cli_logs_parse(cli_logs *logs, const char *label, char *data, size_t size);

// Fills `r` from one parsed JSON record, its strings copied into the
// arena. Returns false (and a reason) when the value is not a crossfree
// record.
bool cli_record_from_json(cli_arena *arena, const json_t *obj, cli_record *r, const char **why);

// A text report's frame line, "    #N 0xPC[ in FUNC[ FILE:LINE|+0xOFF]] (MODULE+0xOFF)",
// optionally followed by " [inlined]", " [unloaded]" and " [host boundary: HOST]".
// Spans point into the line; a missing part has length 0.
typedef struct cli_text_frame {
    size_t n;       // the frame number
    const char *pc; // "0x..."
    size_t pc_len;
    const char *function, *file;
    size_t function_len, file_len;
    unsigned long long func_offset; // FUNC+0xOFF, 0 if absent
    unsigned long long line;
    const char *module; // NULL for "<unknown module>"
    size_t module_len;
    unsigned long long offset;
    bool unloaded;
    bool inlined;
    const char *host; // HOST of a " [host boundary: HOST]" tag; NULL without one
    size_t host_len;
} cli_text_frame;

bool cli_parse_frame_line(const char *line, size_t len, cli_text_frame *out);

// Whether the frame belongs to user code: it has a file, and its module is
// not the C or C++ runtime, the loader, libffi or crossfree itself.
bool cli_frame_is_user(const cli_frame *f);

#endif
