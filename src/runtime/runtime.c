// SPDX-License-Identifier: MIT
// Start-up and the allocation/deallocation hooks. Order matters here: the
// stack is captured before any lock is taken, the owner record is retired
// before the block is released (so a reused address never meets a stale
// record), and the real allocator is never called with a lock held.
#include "runtime/runtime.h"

#include "core/header.h"
#include "core/quarantine.h"
#include "platform/platform.h"
#include "report/hosts.h"
#include "report/json.h"
#include "report/report.h"
#include "report/suppress.h"
#include "runtime/options.h"
#include "runtime/private_ops.h"
#include "runtime/winsem.h"
#include "stack/capture.h"
#include "stack/depot.h"
#include "stack/fast_unwind.h"
#include "stack/symbolize.h"
#include "support/fmt.h"
#include "support/glob.h"
#include "support/lock.h"

atomic_int cf_rt_state;
#if !CF_OS_MACOS // the platform keeps it there (runtime.h)
__thread cf_tls cf_tls_data __attribute__((tls_model("initial-exec")));
#endif

static atomic_uint next_tid;
static atomic_uint_fast64_t error_counts[CF_ERR_KIND_COUNT];
// Errors a suppression rule matched: counted, never reported.
static atomic_uint_fast64_t suppressed_count;
static bool json_reports; // report_format=json
static bool exit_summary_done;
static unsigned context_size; // cf_flags.malloc_context_size, read on the hot path
static unsigned free_context; // cf_flags.free_context_size, at most context_size
// semantics=windows: every release is judged as on Windows too.
static bool winsem;
// False in a process that `only` excludes: every call then goes straight to
// the real allocator, with no table work and no reports.
static bool checking = true;
// Records live in block headers (CF_BLOCK_HEADERS, and checking): the
// table then holds only the blocks a header cannot describe.
static bool headers;
size_t cf_rt_header_bytes;
// The key of every header's check (core/header.h), fixed at start-up.
static uint64_t header_secret;

// ---------------------------------------------------------------------------
// Bootstrap arena

// dlsym and friends may allocate while crossfree looks up the real
// allocator; those blocks come from here and are never released.
#define BOOTSTRAP_BYTES (256u * 1024u)
static _Alignas(64) unsigned char bootstrap[BOOTSTRAP_BYTES];
static atomic_size_t bootstrap_used;

void *cf_rt_bootstrap_alloc(size_t size, size_t align) {
    if (align < 16)
        align = 16;
    for (;;) {
        size_t used = atomic_load(&bootstrap_used);
        // 16-byte header before the block holds its size.
        size_t start = (used + 16 + align - 1) & ~(align - 1);
        if (size > BOOTSTRAP_BYTES || start + size > BOOTSTRAP_BYTES)
            return NULL;
        if (atomic_compare_exchange_weak(&bootstrap_used, &used, start + size)) {
            *(size_t *)(void *)(bootstrap + start - 16) = size;
            return bootstrap + start;
        }
    }
}

bool cf_rt_is_bootstrap(const void *p) {
    return (const unsigned char *)p >= bootstrap &&
           (const unsigned char *)p < bootstrap + BOOTSTRAP_BYTES;
}

size_t cf_rt_bootstrap_size(const void *p) {
    return *(const size_t *)(const void *)((const unsigned char *)p - 16);
}

// ---------------------------------------------------------------------------
// Start-up

static void emit_stderr(const cf_buf *b) { cf_os_write_all(CF_FD_STDERR, b->data, b->len); }

static void pid_line_start(cf_buf *b) {
    cf_buf_str(b, "==");
    cf_buf_sdec(b, cf_os_getpid());
    cf_buf_str(b, "==");
}

static void init_options(void) {
    char storage[2048];
    cf_buf w;
    cf_buf_init(&w, storage, sizeof storage);
    cf_options_set_defaults(&cf_flags);
    cf_options_parse(&cf_flags, cf_os_getenv("CROSSFREE_OPTIONS"), &w);
    if (w.len > 0)
        emit_stderr(&w);
    if (cf_strcmp(cf_flags.report_format, "text") != 0 &&
        cf_strcmp(cf_flags.report_format, "json") != 0) {
        cf_buf_init(&w, storage, sizeof storage);
        cf_buf_str(&w, "crossfree: warning: option 'report_format' has a malformed value '");
        cf_buf_strn(&w, cf_flags.report_format, 64);
        cf_buf_str(&w, "' (expected text or json); keeping the default\n");
        emit_stderr(&w);
        cf_strlcpy(cf_flags.report_format, "text", sizeof cf_flags.report_format);
    }
    if (cf_flags.host_modules[0] != '\0') {
        cf_buf_init(&w, storage, sizeof storage);
        cf_hosts_configure(cf_flags.host_modules, &w);
        if (w.len > 0)
            emit_stderr(&w);
    }
    cf_buf_init(&w, storage, sizeof storage);
    winsem = cf_winsem_configure(cf_flags.semantics, cf_flags.host, cf_flags.host_allocators,
                                 cf_flags.static_crt_modules, cf_flags.host_modules, &w);
    if (w.len > 0)
        emit_stderr(&w);
    cf_capture_set_fast((unsigned)cf_flags.fast_unwind, (unsigned)cf_flags.malloc_context_size);
    context_size = (unsigned)cf_flags.malloc_context_size;
    free_context = (unsigned)cf_flags.free_context_size;
    if (free_context > context_size)
        free_context = context_size;
    json_reports = cf_strcmp(cf_flags.report_format, "json") == 0;
    if (cf_flags.help) {
        char help[4096];
        cf_buf h;
        cf_buf_init(&h, help, sizeof help);
        cf_options_help(&h);
        emit_stderr(&h);
    }
}

