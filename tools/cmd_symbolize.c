// SPDX-License-Identifier: MIT
// `crossfree symbolize`: adds function names and file:line to frames that a
// log has as module+offset only (symbolize=0, or no debug info where the
// program ran), with the library's own symbolizer reading the files from
// disk. Lines it cannot improve are copied unchanged, byte for byte.
#include "cli.h"
#include "logs.h"

#include "platform/platform.h"
#include "report/report.h"
#include "stack/symbolize.h"
#include "support/fmt.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char symbolize_usage[] =
    "usage: crossfree symbolize [-i] [--debug-dir DIR]... [--perf-map FILE] LOG...\n"
    "\n"
    "Rewrites frames logged as module+offset (text reports written with\n"
    "symbolize=0, and JSON records whose function or file is null) with the\n"
    "function and file:line, read from the modules on this machine and their\n"
    "separate debug files (found by build ID and .gnu_debuglink), and JIT\n"
    "frames of text reports ([jit] 0x...) with the method a perf map names\n"
    "(/tmp/perf-PID.map of the process that wrote the report, complete once it\n"
    "has exited: Mono's --jitmap). Writes to standard output, or with -i\n"
    "rewrites each LOG in place.\n"
    "\n"
    "  -i, --in-place    rewrite the files instead of printing them\n"
    "  --debug-dir DIR   also look for debug files in DIR (DIR/.build-id/xx/yyyy.debug,\n"
    "                    DIR/NAME.debug, DIR/<module's directory>/NAME.debug)\n"
    "  --perf-map FILE   read JIT names from FILE instead of /tmp/perf-PID.map\n"
    "\n"
    "Exit status: 0, or 2 when a log could not be read or written.\n";

// ---------------------------------------------------------------------------
// Lookups, and one warning per module that gives nothing
// ---------------------------------------------------------------------------

typedef struct state {
    char **silent; // modules already warned about
    size_t n_silent;
    // The text report being read: its first frame, for the SUMMARY line.
    bool first_pending; // an ERROR line was read, its first frame not yet
    bool have_first;    // `first` holds that frame, resolved
    cf_frame_info first;
    // Lines added to the current stack for inlined functions: the frames
    // after them are numbered on from there.
    size_t shift;
    // JIT frames: the perf map of the process whose report is being read
    // (/tmp/perf-PID.map, or --perf-map), loaded once per process.
    const char *perf_map_arg;
    long pid, map_pid;
    struct jit_sym *syms;
    size_t n_syms;
} state;

typedef struct jit_sym {
    unsigned long long start, size;
    char *name;
} jit_sym;

static bool lookup(state *st, const char *module, uintptr_t offset, cf_frame_info *out) {
    if (cf_symbolize_file(module, offset, out))
        return true;
    for (size_t i = 0; i < st->n_silent; i++) {
        if (strcmp(st->silent[i], module) == 0)
            return false;
    }
    st->silent = cli_xrealloc(st->silent, (st->n_silent + 1) * sizeof *st->silent);
    st->silent[st->n_silent++] = cli_xstrdup(module);
    if (access(module, R_OK) != 0)
        cli_error("%s: %s; its frames stay module+offset", module, strerror(errno));
    else
        cli_error("%s: no symbols or debug info found; its frames stay module+offset", module);
    return false;
}

// ---------------------------------------------------------------------------
// JIT frames, from a perf map
// ---------------------------------------------------------------------------

