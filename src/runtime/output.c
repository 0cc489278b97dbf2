// SPDX-License-Identifier: MIT
// Where reports go and what the process says when it ends: the log file
// (one per process, opened on its first report), the report itself under
// the report lock, the error counts and the exit summary. Error and exit
// paths only; formatting is report/'s pure functions.
#include <errno.h>

#include "core/table.h"
#include "report/json.h"
#include "report/suppress.h"
#include "runtime/internal.h"
#include "runtime/options.h"
#include "runtime/threads.h"
#include "stack/capture.h"
#include "stack/depot.h"
#include "stack/fast_unwind.h"
#include "support/fmt.h"
#include "support/lock.h"
#include "support/log.h"

static atomic_uint_fast64_t error_counts[CF_ERR_KIND_COUNT];
// Errors a suppression rule matched: counted, never reported.
static atomic_uint_fast64_t suppressed_count;
static bool exit_summary_done;

void cf_rt_emit_stderr(const cf_buf *b) { cf_os_write_all(CF_FD_STDERR, b->data, b->len); }

// ---------------------------------------------------------------------------
// The channel to `crossfree run`

// `crossfree run` sets CROSSFREE_RUN_DIR to a private directory that it
// reads once its command has ended, however the processes under it ended
// (exit, _exit, the raw exit_group of Go's runtime, a signal): each process
// writes one file there when it starts, saying whether it is checked and
// what it runs, then one line per error it reports. Without the variable
// (plain LD_PRELOAD) nothing is written. The descriptor is close-on-exec; a
// fork child appends to its parent's file, which is what counting needs.
static int run_fd = -1;

void cf_rt_run_started(void) {
    const char *dir = cf_os_getenv("CROSSFREE_RUN_DIR");
    if (dir == NULL || dir[0] == '\0')
        return;
    char path[CF_OPTION_STR_MAX + 64];
    cf_buf p;
    cf_buf_init(&p, path, sizeof path);
    cf_buf_printf(&p, "%s/p.%d.%llu", dir, cf_os_getpid(), (unsigned long long)cf_os_time_us());
    int fd = p.truncated ? -ENAMETOOLONG : cf_os_open_log(path);
    if (fd < 0) {
        cf_log_warn("cannot write to crossfree run's directory '%s': %s; its exit status will "
                    "not count this process's errors",
                    dir, cf_os_strerror(-fd));
        return;
    }
    // Static: start-up may run on a small thread stack.
    static char exe[1024];
    static char line[sizeof exe + CF_OPTION_STR_MAX + 32];
    cf_os_exe_path(exe, sizeof exe);
    cf_buf b;
    cf_buf_init(&b, line, sizeof line);
    if (cf_rt_set.checking)
        cf_buf_printf(&b, "checked\t%s\n", exe);
    else
        cf_buf_printf(&b, "unchecked\t%s\t%s\n", exe, cf_flags.only);
    cf_os_write_all(fd, b.data, b.len);
    run_fd = fd;
}

// One line per reported error. Caller holds report_lock.
static void run_note_error(cf_error_kind kind) {
    if (run_fd < 0)
        return;
    char line[64];
    cf_buf b;
    cf_buf_init(&b, line, sizeof line);
    cf_buf_printf(&b, "error\t%s\n", cf_error_kind_name(kind));
    cf_os_write_all(run_fd, b.data, b.len);
}

// ---------------------------------------------------------------------------
// Reports

static cf_lock report_lock;
static int log_fd = -1;
static int log_pid;
static char log_name[CF_OPTION_STR_MAX + 32];

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
    cf_buf_printf(&b, "%s.%d", path, pid);
    int fd = cf_os_open_log(name);
    log_pid = pid;
    cf_strlcpy(log_name, name, sizeof log_name);
    if (fd < 0) {
        char s[CF_OPTION_STR_MAX + 256];
        cf_buf w;
        cf_buf_init(&w, s, sizeof s);
        cf_log_append(&w, CF_LOG_WARNING,
                      "cannot open log file '%s': %s; writing reports to stderr", name,
                      cf_os_strerror(-fd));
        cf_rt_emit_stderr(&w);
        fd = CF_FD_STDERR;
    }
    // crossfree's own lines follow the text reports (a JSON log holds only
    // JSON lines).
    cf_log_set_fd(cf_rt_set.json_reports ? CF_FD_STDERR : fd);
    log_fd = fd;
    return fd;
}

