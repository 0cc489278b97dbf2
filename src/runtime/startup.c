// SPDX-License-Identifier: MIT
// Start-up: the bootstrap arena that serves allocations made while
// crossfree finds the real allocator, the options and the settings derived
// from them, `only`, the suppressions file, and the fork and module-change
// handlers. Nothing here runs on a checked call's path.
#include "core/header.h"
#include "core/quarantine.h"
#include "report/hosts.h"
#include "report/suppress.h"
#include "runtime/internal.h"
#include "runtime/options.h"
#include "runtime/threads.h"
#include "runtime/winsem.h"
#include "stack/capture.h"
#include "stack/depot.h"
#include "support/fmt.h"
#include "support/glob.h"
#include "support/log.h"

atomic_int cf_rt_state;
#if !CF_OS_MACOS // the platform keeps it there (platform.h)
__thread cf_tls cf_tls_data __attribute__((tls_model("initial-exec")));
#endif

cf_rt_settings cf_rt_set = {.checking = true};
size_t cf_rt_header_bytes;

// ---------------------------------------------------------------------------
// Bootstrap arena

// dlsym and friends may allocate while crossfree looks up the real
// allocator; those blocks come from here and are never released.
_Alignas(64) unsigned char cf_rt_bootstrap[CF_RT_BOOTSTRAP_BYTES];
static atomic_size_t bootstrap_used;

void *cf_rt_bootstrap_alloc(size_t size, size_t align) {
    if (align < 16)
        align = 16;
    for (;;) {
        size_t used = atomic_load(&bootstrap_used);
        // 16-byte header before the block holds its size.
        size_t start = (used + 16 + align - 1) & ~(align - 1);
        if (size > CF_RT_BOOTSTRAP_BYTES || start + size > CF_RT_BOOTSTRAP_BYTES)
            return NULL;
        if (atomic_compare_exchange_weak(&bootstrap_used, &used, start + size)) {
            *(size_t *)(void *)(cf_rt_bootstrap + start - 16) = size;
            return cf_rt_bootstrap + start;
        }
    }
}

size_t cf_rt_bootstrap_size(const void *p) {
    return *(const size_t *)(const void *)((const unsigned char *)p - 16);
}

// ---------------------------------------------------------------------------
// Options and settings

static void init_options(void) {
    char storage[2048];
    cf_buf w;
    cf_buf_init(&w, storage, sizeof storage);
    cf_options_set_defaults(&cf_flags);
    cf_options_parse(&cf_flags, cf_os_getenv("CROSSFREE_OPTIONS"), &w);
    cf_log_write(&w);
    cf_buf_init(&w, storage, sizeof storage);
    cf_rt_set.winsem = cf_options_configure(&cf_flags, &w);
    cf_log_write(&w);
    cf_capture_set_fast((unsigned)cf_flags.fast_unwind, (unsigned)cf_flags.malloc_context_size);
    cf_rt_set.context_size = (unsigned)cf_flags.malloc_context_size;
    cf_rt_set.free_context = (unsigned)cf_flags.free_context_size;
    if (cf_rt_set.free_context > cf_rt_set.context_size)
        cf_rt_set.free_context = cf_rt_set.context_size;
    cf_rt_set.json_reports = cf_strcmp(cf_flags.report_format, "json") == 0;
    if (cf_flags.help) {
        char help[4096];
        cf_buf h;
        cf_buf_init(&h, help, sizeof help);
        cf_options_help(&h);
        cf_rt_emit_stderr(&h);
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
        cf_log_error("cannot read suppressions file '%s': %s; no error is suppressed", path,
                     cf_os_strerror((int)-n));
        return;
    }
    size_t len = (size_t)n;
    if (len > CF_SUPP_FILE_MAX) {
        // Only whole lines of the first CF_SUPP_FILE_MAX bytes: a pattern
        // cut in two could match far more than its author meant.
        len = CF_SUPP_FILE_MAX;
        while (len > 0 && file_text[len - 1] != '\n')
            len--;
        cf_log_append(&w, CF_LOG_ERROR,
                      "suppressions file '%s' is larger than %u bytes; only the lines in its "
                      "first %u bytes are used",
                      path, CF_SUPP_FILE_MAX, CF_SUPP_FILE_MAX);
    }
    cf_suppressions_parse(path, file_text, len, &w);
    cf_log_write(&w);
    // A full buffer has no room left for this line: it comes on its own.
    if (w.truncated)
        cf_log_error("suppressions file '%s': more errors not shown", path);
    if (cf_flags.verbosity >= 1)
        cf_log_note("%u suppression rule(s) loaded from '%s'", cf_suppressions_count(), path);
}

