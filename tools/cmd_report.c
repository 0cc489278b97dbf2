// SPDX-License-Identifier: MIT
// `crossfree report`: reads logs, writes them in the chosen format and
// exits 0 when they hold no error, 1 when they hold some, 2 when a log
// could not be read. Also the pieces every writer shares, and the text and
// GitHub writers (JUnit and SARIF have files of their own).
#include "report_out.h"

#include "support/fmt.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char report_usage[] =
    "usage: crossfree report [--format text|junit|sarif|github] [--source-root DIR]\n"
    "                        [--output FILE] LOG...\n"
    "\n"
    "Reads crossfree logs (JSON Lines from report_format=json; text reports are\n"
    "read too, with less detail; a directory stands for the files in it) and\n"
    "writes every error they hold:\n"
    "\n"
    "  --format text     a readable summary (the default)\n"
    "  --format junit    JUnit XML: a testsuite per process, a failing testcase per error\n"
    "  --format sarif    SARIF 2.1.0 for code scanning (GitHub, VS Code, ...)\n"
    "  --format github   GitHub Actions ::error annotations\n"
    "  --source-root DIR write source paths relative to DIR (SARIF, GitHub)\n"
    "  --output FILE     write to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no error in the logs, 1 errors found, 2 a log could not be\n"
    "read (or a usage error).\n";

// ---------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------

const cli_kind_info cli_known_kinds[] = {
    {"alloc-dealloc-mismatch", "AllocDeallocMismatch",
     "Memory released by a deallocator of another allocator family",
     "A live block was released through a deallocator that does not belong to the allocator "
     "that made it: new[] freed by free(), malloc() freed by delete, and so on. It may work by "
     "luck on one platform and corrupt the heap on another (Windows, or any custom allocator).",
     "Release the block with the deallocator that matches its allocator. If another language "
     "frees it, export a release function from the library that allocated it and call that, "
     "or allocate the buffer with the allocator the other side frees with."},
    {"double-free", "DoubleFree", "Memory released twice",
     "A block was released again after it had already been released.",
     "Clear the pointer after the first release, or give the block a single owner."},
    {"invalid-free", "InvalidFree", "A pointer no tracked allocator handed out was released",
     "A deallocator got a pointer that no tracked allocator returned: an interior pointer, a "
     "stack or static address, or memory from an allocator that bypasses libc.",
     "Pass a deallocator only the exact pointer its allocator returned; memory from another "
     "allocator must go back to that allocator."},
    {"new-delete-size-mismatch", "NewDeleteSizeMismatch",
     "A sized operator delete was given another size than the block's",
     "A sized operator delete released a block of the right family with a size other than the "
     "one operator new was given, as when an object is deleted through a pointer to a base "
     "class without a virtual destructor. Allocators that trust the size free the wrong amount.",
     "Pass the size operator new was given, or give the base class a virtual destructor."},
    {"new-delete-alignment-mismatch", "NewDeleteAlignmentMismatch",
     "An aligned operator delete was given an alignment the block does not have",
     "An aligned operator delete released a block of the right family with an alignment that "
     "the block's address does not satisfy, so it cannot be the one operator new was given.",
     "Pass the alignment operator new was given, or delete the object through a pointer to its "
     "own type."},
};
const size_t cli_n_known_kinds = sizeof cli_known_kinds / sizeof cli_known_kinds[0];

static const cli_kind_info other_kind = {
    NULL, "CrossfreeError", "An error reported by crossfree",
    "An error of a kind this version of the crossfree command does not know.",
    "See the log and docs/reports.md."};

const cli_kind_info *cli_kind_info_of(const char *kind) {
    for (size_t i = 0; i < cli_n_known_kinds; i++) {
        if (strcmp(kind, cli_known_kinds[i].id) == 0)
            return &cli_known_kinds[i];
    }
    return &other_kind;
}

// ---------------------------------------------------------------------------
// Processes, frames, paths
// ---------------------------------------------------------------------------

cli_process *cli_processes(const cli_logs *logs, size_t *n) {
    cli_process *p = cli_xmalloc((logs->n + 1) * sizeof *p);
    size_t np = 0;
    for (size_t i = 0; i < logs->n; i++) {
        const cli_record *r = &logs->records[i];
        cli_process *into = NULL;
        for (size_t k = 0; k < np && into == NULL; k++) {
            const cli_record *first = p[k].records[0];
            if (first->pid == r->pid && strcmp(first->log, r->log) == 0)
                into = &p[k];
        }
        if (into == NULL) {
            into = &p[np++];
            into->records = cli_xmalloc(logs->n * sizeof *into->records);
            into->n = 0;
        }
        into->records[into->n++] = r;
    }
    *n = np;
    return p;
}