// Decides whether `only` selects this process: its executable's path or
// name, or its argv[0] or that name (a script's interpreter path is the
// executable, so argv[0] lets `only=my_tool` match `python3 my_tool`'s
// wrapper scripts too).
static bool selected_by_only(const char *only) {
    char exe[1024];
    char cmd[1024];
    cf_os_exe_path(exe, sizeof exe);
    cf_os_cmdline(cmd, sizeof cmd);
    const char *names[] = {exe, cf_path_base(exe), cmd, cf_path_base(cmd)};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i][0] != '\0' && cf_glob_match_list(only, names[i]))
            return true;
    return false;
}

// Reads the `suppressions` file into the rule table. A file that cannot be
// read, or lines that cannot be parsed, are reported on stderr and left
// out; the good lines still count (a typo must not unsilence a whole CI
// run, nor stop the program).
static void load_suppressions(void) {
    // Static: start-up may run on a small thread stack. One byte more than
    // the limit tells an over-long file from one that just fits.
    static char file_text[CF_SUPP_FILE_MAX + 1];
    const char *path = cf_flags.suppressions;
    if (path[0] == '\0')
        return;
    char storage[4096];
    cf_buf w;
    cf_buf_init(&w, storage, sizeof storage);
    long n = cf_os_read_file(path, file_text, sizeof file_text);
    if (n < 0) {
        cf_buf_str(&w, "crossfree: error: cannot read suppressions file '");
        cf_buf_str(&w, path);
        cf_buf_str(&w, "': ");
        cf_buf_str(&w, cf_os_strerror((int)-n));
        cf_buf_str(&w, "; no error is suppressed\n");
        emit_stderr(&w);
        return;
    }
    size_t len = (size_t)n;
    if (len > CF_SUPP_FILE_MAX) {
        // Only whole lines of the first CF_SUPP_FILE_MAX bytes: a pattern
        // cut in two could match far more than its author meant.
        len = CF_SUPP_FILE_MAX;
        while (len > 0 && file_text[len - 1] != '\n')
            len--;
        cf_buf_str(&w, "crossfree: error: suppressions file '");
        cf_buf_str(&w, path);
        cf_buf_str(&w, "' is larger than ");
        cf_buf_dec(&w, CF_SUPP_FILE_MAX);
        cf_buf_str(&w, " bytes; only the lines in its first ");
        cf_buf_dec(&w, CF_SUPP_FILE_MAX);
        cf_buf_str(&w, " bytes are used\n");
    }
    cf_suppressions_parse(path, file_text, len, &w);
    if (w.truncated)
        cf_buf_str(&w, "crossfree: (more suppression errors not shown)\n");
    if (w.len > 0)
        emit_stderr(&w);
    if (cf_flags.verbosity >= 1) {
        cf_buf_init(&w, storage, sizeof storage);
        pid_line_start(&w);
        cf_buf_str(&w, "crossfree: ");
        cf_buf_dec(&w, cf_suppressions_count());
        cf_buf_str(&w, " suppression rule(s) loaded from '");
        cf_buf_str(&w, path);
        cf_buf_str(&w, "'\n");
        emit_stderr(&w);
    }
}

static bool init_everything(void) {
    init_options();
    if (cf_flags.only[0] != '\0')
        checking = selected_by_only(cf_flags.only);
    if (checking && (!cf_table_init() || !cf_depot_init(CF_DEPOT_RESERVE_BYTES) ||
                     !cf_quarantine_init((size_t)cf_flags.quarantine_size_mb << 20))) {
        // Without its tables crossfree cannot check, but the program can
        // still run: every call passes straight through.
        static const char msg[] = "crossfree: cannot map memory for its tables; "
                                  "checking is off in this process\n";
        cf_os_write_all(CF_FD_STDERR, msg, sizeof msg - 1);
        checking = false;
    }
    if (checking)
        load_suppressions();
    if (checking && CF_BLOCK_HEADERS) {
        // Not secret from the program, only unlikely to appear by chance:
        // the start time, an address that moves with ASLR, the pid.
        volatile char here = 0;
        header_secret = cf_os_time_us() * UINT64_C(0x9e3779b97f4a7c15) ^
                        (uint64_t)(uintptr_t)&here ^ (uint64_t)cf_os_getpid() << 40;
        headers = true;
        cf_rt_header_bytes = CF_HEADER_SIZE;
    }
    return cf_platform_init();
}

