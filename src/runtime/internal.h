// SPDX-License-Identifier: MIT
// What the runtime's own files share and nothing else includes: the
// settings start-up derives from the options, the report output, and the
// slow judgements the hooks call out of line. Platform code and the rest
// of the core see runtime.h only.
#ifndef CF_RUNTIME_INTERNAL_H
#define CF_RUNTIME_INTERNAL_H

#include "report/report.h"
#include "report/windows_view.h"
#include "runtime/runtime.h"

// ---------------------------------------------------------------------------
// Settings (startup.c)

// Derived from the options once, by the thread that initialises, before
// cf_rt_state becomes CF_RT_READY; read-only after, so the hooks read them
// without synchronisation.
typedef struct cf_rt_settings {
    bool checking;          // false in a process `only` excludes: every call passes through
    bool headers;           // records live in block headers (CF_BLOCK_HEADERS and checking)
    bool winsem;            // semantics=windows: every release is judged as on Windows too
    bool json_reports;      // report_format=json
    bool shadowed;          // another allocator's malloc/free comes first: a pointer crossfree
                            // never saw allocated is that allocator's (platform.h)
    unsigned context_size;  // malloc_context_size
    unsigned free_context;  // free_context_size, at most context_size
    uint64_t header_secret; // the key of every header's check (core/header.h)
} cf_rt_settings;

extern cf_rt_settings cf_rt_set;

// ---------------------------------------------------------------------------
// Report output (output.c)

// Writes `e` to the log, unless a suppression matches it; returns only when
// halt_on_error=0 or the error was suppressed. Takes the report lock and
// holds the recursion guard (the symbolizer allocates).
void cf_rt_report_error(cf_error *e);

// The symbolizer reports use: modules first, then JIT code named from a
// perf map (or marked as JIT), so no frame is ever just "unknown".
bool cf_rt_symbolize_for_report(uintptr_t pc, bool names, cf_frame_info *out);

// Writes lines that must go to stderr whatever log_path says (the help
// text, verbosity's notes).
void cf_rt_emit_stderr(const cf_buf *b);

// Under `crossfree run` (CROSSFREE_RUN_DIR set), tells the command that
// this process started and whether it is checked; called once at the end
// of start-up. Each reported error is then noted there too.
void cf_rt_run_started(void);

// The fork handlers hold the report lock across fork.
void cf_rt_output_lock(void);
void cf_rt_output_unlock(void);

// ---------------------------------------------------------------------------
// Slow judgements (judge.c): out of line, never on a correct call's path

// Reports an invalid free, double free or mismatch of `p` by `fn` of
// `family`. `rec` is the block's record when it had one; `pcs`/`n` the
// deallocation stack when the caller took a whole one (n = 0: taken here).
void cf_rt_report_bad_free(cf_error_kind kind, cf_dealloc_fn fn, unsigned family, void *p,
                           const cf_record *rec, const uintptr_t *pcs, unsigned n,
                           const cf_winview *win);

// Reports `kind` (CF_ERR_SIZE_MISMATCH or CF_ERR_ALIGN_MISMATCH) for a
// sized or aligned operator delete of `p`, whose record `rec` is of the
// right family but whose size or alignment is not the one given (`size`,
// `align`). `pcs`/`n` as for cf_rt_report_bad_free. Returns false.
bool cf_rt_report_delete_shape(cf_error_kind kind, cf_dealloc_fn fn, unsigned family, void *p,
                               const cf_record *rec, size_t size, size_t align,
                               const uintptr_t *pcs, unsigned n);

// `p`, a block allocated while crossfree's own code ran (`rec`), was
// released outside the recursion guard through another family than
// malloc's, or by free() from other code than crossfree's private code
// that made it (runtime/hooks.c); the caller has
// put its record back, so it stays allocated for crossfree. Reports an
// invalid free of crossfree's own memory; `pcs`/`n` as for
// cf_rt_report_bad_free.
void cf_rt_report_own_free(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                           const uintptr_t *pcs, unsigned n);

// A release whose family differs from the record's: true when the pair
// matches after all (a module's private operator new/delete, which are
// malloc/free underneath); otherwise reports the mismatch and returns
// false. `pcs`/`n` hold what the free path captured, `whole` whether that
// is the full stack a report shows.
bool cf_rt_judge_mismatch(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                          const uintptr_t *pcs, unsigned n, bool whole);

// semantics=windows: a pair that is right on Linux, judged as on Windows;
// false after a report (a Windows build would send the block to another
// heap).
bool cf_rt_windows_accepts(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                           const uintptr_t *pcs, unsigned n);

// realloc's family check, and under semantics=windows its Windows view.
void cf_rt_check_realloc_pair(cf_dealloc_fn fn, unsigned family, void *p, const cf_record *rec,
                              bool linux_ok);

#endif