void cli_processes_free(cli_process *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(p[i].records);
    free(p);
}

void cli_process_name(const cli_record *r, cli_str *out) {
    const char *exe = r->executable;
    if (exe == NULL || exe[0] == '\0')
        exe = r->argc > 0 ? r->argv[0] : "process";
    cli_str_add(out, cf_path_base(exe));
    if (r->pid >= 0)
        cli_str_addf(out, " (pid %lld)", r->pid);
}

// The first user frame among the first `limit` frames of s.
static const cli_frame *first_user(const cli_stack *s, size_t limit) {
    for (size_t i = 0; i < s->n && i < limit; i++) {
        if (cli_frame_is_user(&s->frames[i]))
            return &s->frames[i];
    }
    return NULL;
}

const cli_frame *cli_primary_frame(const cli_record *r, bool *from_free) {
    // Above the frame where an FFI host entered native code run the host's
    // interpreter or VM (CPython's ctypes, a JVM): with debug info they have
    // file:line, but the user's code they run is not in the native stack.
    size_t limit = r->freed_from != NULL && r->freed_from_frame >= 0
                       ? (size_t)r->freed_from_frame + 1
                       : r->dealloc_stack.n;
    const cli_frame *f = first_user(&r->dealloc_stack, limit);
    if (from_free != NULL)
        *from_free = f != NULL;
    if (f == NULL)
        f = first_user(&r->alloc_stack, r->alloc_stack.n);
    if (f == NULL)
        f = first_user(&r->first_free_stack, r->first_free_stack.n);
    return f;
}

const char *cli_record_headline(const cli_record *r) {
    return r->windows_only ? r->windows_view : r->message;
}

static const char *below(const char *root, const char *file) {
    if (root == NULL)
        return NULL;
    size_t n = strlen(root);
    if (strncmp(file, root, n) == 0 && file[n] == '/' && file[n + 1] != '\0')
        return file + n + 1;
    return NULL;
}

const char *cli_relative_to_root(const cli_report_opts *o, const char *file) {
    const char *rel = below(o->source_root, file);
    return rel != NULL ? rel : below(o->source_root_real, file);
}

// ---------------------------------------------------------------------------
// Records as text
// ---------------------------------------------------------------------------

// The frame line, tagged where an FFI host entered native code (host not
// NULL).
static void frame_line(size_t n, const cli_frame *f, const char *host, cli_str *out) {
    cli_str_addf(out, "    #%zu %s", n, f->pc != NULL ? f->pc : "0x0");
    if (f->function != NULL) {
        cli_str_addf(out, " in %s", f->function);
        if (f->file != NULL) {
            cli_str_addf(out, " %s", f->file);
            if (f->line > 0)
                cli_str_addf(out, ":%lld", f->line);
        }
    }
    if (f->module != NULL)
        cli_str_addf(out, " (%s+%s)", f->module, f->offset != NULL ? f->offset : "0x0");
    else
        cli_str_add(out, " (<unknown module>)");
    if (f->inlined)
        cli_str_add(out, " [inlined]");
    if (f->unloaded)
        cli_str_add(out, " [unloaded]");
    if (host != NULL)
        cli_str_addf(out, " [host boundary: %s]", host);
    cli_str_add(out, "\n");
}

void cli_frame_text(size_t n, const cli_frame *f, cli_str *out) { frame_line(n, f, NULL, out); }

void cli_frame_short(const cli_frame *f, cli_str *out) {
    if (f->function != NULL)
        cli_str_add(out, f->function);
    if (f->file != NULL) {
        cli_str_addf(out, "%s%s", f->function != NULL ? " (" : "", cf_path_base(f->file));
        if (f->line > 0)
            cli_str_addf(out, ":%lld", f->line);
        if (f->function != NULL)
            cli_str_add(out, ")");
    }
}

// The stack; `host` tags frame `boundary` (host NULL: no tag).
static void stack_text(const cli_stack *s, const char *host, long long boundary, cli_str *out) {
    if (s->n == 0)
        cli_str_add(out, "    <no stack recorded>\n");
    for (size_t i = 0; i < s->n; i++)
        frame_line(i, &s->frames[i], (long long)i == boundary ? host : NULL, out);
}

static const cli_thread *find_thread(const cli_record *r, long long id) {
    for (size_t i = 0; i < r->n_threads; i++)
        if (r->threads[i].id == id)
            return &r->threads[i];
    return NULL;
}