bool cf_rt_enter_slow(void) {
    cf_tls *t = &cf_tls_data;
    if (t->initializing)
        return false;
    int expected = CF_RT_UNINIT;
    if (atomic_compare_exchange_strong(&cf_rt_state, &expected, CF_RT_INITIALIZING)) {
        t->initializing = true;
        t->guard++;
        bool ok = init_everything();
        t->guard--;
        t->initializing = false;
        if (!ok)
            cf_os_exit_now(127); // no real allocator to call: nothing can run
        atomic_store_explicit(&cf_rt_state, CF_RT_READY, memory_order_release);
        if (cf_flags.verbosity >= 1) {
            char s[256];
            cf_buf b;
            cf_buf_init(&b, s, sizeof s);
            pid_line_start(&b);
            cf_buf_str(&b, checking ? "crossfree: checking this process\n"
                                    : "crossfree: not checking this process (only=)\n");
            emit_stderr(&b);
        }
        return true;
    }
    while (atomic_load_explicit(&cf_rt_state, memory_order_acquire) != CF_RT_READY)
        cf_os_yield();
    return true;
}

uint32_t cf_rt_tid(void) {
    cf_tls *t = &cf_tls_data;
    if (t->tid1 == 0)
        t->tid1 = atomic_fetch_add_explicit(&next_tid, 1, memory_order_relaxed) + 1;
    return t->tid1 - 1;
}

// ---------------------------------------------------------------------------
// Reports

static cf_lock report_lock;
static int log_fd = -1;
static int log_pid;

// The descriptor reports go to; opened on the first report of each process
// (a fork child gets its own PREFIX.PID). Caller holds report_lock.
static int log_descriptor(void) {
    const char *path = cf_flags.log_path;
    if (cf_strcmp(path, "stderr") == 0)
        return CF_FD_STDERR;
    if (cf_strcmp(path, "stdout") == 0)
        return 1;
    int pid = cf_os_getpid();
    if (log_fd >= 0 && log_pid == pid)
        return log_fd;
    char name[CF_OPTION_STR_MAX + 32];
    cf_buf b;
    cf_buf_init(&b, name, sizeof name);
    cf_buf_str(&b, path);
    cf_buf_char(&b, '.');
    cf_buf_sdec(&b, pid);
    int fd = cf_os_open_log(name);
    log_pid = pid;
    if (fd < 0) {
        char s[CF_OPTION_STR_MAX + 256];
        cf_buf w;
        cf_buf_init(&w, s, sizeof s);
        pid_line_start(&w);
        cf_buf_str(&w, "crossfree: cannot open log file '");
        cf_buf_str(&w, name);
        cf_buf_str(&w, "': ");
        cf_buf_str(&w, cf_os_strerror(-fd));
        cf_buf_str(&w, "; writing reports to stderr\n");
        emit_stderr(&w);
        fd = CF_FD_STDERR;
    }
    log_fd = fd;
    return fd;
}

static void write_summary(int fd) {
    char s[512];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    pid_line_start(&b);
    cf_buf_str(&b, "crossfree: ");
    cf_buf_dec(&b, cf_rt_error_count());
    cf_buf_str(&b, " error(s) reported (");
    for (unsigned k = 0; k < CF_ERR_KIND_COUNT; k++) {
        if (k > 0)
            cf_buf_str(&b, ", ");
        cf_buf_str(&b, cf_error_kind_name((cf_error_kind)k));
        cf_buf_str(&b, ": ");
        cf_buf_dec(&b, atomic_load(&error_counts[k]));
    }
    cf_buf_char(&b, ')');
    uint64_t suppressed = atomic_load(&suppressed_count);
    if (suppressed > 0) {
        cf_buf_str(&b, ", ");
        cf_buf_dec(&b, suppressed);
        cf_buf_str(&b, " suppressed");
    }
    cf_buf_str(&b, "; exit status ");
    cf_buf_sdec(&b, cf_flags.exitcode);
    cf_buf_char(&b, '\n');
    cf_os_write_all(fd, b.data, b.len);
}

// Where the exit summary goes: with the reports in text mode, on stderr in
// JSON mode so that a JSON log holds nothing but JSON lines. Caller holds
// report_lock.
static int summary_descriptor(void) { return json_reports ? CF_FD_STDERR : log_descriptor(); }

// Fills `meta` for a JSON report. Caller holds report_lock (the buffers
// are static: a report may be made on a thread with a small stack).
static void report_meta(cf_report_meta *meta) {
    static char exe[1024];
    static char cmdline[4096];
    cf_os_exe_path(exe, sizeof exe);
    meta->executable = exe;
    meta->cmdline = cmdline;
    meta->cmdline_len = cf_os_cmdline(cmdline, sizeof cmdline);
    meta->time_us = cf_os_time_us();
}

// The symbolizer reports use: modules first, then JIT code named from a
// perf map (or marked as JIT), so no frame is ever just "unknown".
static bool symbolize_for_report(uintptr_t pc, bool names, cf_frame_info *out) {
    if (cf_symbolize(pc, names, out))
        return true;
    out->pc = pc;
    out->jit = cf_os_jit_frame(pc, out->function, sizeof out->function);
    return false;
}