// Writes [s, s+n) to the log *fd. When the log cannot take it whole (a
// full disk, RLIMIT_FSIZE, the file or its directory removed while open),
// it all goes to stderr after one warning, and so does everything later:
// a report is never lost to a log nobody can read. Caller holds report_lock.
static void write_log(int *fd, const char *s, size_t n) {
    if (*fd == CF_FD_STDERR || *fd == 1) {
        cf_os_write_all(*fd, s, n);
        return;
    }
    int err = cf_os_file_unlinked(*fd) ? ENOENT : cf_os_write_all(*fd, s, n);
    if (err == 0)
        return;
    char w[CF_OPTION_STR_MAX + 256];
    cf_buf b;
    cf_buf_init(&b, w, sizeof w);
    cf_log_append(&b, CF_LOG_WARNING,
                  "cannot write to log file '%s': %s; this report and the ones after it go to "
                  "stderr",
                  log_name, err == ENOENT ? "it was removed" : cf_os_strerror(err));
    cf_rt_emit_stderr(&b);
    cf_os_close(*fd);
    log_fd = CF_FD_STDERR;
    cf_log_set_fd(CF_FD_STDERR);
    *fd = CF_FD_STDERR;
    cf_os_write_all(CF_FD_STDERR, s, n);
}

static void write_summary(int fd) {
    char counts[256];
    cf_buf c;
    cf_buf_init(&c, counts, sizeof counts);
    for (unsigned k = 0; k < CF_ERR_KIND_COUNT; k++)
        cf_buf_printf(&c, "%s%s: %llu", k > 0 ? ", " : "", cf_error_kind_name((cf_error_kind)k),
                      (unsigned long long)atomic_load(&error_counts[k]));
    char suppressed[64] = "";
    uint64_t n_suppressed = atomic_load(&suppressed_count);
    if (n_suppressed > 0) {
        cf_buf sb;
        cf_buf_init(&sb, suppressed, sizeof suppressed);
        cf_buf_printf(&sb, ", %llu suppressed", (unsigned long long)n_suppressed);
    }
    char s[512];
    cf_buf b;
    cf_buf_init(&b, s, sizeof s);
    cf_log_append(&b, CF_LOG_NOTE, "%llu error(s) reported (%s)%s; exit status %lld",
                  (unsigned long long)cf_rt_error_count(), counts, suppressed,
                  (long long)cf_flags.exitcode);
    cf_os_write_all(fd, b.data, b.len);
}

// Where the exit summary goes: with the reports in text mode, on stderr in
// JSON mode so that a JSON log holds nothing but JSON lines. Caller holds
// report_lock.
static int summary_descriptor(void) {
    return cf_rt_set.json_reports ? CF_FD_STDERR : log_descriptor();
}

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

bool cf_rt_symbolize_for_report(uintptr_t pc, bool names, cf_frame_info *out) {
    if (cf_symbolize(pc, names, out))
        return true;
    out->pc = pc;
    out->jit = cf_os_jit_frame(pc, out->function, sizeof out->function);
    return false;
}

// Writes the report of `e` (or counts it as suppressed) under the report
// lock; false when a suppression matched. *after_exit: the exit summary
// was already written, so this report comes from an exit-time free.
static bool write_report_locked(cf_error *e, bool *after_exit);

static bool write_report(cf_error *e, bool *after_exit) {
    // A pending cancellation waits for the program's next cancellation
    // point: never one inside the report (platform.h).
    int cancel = cf_os_cancel_disable();
    bool written = write_report_locked(e, after_exit);
    cf_os_cancel_restore(cancel);
    return written;
}