// "T2 (consumer, tid 4242)" as the library's text report names a thread:
// the number alone for the main thread or one nothing is known of.
static void thread_words(const cli_record *r, long long id, cli_str *out) {
    cli_str_addf(out, "T%lld", id);
    const cli_thread *t = find_thread(r, id);
    if (t == NULL || t->main || t->os_tid <= 0)
        return;
    if (t->name != NULL)
        cli_str_addf(out, " (%s, tid %lld)", t->name, t->os_tid);
    else
        cli_str_addf(out, " (tid %lld)", t->os_tid);
}

static void side_words(const cli_record *r, const cli_side *s, const char *fallback, cli_str *out) {
    cli_str_add(out, s->function != NULL ? s->function : fallback);
    if (s->thread >= 0) {
        cli_str_add(out, " in thread ");
        thread_words(r, s->thread, out);
    }
}

void cli_record_text(const cli_record *r, cli_str *out) {
    cli_str_addf(out, "ERROR: crossfree: %s on address %s", r->kind,
                 r->address != NULL ? r->address : "(unknown)");
    if (r->thread >= 0) {
        cli_str_add(out, " in thread ");
        thread_words(r, r->thread, out);
    }
    cli_str_addf(out, "\n%s\n", r->message);
    if (r->sides != NULL)
        cli_str_addf(out, "%s\n", r->sides);
    if (r->windows_view != NULL)
        cli_str_addf(out, "%s\n", r->windows_view);
    stack_text(&r->dealloc_stack, r->freed_from, r->freed_from_frame, out);
    const char *addr = r->block_address != NULL ? r->block_address
                       : r->address != NULL     ? r->address
                                                : "the block";
    if (r->first_free.present) {
        if (r->size >= 0)
            cli_str_addf(out, "%s is a %lld-byte region freed by ", addr, r->size);
        else
            cli_str_addf(out, "%s was freed by ", addr);
        side_words(r, &r->first_free, "an earlier deallocation", out);
        if (r->first_free_stack.present) {
            cli_str_add(out, " here:\n");
            stack_text(&r->first_free_stack, NULL, -1, out);
        } else {
            cli_str_add(out, " (its stack is no longer remembered)\n");
        }
    }
    if (r->alloc_stack.present) {
        if (r->first_free.present)
            cli_str_add(out, "previously allocated by ");
        else if (r->size >= 0)
            cli_str_addf(out, "%s is a %lld-byte region allocated by ", addr, r->size);
        else
            cli_str_addf(out, "%s was allocated by ", addr);
        side_words(r, &r->allocated_by, "an allocator", out);
        cli_str_add(out, " here:\n");
        stack_text(&r->alloc_stack, NULL, -1, out);
    }
    for (size_t i = 0; i < r->n_threads; i++) {
        const cli_thread *t = &r->threads[i];
        if (t->created_by < 0)
            continue;
        cli_str_add(out, "Thread ");
        thread_words(r, t->id, out);
        cli_str_add(out, " created by ");
        thread_words(r, t->created_by, out);
        cli_str_add(out, " here:\n");
        stack_text(&t->creation_stack, NULL, -1, out);
    }
    if (r->truncated)
        cli_str_add(out, "(the log line was truncated: frames are missing)\n");
    if (r->hint != NULL)
        cli_str_addf(out, "HINT: %s\n", r->hint);
}