// Reports `e`, unless a suppression matches it; returns only when
// halt_on_error=0 or the error was suppressed.
static void report_error(cf_error *e) {
    // Big enough for three 64-frame stacks with long C++ names.
    static char text[96 * 1024];
    cf_rt_guard_enter(); // the symbolizer allocates
    cf_lock_acquire(&report_lock);
    e->pid = cf_os_getpid();
    if (cf_suppressions_count() > 0 && cf_suppressions_match(e, symbolize_for_report)) {
        // Handled like an error with halt_on_error=0 (the caller carries on
        // safely), but silent, and it never changes the exit status.
        atomic_fetch_add(&suppressed_count, 1);
        cf_lock_release(&report_lock);
        cf_rt_guard_leave();
        return;
    }
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    if (json_reports) {
        cf_report_meta meta;
        report_meta(&meta);
        cf_report_format_json(e, &meta, cf_flags.symbolize, symbolize_for_report, &b);
    } else {
        cf_report_format(e, cf_flags.symbolize, symbolize_for_report, &b);
        if (b.truncated)
            cf_buf_str(&b, "crossfree: (report truncated)\n");
    }
    int fd = log_descriptor();
    cf_os_write_all(fd, b.data, b.len);
    atomic_fetch_add(&error_counts[e->kind], 1);
    bool after_exit = exit_summary_done;
    if (after_exit && !cf_flags.halt_on_error)
        write_summary(summary_descriptor());
    cf_lock_release(&report_lock);
    cf_rt_guard_leave();
    if (cf_flags.halt_on_error)
        cf_os_abort();
    if (after_exit)
        cf_os_exit_now((int)cf_flags.exitcode);
}

uint64_t cf_rt_error_count(void) {
    uint64_t n = 0;
    for (unsigned k = 0; k < CF_ERR_KIND_COUNT; k++)
        n += atomic_load(&error_counts[k]);
    return n;
}

// The live block with a header whose bytes contain `p`, found by reading
// backwards from p for a valid header, within p's readable mapping and
// at most `limit` bytes back (error path only).
static bool header_containing(uintptr_t p, cf_record *out) {
    const uintptr_t limit = (uintptr_t)64 << 20;
    uintptr_t lo;
    if (!headers || !cf_os_readable_from(p, &lo))
        return false;
    uintptr_t stop = p - lo > limit ? p - limit : lo;
    for (uintptr_t u = p & ~(uintptr_t)15; u >= stop + CF_HEADER_SIZE; u -= 16) {
        const cf_header *h = (const cf_header *)(u - CF_HEADER_SIZE);
        if (cf_header_valid(u, h->w0, h->w1, header_secret) &&
            cf_header_state(h->w0) == CF_HDR_LIVE) {
            cf_record r = cf_header_record(u, *h);
            uint64_t size = cf_record_size(&r);
            if (p - u < (size ? size : 1)) {
                *out = r;
                return true;
            }
            return false; // the nearest block ends before p
        }
    }
    return false;
}

static void classify_invalid(cf_error *e) {
    cf_record r;
    cf_frame_info f;
    if (header_containing(e->addr, &r) || cf_table_find_containing(e->addr, &r)) {
        e->where = CF_WHERE_INTERIOR;
        e->alloc = r;
        e->has_alloc = true;
    } else if (cf_os_addr_on_current_stack(e->addr)) {
        e->where = CF_WHERE_STACK;
    } else if (cf_symbolize(e->addr, false, &f) && f.module[0] != '\0') {
        e->where = CF_WHERE_STATIC;
        cf_strlcpy(e->where_module, f.module, sizeof e->where_module);
    } else {
        e->where = CF_WHERE_UNKNOWN;
    }
}

static void report_bad_free(cf_error_kind kind, cf_dealloc_fn fn, unsigned family, void *p,
                            const cf_record *rec, const uintptr_t *pcs, unsigned n,
                            const cf_winview *win) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    cf_error e = {0};
    e.kind = kind;
    e.addr = (uintptr_t)p;
    e.tid = cf_rt_tid();
    e.dealloc_fn = fn;
    e.dealloc_family = family;
    e.win = win;
    if (n == 0 && context_size > 0) {
        // The quarantine is off, so the free stack was not taken yet.
        cf_rt_guard_enter();
        n = cf_capture(own, context_size);
        cf_rt_guard_leave();
        pcs = own;
    }
    e.pcs = pcs;
    e.n_pcs = n;
    if (rec != NULL) {
        e.alloc = *rec;
        e.has_alloc = true;
    } else if (cf_quarantine_find(e.addr, &e.prev_free)) {
        if (e.prev_free.free_stack == 0 && e.prev_free.free_pc != 0)
            e.prev_free.free_stack = cf_depot_put(&e.prev_free.free_pc, 1);
        // No owner record, but the quarantine remembers freeing it.
        e.kind = kind = CF_ERR_DOUBLE_FREE;
        e.has_prev_free = true;
        e.alloc = e.prev_free.rec;
        e.has_alloc = true;
    }
    if (kind == CF_ERR_INVALID_FREE) {
        cf_rt_guard_enter();
        classify_invalid(&e);
        cf_rt_guard_leave();
    }
    report_error(&e);
}