// Runtimes that write a perf map through stdio (Mono's --jitmap) may not
// have flushed it when the report was written: the map is complete once
// the process has exited, so its names can be added afterwards.
static void load_perf_map(state *st) {
    if (st->map_pid == st->pid)
        return;
    for (size_t i = 0; i < st->n_syms; i++)
        free(st->syms[i].name);
    st->n_syms = 0;
    st->map_pid = st->pid;
    char path[PATH_MAX];
    if (st->perf_map_arg != NULL)
        snprintf(path, sizeof path, "%s", st->perf_map_arg);
    else if (st->pid > 0)
        snprintf(path, sizeof path, "/tmp/perf-%ld.map", st->pid);
    else
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (st->perf_map_arg != NULL || errno != ENOENT)
            cli_error("%s: %s; JIT frames stay unnamed", path, strerror(errno));
        return;
    }
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        char *end;
        unsigned long long start = strtoull(line, &end, 16);
        if (end == line || *end != ' ')
            continue;
        char *p = end + 1;
        unsigned long long size = strtoull(p, &end, 16);
        if (end == p || *end != ' ')
            continue;
        char *name = end + 1;
        name[strcspn(name, "\n")] = '\0';
        if (name[0] == '\0')
            continue;
        st->syms = cli_xrealloc(st->syms, (st->n_syms + 1) * sizeof *st->syms);
        st->syms[st->n_syms++] = (jit_sym){start, size, cli_xstrdup(name)};
    }
    fclose(f);
}

// The name a perf map gives pc: the last entry that covers it, since a JIT
// may reuse code memory for a newer method.
static const char *jit_name(state *st, unsigned long long pc) {
    load_perf_map(st);
    for (size_t i = st->n_syms; i-- > 0;)
        if (pc >= st->syms[i].start && pc - st->syms[i].start < st->syms[i].size)
            return st->syms[i].name;
    return NULL;
}

// "    #N 0xPC ([jit] 0xPC)..." becomes "    #N 0xPC in NAME ([jit] 0xPC)...".
static bool jit_frame(state *st, const char *line, size_t len, FILE *out) {
    size_t i = strspn(line, " ");
    if (i == 0 || line[i] != '#')
        return false;
    i++;
    size_t n = strspn(line + i, "0123456789");
    if (n == 0 || strncmp(line + i + n, " 0x", 3) != 0)
        return false;
    unsigned long long frame = strtoull(line + i, NULL, 10);
    const char *pc = line + i + n + 1;
    size_t pc_len = 2 + strspn(pc + 2, "0123456789abcdef");
    static const char tag[] = " ([jit] 0x";
    if (strncmp(pc + pc_len, tag, sizeof tag - 1) != 0)
        return false;
    bool first = st->first_pending;
    st->first_pending = false;
    if (frame == 0)
        st->shift = 0;
    const char *name = jit_name(st, strtoull(pc, NULL, 16));
    if (name == NULL)
        return false;
    if (first) {
        memset(&st->first, 0, sizeof st->first);
        snprintf(st->first.function, sizeof st->first.function, "%s", name);
        st->have_first = true;
    }
    size_t head = (size_t)(pc + pc_len - line);
    const char *hash = line + i - 1;
    fprintf(out, "%.*s#%llu %.*s in %s%.*s\n", (int)(hash - line), line, frame + st->shift,
            (int)pc_len, pc, name, (int)(len - head), line + head);
    return true;
}

// ---------------------------------------------------------------------------
// Text reports
// ---------------------------------------------------------------------------

// A frame line left as it was, but numbered after the inlined frames added
// before it in its stack.
static bool renumber(const state *st, const cli_text_frame *t, const char *line, size_t len,
                     FILE *out) {
    if (st->shift == 0)
        return false;
    const char *hash = memchr(line, '#', len);
    size_t digits = strspn(hash + 1, "0123456789");
    fprintf(out, "%.*s#%zu%.*s\n", (int)(hash - line), line, t->n + st->shift,
            (int)(len - (size_t)(hash + 1 + digits - line)), hash + 1 + digits);
    return true;
}