void cli_record_headline_text(const cli_record *r, const cli_frame *f, bool from_free,
                              cli_str *out) {
    cli_str_addf(out, "%s: %s", r->kind, cli_record_headline(r));
    if (f != NULL && from_free && f->function != NULL)
        cli_str_addf(out, " in %s", f->function);
    if (r->freed_from != NULL)
        cli_str_addf(out, " from %s", r->freed_from);
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

static void kind_counts(const cli_logs *logs, cli_str *out) {
    // Known kinds first, in their fixed order, then others as they come.
    const char **seen = cli_xmalloc((logs->n + cli_n_known_kinds) * sizeof *seen);
    size_t n_seen = 0;
    for (size_t k = 0; k < cli_n_known_kinds; k++)
        seen[n_seen++] = cli_known_kinds[k].id;
    for (size_t i = 0; i < logs->n; i++) {
        bool known = false;
        for (size_t k = 0; k < n_seen && !known; k++)
            known = strcmp(seen[k], logs->records[i].kind) == 0;
        if (!known)
            seen[n_seen++] = logs->records[i].kind;
    }
    const char *sep = "";
    for (size_t k = 0; k < n_seen; k++) {
        size_t count = 0;
        for (size_t i = 0; i < logs->n; i++)
            count += strcmp(seen[k], logs->records[i].kind) == 0;
        if (count == 0)
            continue;
        cli_str_addf(out, "%s%s: %zu", sep, seen[k], count);
        sep = ", ";
    }
    free(seen);
}

void cli_write_text(const cli_logs *logs, const cli_report_opts *o) {
    size_t np;
    cli_process *procs = cli_processes(logs, &np);
    cli_str s = {0};
    for (size_t p = 0; p < np; p++) {
        const cli_record *first = procs[p].records[0];
        cli_str_add(&s, "== ");
        cli_process_name(first, &s);
        if (first->executable != NULL)
            cli_str_addf(&s, " %s", first->executable);
        cli_str_addf(&s, ": %zu error%s", procs[p].n, procs[p].n == 1 ? "" : "s");
        cli_str_addf(&s, " (log %s)\n", first->log);
        if (first->argc > 0) {
            cli_str_add(&s, "   command line:");
            for (size_t a = 0; a < first->argc; a++)
                cli_str_addf(&s, " %s", first->argv[a]);
            cli_str_add(&s, "\n");
        }
        for (size_t i = 0; i < procs[p].n; i++) {
            cli_str_add(&s, "\n");
            cli_record_text(procs[p].records[i], &s);
        }
        cli_str_add(&s, "\n");
    }
    if (logs->n == 0) {
        cli_str_add(&s, "crossfree: no errors in the logs\n");
    } else {
        cli_str_addf(&s, "crossfree: %zu error%s in %zu process%s (", logs->n,
                     logs->n == 1 ? "" : "s", np, np == 1 ? "" : "es");
        kind_counts(logs, &s);
        cli_str_add(&s, ")\n");
    }
    fwrite(s.data, 1, s.len, o->out);
    cli_str_free(&s);
    cli_processes_free(procs, np);
}

// ---------------------------------------------------------------------------
// GitHub workflow commands
// ---------------------------------------------------------------------------

// GitHub's escaping: '%', CR and LF in the message; also ':' and ',' in
// properties (file=..., title=...), which would end the property.
static void gh_escape(const char *s, bool property, cli_str *out) {
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '%':
            cli_str_add(out, "%25");
            break;
        case '\r':
            cli_str_add(out, "%0D");
            break;
        case '\n':
            cli_str_add(out, "%0A");
            break;
        case ':':
            cli_str_add(out, property ? "%3A" : ":");
            break;
        case ',':
            cli_str_add(out, property ? "%2C" : ",");
            break;
        default:
            cli_str_addn(out, s, 1);
        }
    }
}

void cli_write_github(const cli_logs *logs, const cli_report_opts *o) {
    cli_str s = {0}, tmp = {0};
    for (size_t i = 0; i < logs->n; i++) {
        const cli_record *r = &logs->records[i];
        bool from_free;
        const cli_frame *f = cli_primary_frame(r, &from_free);
        cli_str_add(&s, "::error ");
        if (f != NULL) {
            const char *rel = cli_relative_to_root(o, f->file);
            cli_str_add(&s, "file=");
            gh_escape(rel != NULL ? rel : f->file, true, &s);
            if (f->line > 0)
                cli_str_addf(&s, ",line=%lld", f->line);
            cli_str_add(&s, ",");
        }
        tmp.len = 0;
        cli_str_addf(&tmp, "crossfree %s", r->kind);
        cli_str_add(&s, "title=");
        gh_escape(tmp.data, true, &s);
        cli_str_add(&s, "::");

        // The first line is what an annotation shows folded: the words, the
        // host and the process; the report follows, with the HINT.
        tmp.len = 0;
        cli_record_headline_text(r, f, from_free, &tmp);
        cli_str_add(&tmp, " [");
        cli_process_name(r, &tmp);
        cli_str_add(&tmp, "]\n");
        cli_record_text(r, &tmp);
        if (tmp.len > 0 && tmp.data[tmp.len - 1] == '\n')
            tmp.data[--tmp.len] = '\0';
        gh_escape(tmp.data, false, &s);
        cli_str_add(&s, "\n");
    }
    if (s.len > 0)
        fwrite(s.data, 1, s.len, o->out);
    cli_str_free(&s);
    cli_str_free(&tmp);
}

// ---------------------------------------------------------------------------
// The subcommand
// ---------------------------------------------------------------------------