// A block that looks malloc'd but was made by a module's private copy of
// operator new (or is released by a private operator delete, which calls
// free) is really in the new family: libraries bound with -Bsymbolic, or
// with a static libstdc++, do this legitimately. On an apparent mismatch
// involving malloc/free, the innermost frames decide. Returns true when the
// pair matches after all; otherwise *rec, *fn and *family carry the
// operator's words for the report.
static bool private_operators_match(cf_record *rec, cf_dealloc_fn *fn, unsigned *family,
                                    const uintptr_t **pcs, unsigned *n, uintptr_t *own) {
    static const cf_alloc_fn new_fn[CF_FAM_BUILTIN_COUNT] = {
        [CF_FAM_NEW] = CF_ALLOC_NEW,
        [CF_FAM_NEW_ARRAY] = CF_ALLOC_NEW_ARRAY,
        [CF_FAM_NEW_ALIGN] = CF_ALLOC_NEW_ALIGN,
        [CF_FAM_NEW_ARRAY_ALIGN] = CF_ALLOC_NEW_ARRAY_ALIGN,
    };
    static const cf_dealloc_fn delete_fn[CF_FAM_BUILTIN_COUNT] = {
        [CF_FAM_NEW] = CF_DEALLOC_DELETE,
        [CF_FAM_NEW_ARRAY] = CF_DEALLOC_DELETE_ARRAY,
        [CF_FAM_NEW_ALIGN] = CF_DEALLOC_DELETE_ALIGN,
        [CF_FAM_NEW_ARRAY_ALIGN] = CF_DEALLOC_DELETE_ARRAY_ALIGN,
    };
    unsigned a = cf_record_family(rec);
    unsigned d = *family;
    if (a != CF_FAM_MALLOC && d != CF_FAM_MALLOC)
        return false;
    cf_rt_guard_enter(); // symbolizing allocates
    if (a == CF_FAM_MALLOC) {
        const uintptr_t *apcs;
        if (cf_depot_get(rec->stack, &apcs) > 0)
            a = cf_private_operator_family(apcs[0], true);
        if (a == CF_FAM_NONE)
            a = CF_FAM_MALLOC;
    }
    if (d == CF_FAM_MALLOC && *fn == CF_DEALLOC_FREE) {
        if (*n == 0 && context_size > 0) {
            *n = cf_capture(own, context_size);
            *pcs = own;
        }
        if (*n > 0)
            d = cf_private_operator_family((*pcs)[0], false);
        if (d == CF_FAM_NONE)
            d = CF_FAM_MALLOC;
    }
    cf_rt_guard_leave();
    if (a != cf_record_family(rec))
        *rec = cf_record_make(rec->addr, cf_record_size(rec), a, new_fn[a], rec->stack,
                              cf_record_tid(rec));
    if (d != *family) {
        *family = d;
        *fn = delete_fn[d];
    }
    return a == d;
}

// semantics=windows: judges a release as a Windows build would make it
// (cf_winsem_judge's -1, 0 or 1), taking the release stack first if the
// caller has none yet.
static int windows_view(const cf_record *rec, cf_dealloc_fn fn, unsigned family,
                        const uintptr_t **pcs, unsigned *n, uintptr_t *own, bool linux_ok,
                        cf_winview *v) {
    cf_rt_guard_enter(); // capture and the symbolizer may allocate
    if (*n == 0 && context_size > 0) {
        *n = cf_capture(own, context_size);
        *pcs = own;
    }
    int r = cf_winsem_judge(rec, fn, family, *pcs, *n, linux_ok, symbolize_for_report, v);
    cf_rt_guard_leave();
    return r;
}

// ---------------------------------------------------------------------------
// Hooks

// The two semantics=windows steps of a release live in functions of their
// own (never inlined), so that their buffers do not grow the release
// path's stack frame when the option is off.

// Reports a Linux mismatch, with its Windows view under semantics=windows.
static __attribute__((noinline)) void report_mismatch(cf_dealloc_fn fn, unsigned family, void *p,
                                                      const cf_record *rec, const uintptr_t *pcs,
                                                      unsigned n, uintptr_t *own) {
    cf_winview v;
    const cf_winview *win = NULL;
    if (winsem && windows_view(rec, fn, family, &pcs, &n, own, false, &v) >= 0)
        win = &v;
    report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, pcs, n, win);
}

// A pair that is right on Linux, judged as on Windows: false after a
// report (a Windows build would send the block to another heap).
static __attribute__((noinline)) bool windows_accepts(cf_dealloc_fn fn, unsigned family, void *p,
                                                      const cf_record *rec, const uintptr_t *pcs,
                                                      unsigned n) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    cf_winview v;
    if (windows_view(rec, fn, family, &pcs, &n, own, true, &v) != 0)
        return true;
    report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, pcs, n, &v);
    return false;
}

// The depot id of the calling thread's stack (0 with malloc_context_size=0).
static uint32_t current_stack_id(cf_tls *t) {
    if (context_size == 0)
        return 0;
    t->guard++;
    uint32_t id = cf_capture_id(context_size);
    t->guard--;
    return id;
}