// Rewrites a frame line; false when it is not one or nothing was learned.
static bool text_frame(state *st, const char *line, size_t len, FILE *out) {
    cli_text_frame t;
    if (!cli_parse_frame_line(line, len, &t))
        return false;
    if (t.n == 0)
        st->shift = 0; // a new stack
    if (t.module == NULL)
        return renumber(st, &t, line, len, out);
    bool first = st->first_pending;
    st->first_pending = false;
    if (t.file_len > 0)
        return renumber(st, &t, line, len, out);
    char module[PATH_MAX];
    snprintf(module, sizeof module, "%.*s", (int)t.module_len, t.module);
    cf_frame_info f;
    if (!lookup(st, module, (uintptr_t)t.offset, &f))
        return renumber(st, &t, line, len, out);
    if (t.function_len > 0 && f.file[0] == '\0')
        return renumber(st, &t, line, len, out); // the name was there already, no file found
    if (first) {
        st->first = f;
        st->have_first = true;
    }
    f.pc = (uintptr_t)strtoull(t.pc, NULL, 16);
    f.unloaded = t.unloaded;
    char buf[8192];
    cf_buf b;
    cf_buf_init(&b, buf, sizeof buf);
    cf_report_format_frame(&b, (unsigned)(t.n + st->shift), &f);
    st->shift += f.n_inlined;
    // The library indents frames by four spaces; keep the lines' own.
    size_t indent = strspn(line, " ");
    for (const char *p = buf; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl + 1 - p) : strlen(p);
        size_t lead = strspn(p, " ");
        fprintf(out, "%.*s%.*s", (int)indent, line, (int)(n - lead), p + lead);
        p += n;
    }
    return true;
}

// "SUMMARY: crossfree: KIND (module+0xoff)" gets the first frame's file,
// line and function, in the library's words: "KIND FILE:LINE in FUNCTION",
// or "KIND (module+0xoff) in FUNCTION" when only the name is known.
static bool text_summary(state *st, const char *line, FILE *out) {
    static const char prefix[] = "SUMMARY: crossfree: ";
    if (strncmp(line, prefix, sizeof prefix - 1) != 0)
        return false;
    bool have_first = st->have_first;
    st->have_first = false;
    const char *kind = line + sizeof prefix - 1;
    size_t kind_len = strcspn(kind, " ");
    bool unsymbolized =
        kind[kind_len] == '\0' || (kind[kind_len + 1] == '(' && strstr(kind, ") in ") == NULL);
    const cf_frame_info *f = &st->first;
    // The innermost function at the pc, inlined or not, as the library says.
    bool in = f->n_inlined > 0;
    const char *file = in ? cf_inline_file(f, 0) : f->file;
    const char *function = in ? cf_inline_function(f, 0) : f->function;
    unsigned line_no = in ? f->inlined[0].line : f->line;
    if (!have_first || !unsymbolized || (file[0] == '\0' && function[0] == '\0'))
        return false;
    fprintf(out, "%.*s", (int)((size_t)(kind - line) + kind_len), line);
    if (file[0] != '\0') {
        fprintf(out, " %s", file);
        if (line_no != 0)
            fprintf(out, ":%u", line_no);
    } else if (f->module[0] != '\0') {
        fprintf(out, " (%s+0x%lx)", cf_path_base(f->module), (unsigned long)f->offset);
    }
    if (function[0] != '\0')
        fprintf(out, " in %s", function);
    fputc('\n', out);
    return true;
}

// ---------------------------------------------------------------------------
// JSON records
// ---------------------------------------------------------------------------

// Sets member `key` of the frame to v if it is absent or null (taking the
// reference either way). Returns whether it changed anything.
static bool fill_member(json_t *frame, const char *key, json_t *v) {
    const json_t *m = json_object_get(frame, key);
    if (m != NULL && !json_is_null(m)) {
        json_decref(v);
        return false;
    }
    // An absent member goes last, a null one is replaced where it is.
    json_object_set_new(frame, key, v);
    return true;
}