// Absolute form of dir without trailing '/', lexically (it need not exist).
static char *absolute_dir(const char *dir) {
    cli_str s = {0};
    if (dir[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) != NULL)
            cli_str_addf(&s, "%s/", cwd);
    }
    cli_str_add(&s, dir);
    while (s.len > 1 && s.data[s.len - 1] == '/')
        s.data[--s.len] = '\0';
    return s.data;
}

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

// A directory stands for the files in it (not its subdirectories), in name
// order: `crossfree report out` works when no process wrote a log, where
// the shell would pass `out/*` on unexpanded. Returns false when path could
// not be read at all (a missing directory is one).
static bool read_path(cli_logs *logs, const char *path) {
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_logs_read(logs, path);
    struct dirent **names;
    int n = scandir(path, &names, not_hidden, alphasort);
    if (n < 0) {
        cli_error("cannot read the directory %s: %s", path, strerror(errno));
        logs->unreadable = true;
        return false;
    }
    for (int k = 0; k < n; k++) {
        cli_str file = {0};
        cli_str_addf(&file, "%s/%s", path, names[k]->d_name);
        if (stat(file.data, &st) == 0 && S_ISREG(st.st_mode))
            cli_logs_read(logs, file.data);
        cli_str_free(&file);
        free(names[k]);
    }
    free(names);
    return true;
}

enum { OPT_FORMAT = 256, OPT_SOURCE_ROOT, OPT_OUTPUT };

static const struct option report_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"source-root", required_argument, NULL, OPT_SOURCE_ROOT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {NULL, 0, NULL, 0},
};

int cli_cmd_report(int argc, char **argv) {
    cli_prog = "crossfree report";
    const char *format = "text", *root = NULL, *output = NULL;
    // '+': flags come before the logs; after the first log all are logs.
    int c;
    while ((c = cli_getopt(argc, argv, "+:h", report_options)) != -1) {
        switch (c) {
        case 'h':
            fputs(report_usage, stdout);
            return 0;
        case OPT_FORMAT:
            format = optarg;
            break;
        case OPT_SOURCE_ROOT:
            root = optarg;
            break;
        case OPT_OUTPUT:
            output = optarg;
            break;
        default: // the problem is printed
            return CLI_BAD_INPUT;
        }
    }
    int i = optind;
    void (*writer)(const cli_logs *, const cli_report_opts *) = NULL;
    if (strcmp(format, "text") == 0)
        writer = cli_write_text;
    else if (strcmp(format, "junit") == 0)
        writer = cli_write_junit;
    else if (strcmp(format, "sarif") == 0)
        writer = cli_write_sarif;
    else if (strcmp(format, "github") == 0)
        writer = cli_write_github;
    if (writer == NULL) {
        cli_error("unknown format '%s' (text, junit, sarif or github)", format);
        return CLI_BAD_INPUT;
    }
    if (i >= argc) {
        cli_error("no log given (usage: crossfree report [--format F] LOG...)");
        return CLI_BAD_INPUT;
    }

    cli_logs logs = {0};
    bool read_any = false;
    for (; i < argc; i++)
        read_any |= read_path(&logs, argv[i]);
    if (!read_any) {
        // "No errors in the logs" would be a false all-clear (a mistyped
        // --log-dir, say): there were no logs.
        cli_error("no log could be read: nothing to report");
        cli_logs_free(&logs);
        return CLI_BAD_INPUT;
    }

    cli_report_opts o = {.out = stdout};
    char *root_abs = NULL;
    char root_real[PATH_MAX];
    if (root != NULL) {
        root_abs = absolute_dir(root);
        o.source_root = root_abs;
        if (realpath(root_abs, root_real) != NULL)
            o.source_root_real = root_real;
    }
    if (output != NULL) {
        o.out = fopen(output, "w");
        if (o.out == NULL) {
            cli_error("cannot write %s: %s", output, strerror(errno));
            free(root_abs);
            cli_logs_free(&logs);
            return CLI_BAD_INPUT;
        }
    }
    writer(&logs, &o);
    int status = logs.unreadable ? CLI_BAD_INPUT : logs.n > 0 ? CLI_ERRORS_FOUND : CLI_OK;
    if (fflush(o.out) != 0 || ferror(o.out)) {
        cli_error("cannot write %s: %s", output != NULL ? output : "the standard output",
                  strerror(errno));
        status = CLI_BAD_INPUT;
    }
    if (output != NULL)
        fclose(o.out);
    free(root_abs);
    cli_logs_free(&logs);
    return status;
}