// Keeps the record of a live block: in its header when it has one that can
// be read and holds it, else in the table (the header then says so).
static void store_record(const cf_record *r) {
    if (!cf_record_has_header(r)) {
        cf_table_insert(r);
        return;
    }
    cf_header *h = (cf_header *)(r->addr - CF_HEADER_SIZE);
    cf_header v = cf_header_make(r, CF_HDR_LIVE, header_secret);
    if (cf_header_state(v.w0) == CF_HDR_LIVE && cf_header_readable(r->addr)) {
        *h = v;
        return;
    }
    *h = cf_header_make(r, CF_HDR_TABLE, header_secret);
    cf_table_insert(r);
}

static void record_alloc(cf_tls *t, cf_alloc_fn fn, unsigned family, uintptr_t p, size_t size,
                         uint32_t stack, bool header) {
    if (t->guard > 0) {
        fn = CF_ALLOC_INTERNAL;
        family = CF_FAM_MALLOC;
    }
    cf_record r = cf_record_make(p, size, family, fn, stack, cf_rt_tid());
    if (header)
        cf_record_set_header(&r);
    store_record(&r);
}

// The header of `p` when it has a live one that holds its record (read
// into *v), else NULL: the record, if any, is in the table.
static inline cf_header *live_header(uintptr_t p, cf_header *v) {
    if (!headers || !cf_header_readable(p))
        return NULL;
    cf_header *h = (cf_header *)(p - CF_HEADER_SIZE);
    v->w0 = __atomic_load_n(&h->w0, __ATOMIC_RELAXED);
    v->w1 = __atomic_load_n(&h->w1, __ATOMIC_RELAXED);
    return cf_header_state(v->w0) == CF_HDR_LIVE && cf_header_valid(p, v->w0, v->w1, header_secret)
               ? h
               : NULL;
}

// Detaches the live record of `p` (its header turns FREED, or it leaves the
// table). False when there is none: never allocated or already freed.
static bool take_record(uintptr_t p, cf_record *out) {
    cf_header v;
    cf_header *h = live_header(p, &v);
    if (h == NULL)
        return cf_table_remove(p, out);
    // The state change invalidates the check too: a FREED header never
    // reads as anything. A plain store, not a compare-and-swap: the locked
    // instruction cost a third of the free path, and only two threads
    // freeing one block at the same instant (a race the program's own
    // allocator would not survive either) could both pass the check.
    __atomic_store_n(&h->w0,
                     (v.w0 & ~CF_HDR_STATE_MASK) | (uint64_t)CF_HDR_FREED << CF_HDR_STATE_SHIFT,
                     __ATOMIC_RELAXED);
    *out = cf_header_record(p, v);
    return true;
}

bool cf_rt_lookup(const void *p, cf_record *out) {
    cf_header v;
    if (live_header((uintptr_t)p, &v) != NULL) {
        *out = cf_header_record((uintptr_t)p, v);
        return true;
    }
    return cf_table_lookup((uintptr_t)p, out);
}

uintptr_t cf_rt_real_block(const void *p) {
    cf_record r;
    if (cf_rt_is_bootstrap(p) || !headers || !cf_rt_lookup(p, &r))
        return (uintptr_t)p;
    return cf_record_real_addr(&r);
}

void cf_rt_on_alloc_family(cf_alloc_fn fn, unsigned family, void *p, size_t size) {
    if (p == NULL || !checking)
        return;
    cf_tls *t = &cf_tls_data;
    // A block that already has a live header was made through our own
    // malloc (by the real operator new, under the guard): its header
    // takes the new record.
    cf_record old;
    bool header = headers && cf_rt_lookup(p, &old) && cf_record_has_header(&old);
    if (!headers)
        cf_table_prefetch((uintptr_t)p); // the stack capture hides the cache miss
    record_alloc(t, fn, family, (uintptr_t)p, size, t->guard > 0 ? 0 : current_stack_id(t), header);
}

void *cf_rt_on_alloc_header(cf_alloc_fn fn, void *real, size_t size) {
    if (real == NULL || !checking)
        return real;
    if (!headers) {
        cf_rt_on_alloc(fn, real, size);
        return real;
    }
    cf_tls *t = &cf_tls_data;
    uintptr_t user = (uintptr_t)real + CF_HEADER_SIZE;
    record_alloc(t, fn, cf_family_of_alloc(fn), user, size, t->guard > 0 ? 0 : current_stack_id(t),
                 true);
    return (void *)user;
}

