// SPDX-License-Identifier: MIT
// Error reports: what an error is (cf_error) and its text rendering (JSON is
// in report/json.h). The formatter writes into a caller's buffer, takes the
// symbolizer as a parameter (so tests can give it fake frames) and never
// allocates itself.
#ifndef CF_REPORT_REPORT_H
#define CF_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/quarantine.h"
#include "core/table.h"
#include "report/hosts.h"
#include "report/windows_view.h"
#include "stack/symbolize.h"
#include "support/fmt.h"

typedef enum cf_error_kind {
    CF_ERR_MISMATCH = 0,
    CF_ERR_DOUBLE_FREE,
    CF_ERR_INVALID_FREE,
    CF_ERR_SIZE_MISMATCH,  // a sized operator delete given another size than the block's
    CF_ERR_ALIGN_MISMATCH, // an aligned operator delete given an alignment the block lacks
    CF_ERR_KIND_COUNT,
} cf_error_kind;

// What an invalid-free address turned out to be. Every kind from
// CF_WHERE_INTERIOR on describes the address by a block that alloc holds;
// the FREED kinds' block is in the quarantine (prev_free, when known, says
// who freed it).
typedef enum cf_where {
    CF_WHERE_UNKNOWN = 0,  // not tracked: another allocator, or before crossfree
    CF_WHERE_STACK,        // on the calling thread's stack
    CF_WHERE_STATIC,       // inside a loaded module's image (where_module)
    CF_WHERE_INTERIOR,     // inside a live block
    CF_WHERE_BEFORE,       // a few bytes in front of a live block
    CF_WHERE_AFTER,        // a few bytes past the end of a live block
    CF_WHERE_FREED_INSIDE, // inside a freed block the quarantine still holds
    CF_WHERE_FREED_BEFORE, // a few bytes in front of such a block
    CF_WHERE_FREED_AFTER,  // a few bytes past its end
    CF_WHERE_OWN,          // exactly a block crossfree's own libraries allocated
    CF_WHERE_COUNT,
} cf_where;

// True when an invalid free of this kind is described by a block (alloc).
static inline bool cf_where_has_block(cf_where w) { return w >= CF_WHERE_INTERIOR; }

// True for the kinds whose block was already freed.
static inline bool cf_where_freed(cf_where w) {
    return w >= CF_WHERE_FREED_INSIDE && w <= CF_WHERE_FREED_AFTER;
}

// What a report says about one thread beyond its crossfree number: its OS
// thread id, its name (pthread_setname_np, prctl(PR_SET_NAME)), and where
// it was created, when crossfree saw the call that created it.
typedef struct cf_thread_desc {
    bool main;             // the process's main thread: printed as its number alone
    int os_tid;            // kernel thread id; 0 if unknown
    char name[16];         // "" if unknown (Linux keeps 15 bytes of a name)
    bool created;          // created_by and create_stack are valid
    uint32_t created_by;   // crossfree number of the creating thread
    uint32_t create_stack; // depot id of the creating call's stack (0: none recorded)
} cf_thread_desc;

// Describes thread number `tid`; false when nothing is known of it (the
// report then prints its number alone). Error path only; never allocates.
typedef bool (*cf_thread_fn)(uint32_t tid, cf_thread_desc *out);

typedef struct cf_error {
    cf_error_kind kind;
    int pid;
    uintptr_t addr;
    uint32_t tid;            // the thread making the bad call
    unsigned dealloc_fn;     // cf_dealloc_fn of the bad call
    unsigned dealloc_family; // family that call deallocates (for custom families)
    const uintptr_t *pcs;    // stack of the bad call
    unsigned n_pcs;
    bool has_alloc; // alloc is valid: mismatch, double-free, cf_where_has_block
    cf_record alloc;
    bool has_prev_free; // prev_free is valid: double-free, cf_where_freed
    cf_qentry prev_free;
    cf_where where;
    char where_module[256];
    const cf_winview *win; // semantics=windows: the Windows view of a mismatch, or NULL
    bool halts;            // halt_on_error=1: the process aborts after this report
    size_t delete_size;    // size-mismatch: the size operator delete was given
    size_t delete_align;   // alignment-mismatch: the alignment operator delete was given
    cf_thread_fn threads;  // describes the threads the report names; NULL: numbers only
} cf_error;