// The frames of the functions inlined at `f`'s pc, inserted before it at
// index `at`, innermost first. Returns how many.
static size_t insert_inlined(json_t *stack, size_t at, const json_t *f, const cf_frame_info *info) {
    for (unsigned j = 0; j < info->n_inlined; j++) {
        json_t *copy = json_deep_copy(f);
        const char *file = cf_inline_file(info, j);
        json_object_set_new(copy, "function", cli_json_string(cf_inline_function(info, j)));
        json_object_set_new(copy, "file", file[0] != '\0' ? cli_json_string(file) : json_null());
        json_object_set_new(copy, "line",
                            info->inlined[j].line != 0 ? json_integer(info->inlined[j].line)
                                                       : json_null());
        json_object_set_new(copy, "inlined", json_true());
        json_array_insert_new(stack, at + j, copy);
    }
    return info->n_inlined;
}

static bool json_stack(state *st, json_t *stack) {
    if (!json_is_array(stack))
        return false;
    bool changed = false;
    for (size_t i = 0; i < json_array_size(stack); i++) {
        json_t *f = json_array_get(stack, i);
        const char *module = json_string_value(json_object_get(f, "module"));
        const char *offset = json_string_value(json_object_get(f, "offset"));
        const json_t *function = json_object_get(f, "function"), *file = json_object_get(f, "file");
        bool missing =
            function == NULL || json_is_null(function) || file == NULL || json_is_null(file);
        if (module == NULL || offset == NULL || !missing)
            continue;
        cf_frame_info info;
        if (!lookup(st, module, (uintptr_t)strtoull(offset, NULL, 16), &info))
            continue;
        if (info.function[0] != '\0')
            changed |= fill_member(f, "function", cli_json_string(info.function));
        if (info.file[0] != '\0') {
            changed |= fill_member(f, "file", cli_json_string(info.file));
            if (info.line != 0)
                changed |= fill_member(f, "line", json_integer(info.line));
        }
        if (info.n_inlined > 0 && !json_is_true(json_object_get(f, "inlined"))) {
            i += insert_inlined(stack, i, f, &info);
            changed = true;
        }
    }
    return changed;
}