// Start-up could not map the tables (the reason checking is off).
static bool no_memory;

static bool init_everything(void) {
    CF_RT_GUARDED;       // finding the real allocator may allocate
    cf_os_keep_stderr(); // before anything is written
    init_options();
    if (cf_flags.only[0] != '\0')
        cf_rt_set.checking = selected_by_only(cf_flags.only);
    if (cf_rt_set.checking && (!cf_table_init() || !cf_depot_init(CF_DEPOT_RESERVE_BYTES) ||
                               !cf_quarantine_init((size_t)cf_flags.quarantine_size_mb << 20))) {
        // Without its tables crossfree cannot check, but the program can
        // still run: every call passes straight through.
        cf_log_error("cannot map memory for its tables; checking is off in this process");
        cf_rt_set.checking = false;
        no_memory = true;
    }
    if (cf_rt_set.checking) {
        load_suppressions();
        (void)cf_rt_threads_init(); // without it, reports name threads by number only
        cf_rt_bridges_refresh();
        cf_rt_private_code_note();
    }
    if (!cf_platform_init())
        return false;
    // Static: start-up may run on a small thread stack.
    static char shadow_line[CF_LOG_LINE_MAX];
    cf_rt_set.shadowed = cf_platform_allocator_shadowed(shadow_line, sizeof shadow_line);
    if (cf_rt_set.shadowed && cf_rt_set.checking)
        cf_log_note("%s", shadow_line);
    // Headers only where every block of the C++ families starts a block of
    // crossfree's own: not with a program's own operator new, nor when
    // another allocator's free, which crossfree does not see, may release
    // a block crossfree handed out.
    if (cf_rt_set.checking && CF_BLOCK_HEADERS && !cf_platform_operators_replaced() &&
        !cf_rt_set.shadowed) {
        // Not secret from the program, only unlikely to appear by chance:
        // the start time, an address that moves with ASLR, the pid.
        volatile char here = 0;
        cf_rt_set.header_secret = cf_os_time_us() * UINT64_C(0x9e3779b97f4a7c15) ^
                                  (uint64_t)(uintptr_t)&here ^ (uint64_t)cf_os_getpid() << 40;
        cf_rt_set.headers = true;
        cf_rt_header_bytes = CF_HEADER_SIZE;
    }
    cf_rt_run_started();
    return true;
}

bool cf_rt_enter_slow(void) {
    cf_tls *t = &cf_tls_data;
    if (t->initializing)
        return false;
    int expected = CF_RT_UNINIT;
    if (atomic_compare_exchange_strong(&cf_rt_state, &expected, CF_RT_INITIALIZING)) {
        t->initializing = true;
        bool ok = init_everything();
        t->initializing = false;
        if (!ok)
            cf_os_exit_now(127); // no real allocator to call: nothing can run
        atomic_store_explicit(&cf_rt_state, CF_RT_READY, memory_order_release);
        if (cf_flags.verbosity >= 1 && cf_rt_set.checking)
            cf_log_note("checking this process");
        else if (cf_flags.verbosity >= 1 && no_memory)
            cf_log_note("not checking this process: no memory for its tables");
        else if (cf_flags.verbosity >= 1)
            cf_log_note("not checking this process: only=%s matches neither its executable nor "
                        "its argv[0]",
                        cf_flags.only);
        return true;
    }
    while (atomic_load_explicit(&cf_rt_state, memory_order_acquire) != CF_RT_READY)
        cf_os_yield();
    return true;
}

// ---------------------------------------------------------------------------
// Modules and fork

bool cf_rt_checking(void) { return cf_rt_set.checking; }

void cf_rt_modules_changed(void) {
    cf_capture_modules_changed();
    cf_winsem_modules_changed();
    cf_rt_bridges_refresh();
}

void cf_rt_fork_prepare(void) {
    cf_rt_output_lock();
    cf_quarantine_lock_all();
    cf_table_lock_all();
}

void cf_rt_fork_parent(void) {
    cf_table_unlock_all();
    cf_quarantine_unlock_all();
    cf_rt_output_unlock();
}

void cf_rt_fork_child(void) {
    // Only the forking thread exists in the child; it held every lock.
    cf_log_set_fd(CF_FD_STDERR); // until the child opens its own log file
    cf_rt_threads_fork_child();
    cf_winsem_fork_child();
    cf_table_unlock_all();
    cf_quarantine_unlock_all();
    cf_rt_output_unlock();
}