bool cf_rt_on_free(cf_dealloc_fn fn, unsigned family, void *p) {
    if (cf_rt_is_bootstrap(p))
        return true;
    if (!checking) {
        cf_platform_release((uintptr_t)p, family);
        return true;
    }
    cf_tls *t = &cf_tls_data;
    if (!headers)
        cf_table_prefetch((uintptr_t)p);
    if (t->guard > 0) {
        // crossfree's own dependencies free what they allocated: no checks.
        cf_record r;
        if (take_record((uintptr_t)p, &r))
            cf_platform_release(cf_record_real_addr(&r), cf_record_family(&r));
        else
            cf_platform_release((uintptr_t)p, CF_FAM_MALLOC);
        return true;
    }
    // Blocks of program-registered families are remembered in the
    // quarantine too (for double frees), but the program releases them
    // itself: cf_platform_release ignores them.
    bool quarantine = cf_quarantine_enabled();
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    unsigned n = 0;
    // The quarantine keeps free_context_size frames of each free (by
    // default just the calling pc, found without unwinding); semantics=
    // windows needs the whole stack to see which side freed.
    unsigned depth = winsem ? context_size : free_context;
    if (quarantine && depth == 1) {
        pcs[0] = cf_capture_caller();
        n = pcs[0] != 0;
    } else if (quarantine && depth > 1) {
        t->guard++;
        n = cf_capture(pcs, depth);
        t->guard--;
    }
    // A report shows the whole stack of the bad call: a shallower capture
    // is passed as none, and the report takes it again (error path).
    bool whole = depth >= context_size;
    const uintptr_t *report_pcs = whole ? pcs : NULL;
    unsigned report_n = whole ? n : 0;
    cf_record rec;
    if (!take_record((uintptr_t)p, &rec)) {
        // A double free if the quarantine remembers the block, else invalid.
        report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, NULL, report_pcs, report_n, NULL);
        return false; // halt_on_error=0: never hand the real allocator a foreign or held pointer
    }
    unsigned fam = cf_record_family(&rec);
    bool ok = fam == family;
    if (!ok) {
        uintptr_t own[CF_DEPOT_MAX_FRAMES];
        const uintptr_t *stack = pcs;
        cf_record shown = rec;
        cf_dealloc_fn shown_fn = fn;
        unsigned shown_family = family;
        unsigned shown_n = n;
        ok = private_operators_match(&shown, &shown_fn, &shown_family, &stack, &shown_n, own);
        if (!ok && stack == pcs && !whole) {
            stack = NULL; // only frame #0 was taken: let the report unwind
            shown_n = 0;
        }
        if (!ok)
            report_mismatch(shown_fn, shown_family, p, &shown, stack, shown_n, own);
    } else if (winsem) {
        ok = windows_accepts(fn, family, p, &rec, pcs, n);
    }
    if (quarantine) {
        cf_qentry q = {0};
        q.rec = rec;
        // One frame (free_context_size=1, the default) waits in the entry
        // itself: hashing it into the depot on every free would cost more
        // than the rare report that reads it.
        if (n == 1)
            q.free_pc = pcs[0];
        else
            q.free_stack = cf_depot_put(pcs, n);
        q.free_tid = cf_rt_tid();
        q.dealloc_fn = (uint8_t)fn;
        if (cf_quarantine_push(q.free_tid, &q, cf_platform_release))
            return ok;
    }
    // The block goes back through the deallocator of the family that made
    // it, which is the safest thing to do after a mismatch too.
    cf_platform_release(cf_record_real_addr(&rec), fam);
    return ok;
}

// The family check of realloc, and under semantics=windows its Windows
// view; out of line for the same reason as windows_accepts.
static __attribute__((noinline)) void check_realloc_pair(cf_dealloc_fn fn, unsigned family, void *p,
                                                         const cf_record *rec, bool linux_ok) {
    uintptr_t own[CF_DEPOT_MAX_FRAMES];
    const uintptr_t *stack = NULL;
    unsigned n = 0;
    cf_winview v;
    int windows = winsem ? windows_view(rec, fn, family, &stack, &n, own, linux_ok, &v) : -1;
    if (!linux_ok || windows == 0)
        report_bad_free(CF_ERR_MISMATCH, fn, family, p, rec, stack, n, windows >= 0 ? &v : NULL);
}

bool cf_rt_realloc_begin(cf_dealloc_fn fn, void *p, cf_record *saved) {
    cf_record rec;
    if (!checking) {
        *saved = cf_record_make((uintptr_t)p, 0, CF_FAM_MALLOC, CF_ALLOC_REALLOC, 0, 0);
        return true;
    }
    if (cf_tls_data.guard > 0) {
        if (!take_record((uintptr_t)p, saved))
            *saved = cf_record_make((uintptr_t)p, 0, CF_FAM_MALLOC, CF_ALLOC_INTERNAL, 0, 0);
        return true;
    }
    unsigned family = cf_family_of_dealloc(fn);
    if (!take_record((uintptr_t)p, &rec)) {
        report_bad_free(CF_ERR_INVALID_FREE, fn, family, p, NULL, NULL, 0, NULL);
        return false;
    }
    bool linux_ok = cf_record_family(&rec) == family;
    if (!linux_ok || winsem)
        check_realloc_pair(fn, family, p, &rec, linux_ok);
    *saved = rec;
    return true;
}

// realloc released the old block itself (it moved, or the size was 0):
// remember its address without holding memory, so a later free of the
// stale pointer reads as a double-free rather than an unknown pointer.
// If another thread is handed the same address meanwhile, its live record
// is found first and the ghost is never consulted.
static void remember_released(const cf_record *old, uint32_t free_stack) {
    if (!cf_quarantine_enabled())
        return;
    cf_qentry q = {0};
    q.rec = *old;
    q.free_stack = free_stack;
    q.free_tid = cf_rt_tid();
    q.dealloc_fn = CF_DEALLOC_REALLOC;
    q.ghost = 1;
    cf_quarantine_push(q.free_tid, &q, cf_platform_release);
}