static bool write_report_locked(cf_error *e, bool *after_exit) {
    // Big enough for three 64-frame stacks with long C++ names.
    static char text[96 * 1024];
    CF_RT_GUARDED; // the symbolizer allocates
    cf_lock_acquire(&report_lock);
    e->pid = cf_os_getpid();
    e->threads = cf_rt_thread_describe;
    if (cf_suppressions_count() > 0 && cf_suppressions_match(e, cf_rt_symbolize_for_report)) {
        // Handled like an error with halt_on_error=0 (the caller carries on
        // safely), but silent, and it never changes the exit status.
        atomic_fetch_add(&suppressed_count, 1);
        cf_lock_release(&report_lock);
        return false;
    }
    cf_buf b;
    cf_buf_init(&b, text, sizeof text);
    if (cf_rt_set.json_reports) {
        cf_report_meta meta;
        report_meta(&meta);
        cf_report_format_json(e, &meta, cf_flags.symbolize, cf_rt_symbolize_for_report, &b);
    } else {
        cf_report_format(e, cf_flags.symbolize, cf_rt_symbolize_for_report, &b);
    }
    int fd = log_descriptor();
    write_log(&fd, b.data, b.len);
    if (b.truncated && !cf_rt_set.json_reports) {
        // The full buffer has no room for it: the note comes on its own
        // line. (A JSON record says "truncated": true itself.)
        char note[128];
        cf_buf nb;
        cf_buf_init(&nb, note, sizeof note);
        if (b.len > 0 && b.data[b.len - 1] != '\n')
            cf_buf_char(&nb, '\n');
        cf_log_append(&nb, CF_LOG_NOTE, "(report truncated)");
        write_log(&fd, nb.data, nb.len);
    }
    atomic_fetch_add(&error_counts[e->kind], 1);
    run_note_error(e->kind);
    *after_exit = exit_summary_done;
    if (*after_exit && !cf_flags.halt_on_error)
        write_summary(summary_descriptor());
    cf_lock_release(&report_lock);
    return true;
}

void cf_rt_report_error(cf_error *e) {
    bool after_exit = false;
    if (!write_report(e, &after_exit))
        return;
    // Outside the guard: the program's SIGABRT handler runs checked.
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

// ---------------------------------------------------------------------------
// Exit

void cf_rt_at_exit(void) {
    if (atomic_load(&cf_rt_state) != CF_RT_READY)
        return;
    if (cf_flags.verbosity >= 1) {
        cf_table_stats ts;
        cf_depot_stats ds;
        cf_table_get_stats(&ts);
        cf_depot_get_stats(&ds);
        // On stderr, whatever log_path says (verbosity in options.inc).
        char s[512];
        cf_buf b;
        cf_buf_init(&b, s, sizeof s);
        cf_log_append(&b, CF_LOG_NOTE,
                      "at exit: %zu records in %zu slots (%zu bytes; 16 per compact slot, 24 per "
                      "full one), depot: %zu stacks in %zu bytes",
                      (size_t)ts.records, (size_t)ts.slots, (size_t)ts.mapped_bytes,
                      (size_t)ds.stacks, (size_t)ds.used_bytes);
        cf_rt_emit_stderr(&b);
#if CF_FAST_UNWIND
        if (cf_flags.fast_unwind) {
            cf_fast_unwind_stats us;
            cf_fast_unwind_get_stats(&us);
            char diffs[64] = "";
            cf_buf db;
            cf_buf_init(&db, diffs, sizeof diffs);
            if (cf_flags.fast_unwind == 2)
                cf_buf_printf(&db, ", %llu differences from libunwind",
                              (unsigned long long)cf_capture_mismatches());
            cf_buf_init(&b, s, sizeof s);
            cf_log_append(&b, CF_LOG_NOTE,
                          "at exit: unwinder: %llu chains and %llu rules computed, %llu stacks "
                          "left to libunwind%s",
                          (unsigned long long)us.chain_fills, (unsigned long long)us.rule_fills,
                          (unsigned long long)us.fallbacks, diffs);
            cf_rt_emit_stderr(&b);
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
        cf_log_append(&b, CF_LOG_NOTE, "%llu error(s) suppressed", (unsigned long long)suppressed);
        cf_suppressions_log_used(&b);
        cf_rt_emit_stderr(&b);
    }
    cf_lock_release(&report_lock);
    if (exit_now)
        cf_os_exit_now((int)cf_flags.exitcode);
}

void cf_rt_output_lock(void) { cf_lock_acquire(&report_lock); }
void cf_rt_output_unlock(void) { cf_lock_release(&report_lock); }