// A rewritten record is written compact, its members in their order.
static bool json_line(state *st, const char *line, size_t len, FILE *out) {
    json_t *v = cli_json_parse(line, len, NULL);
    bool changed = false;
    if (json_object_get(v, "crossfree") != NULL) {
        changed |= json_stack(st, json_object_get(v, "deallocation_stack"));
        changed |= json_stack(st, json_object_get(v, "allocation_stack"));
        changed |= json_stack(st, json_object_get(json_object_get(v, "first_free"), "stack"));
    }
    if (changed) {
        json_dumpf(v, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', out);
    }
    json_decref(v);
    return changed;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

static void symbolize_data(state *st, char *data, size_t size, FILE *out) {
    for (char *line = data; line < data + size;) {
        char *nl = memchr(line, '\n', (size_t)(data + size - line));
        size_t len = (size_t)((nl != NULL ? nl : data + size) - line);
        char saved = line[len];
        line[len] = '\0';
        size_t lead = strspn(line, " \t");
        bool done = false;
        if (line[lead] == '{') {
            done = json_line(st, line, len, out);
        } else {
            if (strncmp(line, "==", 2) == 0 && strstr(line, "==ERROR: crossfree: ") != NULL) {
                st->first_pending = true;
                st->have_first = false;
                st->pid = strtol(line + 2, NULL, 10);
            }
            done = jit_frame(st, line, len, out) || text_frame(st, line, len, out) ||
                   text_summary(st, line, out);
        }
        line[len] = saved;
        // Unchanged lines are copied as they were, newline or not.
        if (!done)
            fwrite(line, 1, nl != NULL ? len + 1 : len, out);
        line = nl != NULL ? nl + 1 : data + size;
    }
}

static bool symbolize_file(state *st, const char *path, bool in_place) {
    char *data;
    size_t size;
    if (!cli_read_file(path, &data, &size)) {
        cli_error("cannot read %s: %s", path, strerror(errno));
        return false;
    }
    if (!in_place || strcmp(path, "-") == 0) {
        symbolize_data(st, data, size, stdout);
        free(data);
        return true;
    }
    // A temporary file beside the log, renamed over it when complete, so a
    // failure never leaves a half-written log.
    cli_str tmp = {0};
    cli_str_addf(&tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp.data);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = out != NULL;
    if (ok) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            fchmod(fd, sb.st_mode & 07777);
        symbolize_data(st, data, size, out);
        ok = fflush(out) == 0 && !ferror(out);
        ok = fclose(out) == 0 && ok;
        ok = ok && rename(tmp.data, path) == 0;
    }
    if (!ok) {
        cli_error("cannot rewrite %s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp.data);
    }
    cli_str_free(&tmp);
    free(data);
    return ok;
}

// ---------------------------------------------------------------------------
// The subcommand
// ---------------------------------------------------------------------------

enum { OPT_DEBUG_DIR = 256, OPT_PERF_MAP };

static const struct option symbolize_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"in-place", no_argument, NULL, 'i'},
    {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
    {"perf-map", required_argument, NULL, OPT_PERF_MAP},
    {NULL, 0, NULL, 0},
};

int cli_cmd_symbolize(int argc, char **argv) {
    cli_prog = "crossfree symbolize";
    bool in_place = false;
    const char *perf_map = NULL;
    cli_str dirs = {0};
    // '+': flags come before the logs; after the first log all are logs.
    int c;
    while ((c = cli_getopt(argc, argv, "+:hi", symbolize_options)) != -1) {
        char real[PATH_MAX];
        switch (c) {
        case 'h':
            fputs(symbolize_usage, stdout);
            cli_str_free(&dirs);
            return 0;
        case 'i':
            in_place = true;
            break;
        case OPT_DEBUG_DIR:
            // elfutils reads a relative entry as relative to each module's
            // directory, so the directory is made absolute here.
            if (realpath(optarg, real) == NULL) {
                cli_error("--debug-dir %s: %s", optarg, strerror(errno));
                cli_str_free(&dirs);
                return CLI_BAD_INPUT;
            }
            cli_str_addf(&dirs, ":%s", real);
            break;
        case OPT_PERF_MAP:
            perf_map = optarg;
            break;
        default: // the problem is printed
            cli_str_free(&dirs);
            return CLI_BAD_INPUT;
        }
    }
    int i = optind;
    if (i >= argc) {
        cli_error("no log given (usage: crossfree symbolize [-i] [--debug-dir DIR] LOG...)");
        cli_str_free(&dirs);
        return CLI_BAD_INPUT;
    }
    if (dirs.len > 0) {
        // The module's directory and its .debug first, as elfutils does by
        // default, then the given directories, then the system's.
        cli_str path = {0};
        cli_str_addf(&path, ":.debug%s:/usr/lib/debug", dirs.data);
        if (!cf_symbolize_set_debuginfo_path(path.data)) {
            cli_error("--debug-dir: the directories are too long together");
            cli_str_free(&path);
            cli_str_free(&dirs);
            return CLI_BAD_INPUT;
        }
        cli_str_free(&path);
    }
    cli_str_free(&dirs);
    // The symbolizer demangles C++ names with the C++ runtime's
    // __cxa_demangle when the process has it loaded; this command is C.
    (void)dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_GLOBAL);

    state st = {0};
    st.perf_map_arg = perf_map;
    st.map_pid = -1;
    int status = CLI_OK;
    for (; i < argc; i++) {
        if (!symbolize_file(&st, argv[i], in_place))
            status = CLI_BAD_INPUT;
    }
    for (size_t k = 0; k < st.n_silent; k++)
        free(st.silent[k]);
    free(st.silent);
    for (size_t k = 0; k < st.n_syms; k++)
        free(st.syms[k].name);
    free(st.syms);
    return status;
}