void *cf_rt_realloc_end(cf_alloc_fn fn, const cf_record *saved, void *newp, size_t size) {
    if (!checking)
        return newp;
    cf_tls *t = &cf_tls_data;
    if (newp == NULL && size != 0) {
        store_record(saved); // the real call failed: the old block lives on
        return NULL;
    }
    bool header = cf_record_has_header(saved) && size != 0;
    uintptr_t user = newp == NULL ? 0 : (uintptr_t)newp + (header ? CF_HEADER_SIZE : 0);
    uint32_t stack = t->guard > 0 ? 0 : current_stack_id(t);
    if (newp != NULL)
        record_alloc(t, fn, cf_family_of_alloc(fn), user, size, stack, header);
    if (t->guard == 0 && user != saved->addr)
        remember_released(saved, stack);
    return (void *)user;
}

// ---------------------------------------------------------------------------
// Exit and fork

void cf_rt_at_exit(void) {
    if (atomic_load(&cf_rt_state) != CF_RT_READY)
        return;
    if (cf_flags.verbosity >= 1) {
        cf_table_stats ts;
        cf_depot_stats ds;
        cf_table_get_stats(&ts);
        cf_depot_get_stats(&ds);
        char s[512];
        cf_buf b;
        cf_buf_init(&b, s, sizeof s);
        pid_line_start(&b);
        cf_buf_str(&b, "crossfree: at exit: ");
        cf_buf_dec(&b, ts.records);
        cf_buf_str(&b, " records in ");
        cf_buf_dec(&b, ts.slots);
        cf_buf_str(&b, " slots (");
        cf_buf_dec(&b, ts.mapped_bytes);
        cf_buf_str(&b, " bytes; 16 per compact slot, 24 per full one), depot: ");
        cf_buf_dec(&b, ds.stacks);
        cf_buf_str(&b, " stacks in ");
        cf_buf_dec(&b, ds.used_bytes);
        cf_buf_str(&b, " bytes\n");
        emit_stderr(&b);
#if CF_FAST_UNWIND
        if (cf_flags.fast_unwind) {
            cf_fast_unwind_stats us;
            cf_fast_unwind_get_stats(&us);
            cf_buf_init(&b, s, sizeof s);
            pid_line_start(&b);
            cf_buf_str(&b, "crossfree: at exit: unwinder: ");
            cf_buf_dec(&b, us.chain_fills);
            cf_buf_str(&b, " chains and ");
            cf_buf_dec(&b, us.rule_fills);
            cf_buf_str(&b, " rules computed, ");
            cf_buf_dec(&b, us.fallbacks);
            cf_buf_str(&b, " stacks left to libunwind");
            if (cf_flags.fast_unwind == 2) {
                cf_buf_str(&b, ", ");
                cf_buf_dec(&b, cf_capture_mismatches());
                cf_buf_str(&b, " differences from libunwind");
            }
            cf_buf_char(&b, '\n');
            emit_stderr(&b);
        }
#endif
    }
    cf_lock_acquire(&report_lock);
    exit_summary_done = true;
    bool exit_now = !cf_flags.halt_on_error && cf_rt_error_count() > 0;
    if (exit_now)
        write_summary(summary_descriptor());
    uint64_t suppressed = atomic_load(&suppressed_count);
    if (cf_flags.verbosity >= 1 && suppressed > 0) {
        // Room for every rule's line (CF_SUPP_MAX_RULES of them); static,
        // under report_lock.
        static char used[CF_SUPP_MAX_RULES * (CF_SUPP_PATTERN_MAX + 64) + 128];
        cf_buf b;
        cf_buf_init(&b, used, sizeof used);
        pid_line_start(&b);
        cf_buf_str(&b, "crossfree: ");
        cf_buf_dec(&b, suppressed);
        cf_buf_str(&b, " error(s) suppressed\n");
        char prefix[64];
        cf_buf p;
        cf_buf_init(&p, prefix, sizeof prefix);
        pid_line_start(&p);
        cf_buf_str(&p, "crossfree:   ");
        cf_suppressions_format_used(&b, prefix);
        emit_stderr(&b);
    }
    cf_lock_release(&report_lock);
    if (exit_now)
        cf_os_exit_now((int)cf_flags.exitcode);
}

void cf_rt_modules_changed(void) {
    cf_capture_modules_changed();
    cf_winsem_modules_changed();
}

void cf_rt_fork_prepare(void) {
    cf_lock_acquire(&report_lock);
    cf_quarantine_lock_all();
    cf_table_lock_all();
}

void cf_rt_fork_parent(void) {
    cf_table_unlock_all();
    cf_quarantine_unlock_all();
    cf_lock_release(&report_lock);
}

void cf_rt_fork_child(void) {
    // Only the forking thread exists in the child; it held every lock.
    cf_winsem_fork_child();
    cf_table_unlock_all();
    cf_quarantine_unlock_all();
    cf_lock_release(&report_lock);
}