// The threads a report describes (cf_report_threads): the thread of the bad
// call, the allocating thread, the first freeing thread, then the threads
// that created those, each once, at most CF_REPORT_THREADS_MAX.
#define CF_REPORT_THREADS_MAX 8
typedef struct cf_report_threads {
    unsigned n;
    uint32_t tid[CF_REPORT_THREADS_MAX];
    cf_thread_desc desc[CF_REPORT_THREADS_MAX];
} cf_report_threads;

// Fills `out` from e->threads (n = 0 without it). Both renderings use it.
void cf_report_threads_collect(const cf_error *e, cf_report_threads *out);

// "T2 (consumer, tid 4242)", "T2 (tid 4242)", or "T2" for the main thread
// or a thread nothing is known of.
void cf_report_format_thread(cf_buf *out, uint32_t tid, const cf_report_threads *ts);

// What a report says about an FFI crossing: the host that made the bad call
// and, for a mismatch, the native module and function that allocated. Both
// renderings take it from cf_report_ffi_facts, so they say the same.
typedef struct cf_ffi_facts {
    cf_host_side side;
    unsigned side_line;        // side.frame as the report numbers it (inlined frames count)
    char native_module[128];   // file name of the allocating module, "" if unknown
    char native_function[256]; // its function (with names), "" if unknown
} cf_ffi_facts;

// Aborts (CF_CHECK) unless `e` is an error a report can describe: a known
// kind, a stack wherever n_pcs says there is one, the allocation record of
// a mismatch, a double free or an invalid free described by a block, a
// first free only for a double free or a freed block. Both renderings
// check it first.
void cf_error_check(const cf_error *e);

// Stable kind names: "alloc-dealloc-mismatch", "double-free", "invalid-free",
// "new-delete-size-mismatch", "new-delete-alignment-mismatch".
const char *cf_error_kind_name(cf_error_kind kind);

// Renders the full text report (ERROR line ... HINT line), each line ending
// in '\n'. `names` false prints module+offset frames only.
void cf_report_format(const cf_error *e, bool names, cf_symbolizer sym, cf_buf *out);

// The report's second line, in plain words, without the newline: "allocated
// by operator new[], freed by free()", "freed twice: ...", "free() on an
// address that no tracked allocator handed out: ...". JSON's "message".
void cf_report_format_message(const cf_error *e, cf_buf *out);

// Finds the FFI facts of `e`: the host side of its stack, and for a mismatch
// the innermost allocation frame outside the runtime modules. Function
// names only when `names`.
void cf_report_ffi_facts(const cf_error *e, bool names, cf_symbolizer sym, cf_ffi_facts *out);

// The report's "freed from HOST (frame #N); allocated in MODULE by WORDS in
// FUNCTION" line, without the newline; nothing unless `e` is a mismatch
// whose stack crossed from a named host. JSON's "freed_from"."message".
void cf_report_format_sides(const cf_error *e, const cf_ffi_facts *facts, cf_buf *out);

// The fix, as the report's last line says it after "HINT: " (without the
// newline), with the halt_on_error=0 suggestion only when `e->halts`.
// JSON's "hint".
void cf_report_format_hint(const cf_error *e, const cf_ffi_facts *facts, cf_buf *out);

// The lines of one frame, "    #n 0xPC in FUNC FILE:LINE (MODULE+0xOFF)\n": one per
// function inlined at the pc (tagged " [inlined]", numbered from n on), then
// the frame itself.
void cf_report_format_frame(cf_buf *out, unsigned n, const cf_frame_info *f);

#endif
