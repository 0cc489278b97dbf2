// SPDX-License-Identifier: MIT
// The ELF symbolizer: module and offset from the loader's module list (or the
// history of unloaded modules), names and file:line from elfutils libdwfl.
// With names == false it must never allocate, lock a mutex or open a file other
// than /proc/self/exe, because it runs inside the malloc and free wrappers.
#include "stack/history.h"
#include "stack/symbolize.h"

#include "platform/platform.h"
#include "support/demangle_rust.h"
#include "support/fmt.h"

#include <assert.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MODULE_CAP sizeof(((cf_frame_info *)0)->module)

// ---------------------------------------------------------------------------
// The main executable's path
// ---------------------------------------------------------------------------

// dl_iterate_phdr names the main program "", so its path comes from
// /proc/self/exe (cf_os_exe_path: one readlink, safe inside malloc).
enum { EXE_UNSET, EXE_BUSY, EXE_READY };
static _Atomic int exe_state = EXE_UNSET;
static char exe_path_buf[MODULE_CAP];

static void read_exe_path(char *buf, size_t cap) {
    cf_os_exe_path(buf, cap);
    if (buf[0] != '\0')
        return;
    // Without /proc (some containers), argv[0] is better than nothing; an
    // empty module would make a known frame look unknown.
    const char *argv0 = program_invocation_name;
    cf_strlcpy(buf, argv0 != NULL && argv0[0] != '\0' ? argv0 : "[exe]", cap);
}

// Returns the executable's path: the shared copy once one thread has filled
// it, else a private copy in `scratch` (a racing thread must not read the
// shared buffer while it is being written).
static const char *exe_path(char *scratch, size_t cap) {
    int state = atomic_load_explicit(&exe_state, memory_order_acquire);
    if (state == EXE_READY)
        return exe_path_buf;
    int expected = EXE_UNSET;
    if (state == EXE_UNSET &&
        atomic_compare_exchange_strong_explicit(&exe_state, &expected, EXE_BUSY,
                                                memory_order_acquire, memory_order_relaxed)) {
        read_exe_path(exe_path_buf, sizeof exe_path_buf);
        atomic_store_explicit(&exe_state, EXE_READY, memory_order_release);
        return exe_path_buf;
    }
    read_exe_path(scratch, cap);
    return scratch;
}

static const char *module_path(const struct dl_phdr_info *info, char *scratch, size_t cap) {
    if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0')
        return info->dlpi_name;
    return exe_path(scratch, cap);
}

// ---------------------------------------------------------------------------
// Live modules
// ---------------------------------------------------------------------------

typedef struct live_query {
    uintptr_t pc;
    bool found;
    uintptr_t bias;
    char *module; // MODULE_CAP bytes
    // The loader's dlopen/dlclose counters, to tell when cached debug info
    // describes a module list that no longer exists.
    bool have_counts;
    unsigned long long adds, subs;
} live_query;

static bool has_counts(size_t size) {
    return size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

static int find_live(struct dl_phdr_info *info, size_t size, void *data) {
    live_query *q = data;
    if (has_counts(size)) {
        q->have_counts = true;
        q->adds = info->dlpi_adds;
        q->subs = info->dlpi_subs;
    }
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        // One unsigned comparison: a pc below start wraps to a huge value.
        if (q->pc - start < ph->p_memsz) {
            q->found = true;
            q->bias = info->dlpi_addr;
            const char *path = module_path(info, q->module, MODULE_CAP);
            if (path != q->module)
                cf_strlcpy(q->module, path, MODULE_CAP);
            return 1;
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------
// History of modules, for frames in libraries dlclose'd since
// ---------------------------------------------------------------------------

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

// True when [vaddr, vaddr+len) lies in a mapped, file-backed part of a
// PT_LOAD segment: a PT_NOTE outside one is not in memory to read.
static bool is_loaded(const struct dl_phdr_info *info, uintptr_t vaddr, size_t len) {
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && len <= ph->p_filesz &&
            vaddr - ph->p_vaddr <= ph->p_filesz - len)
            return true;
    }
    return false;
}

// Copies the GNU build ID from the module's notes in memory, so a later
// lookup by path can tell whether the file on disk is still the one that was
// loaded. Returns its length, 0 if there is none.
static size_t read_build_id(const struct dl_phdr_info *info, unsigned char *dst, size_t cap) {
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || !is_loaded(info, ph->p_vaddr, ph->p_filesz))
            continue;
        size_t align = ph->p_align == 8 ? 8 : 4;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t left = ph->p_filesz;
        while (left >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) nh;
            memcpy(&nh, p, sizeof nh);
            size_t desc_at = sizeof nh + align_up(nh.n_namesz, align);
            size_t next = desc_at + align_up(nh.n_descsz, align);
            if (next > left || desc_at + nh.n_descsz > left)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp(p + sizeof nh, "GNU", 4) == 0) {
                size_t n = nh.n_descsz < cap ? nh.n_descsz : cap;
                memcpy(dst, p + desc_at, n);
                return n;
            }
            p += next;
            left -= next;
        }
    }
    return 0;
}

static int note_one(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uint64_t gen = *(const uint64_t *)data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < lo)
            lo = start;
        if (start + ph->p_memsz > hi)
            hi = start + ph->p_memsz;
    }
    if (lo >= hi)
        return 0;
    cf_history_entry m = {.bias = info->dlpi_addr, .lo = lo, .hi = hi};
    char scratch[MODULE_CAP];
    cf_strlcpy(m.path, module_path(info, scratch, sizeof scratch), sizeof m.path);
    m.build_id_len = read_build_id(info, m.build_id, sizeof m.build_id);
    cf_history_note(gen, &m);
    return 0;
}

void cf_symbolize_note_modules(void) {
    uint64_t gen = cf_history_begin();
    if (gen == 0)
        return;
    // The history's spin lock is taken per module inside the callback, so
    // it is never held while waiting for the loader's lock (which a thread
    // inside dlopen holds while it may be reporting an error through
    // cf_symbolize).
    dl_iterate_phdr(note_one, &gen);
}

// ---------------------------------------------------------------------------
// Names, files and lines (error path: may allocate)
// ---------------------------------------------------------------------------

// All Dwfl state is under dwfl_mutex. The live Dwfl mirrors /proc/self/maps
// as of (live_adds, live_subs); the "gone" Dwfl holds the one unloaded module
// named last, opened again from its path.
static pthread_mutex_t dwfl_mutex = PTHREAD_MUTEX_INITIALIZER;

// elfutils opens and reads files under the mutex (cancellation points): a
// thread cancelled there would leave it locked for good (platform.h).
static int dwfl_lock(void) {
    int cancel = cf_os_cancel_disable();
    pthread_mutex_lock(&dwfl_mutex);
    return cancel;
}

static void dwfl_unlock(int cancel) {
    pthread_mutex_unlock(&dwfl_mutex);
    cf_os_cancel_restore(cancel);
}
static Dwfl *live_dwfl;
static unsigned long long live_adds, live_subs;
static Dwfl *gone_dwfl;
static uintptr_t gone_bias;
static char gone_path[MODULE_CAP];

// NULL means elfutils' default, ":.debug:/usr/lib/debug".
static char *debuginfo_path;
static char debuginfo_path_buf[4096];
static const Dwfl_Callbacks live_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks gone_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

// Removes "." and "dir/.." components of an absolute path in place, so
// "/src/build/../tests/a.c" reads "/src/tests/a.c". Purely lexical: the
// file may not exist on this machine.
static void normalize_path(char *path) {
    char *out = path; // write position; path[0] is '/'
    const char *in = path;
    while (*in != '\0') {
        while (*in == '/')
            in++;
        const char *seg = in;
        while (*in != '\0' && *in != '/')
            in++;
        size_t len = (size_t)(in - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > path && *--out != '/')
                ;
            continue;
        }
        *out++ = '/';
        memmove(out, seg, len);
        out += len;
    }
    if (out == path)
        *out++ = '/';
    *out = '\0';
}

// ---------------------------------------------------------------------------
// Compile units by address, when a module has no .debug_aranges
// ---------------------------------------------------------------------------

// libdw (0.188) finds the unit of an address only through .debug_aranges,
// which clang does not emit unless asked (-gdwarf-aranges): file:line came
// out empty for every clang-built module. The units' own ranges
// (DW_AT_low_pc/high_pc, DW_AT_ranges, DWARF 5 rnglists, a split unit's
// skeleton) say the same, so each module gets a table of them, built on its
// first lookup and kept in the module's user data until libdwfl drops it.

typedef struct unit_range {
    Dwarf_Addr lo, hi;
    Dwarf_Addr reach; // the highest `hi` of this range and all before it
    size_t unit;
} unit_range;

typedef struct unit_table {
    size_t n_units, n_ranges;
    Dwarf_Die *units;
    unit_range *ranges; // sorted by lo
} unit_table;

static void free_units(unit_table *t) {
    if (t == NULL)
        return;
    free(t->units);
    free(t->ranges);
    free(t);
}

static int cmp_range(const void *a, const void *b) {
    const unit_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

static bool add_range(unit_table *t, size_t *cap, Dwarf_Addr lo, Dwarf_Addr hi) {
    if (t->n_ranges == *cap) {
        size_t n = *cap == 0 ? 64 : *cap * 2;
        unit_range *r = realloc(t->ranges, n * sizeof *r);
        if (r == NULL)
            return false;
        t->ranges = r;
        *cap = n;
    }
    t->ranges[t->n_ranges++] = (unit_range){.lo = lo, .hi = hi, .unit = t->n_units - 1};
    return true;
}

// Every compile or skeleton unit's address ranges. NULL only when out of
// memory; a module without units gets an empty table.
static unit_table *build_units(Dwarf *dw) {
    unit_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    size_t unit_cap = 0, range_cap = 0;
    Dwarf_CU *cu = NULL, *next = NULL;
    Dwarf_Half version;
    uint8_t type;
    Dwarf_Die die;
    // No split-unit argument: a skeleton's ranges are in this file, and
    // asking for its split unit would open the .dwo for nothing.
    while (dwarf_get_units(dw, cu, &next, &version, &type, &die, NULL) == 0) {
        cu = next;
        if (type != DW_UT_compile && type != DW_UT_skeleton)
            continue;
        if (t->n_units == unit_cap) {
            size_t n = unit_cap == 0 ? 16 : unit_cap * 2;
            Dwarf_Die *u = realloc(t->units, n * sizeof *u);
            if (u == NULL)
                goto fail;
            t->units = u;
            unit_cap = n;
        }
        t->units[t->n_units++] = die;
        Dwarf_Addr base, lo, hi;
        for (ptrdiff_t off = 0; (off = dwarf_ranges(&die, off, &base, &lo, &hi)) > 0;) {
            // GNU ld leaves the code of discarded sections at address 0.
            if (lo != 0 && lo < hi && !add_range(t, &range_cap, lo, hi))
                goto fail;
        }
    }
    if (t->n_ranges > 0)
        qsort(t->ranges, t->n_ranges, sizeof *t->ranges, cmp_range);
    for (size_t i = 0; i < t->n_ranges; i++) {
        Dwarf_Addr prev = i == 0 ? 0 : t->ranges[i - 1].reach;
        t->ranges[i].reach = t->ranges[i].hi > prev ? t->ranges[i].hi : prev;
    }
    return t;
fail:
    free_units(t);
    return NULL;
}

// The unit whose ranges hold addr (a DWARF address, bias removed).
static Dwarf_Die *unit_of(const unit_table *t, Dwarf_Addr addr) {
    size_t l = 0, u = t->n_ranges;
    while (l < u) { // first range starting above addr
        size_t m = l + (u - l) / 2;
        if (t->ranges[m].lo <= addr)
            l = m + 1;
        else
            u = m;
    }
    // Units rarely overlap, but when they do an earlier range may still hold
    // addr: walk back while one could.
    for (size_t i = l; i > 0 && t->ranges[i - 1].reach > addr; i--) {
        if (addr < t->ranges[i - 1].hi)
            return &t->units[t->ranges[i - 1].unit];
    }
    return NULL;
}

// libdwfl callbacks that free a module's table when the module goes.
static int units_release(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                         void *arg) {
    (void)mod, (void)name, (void)base, (void)arg;
    free_units(*userdata);
    *userdata = NULL;
    return DWARF_CB_OK;
}

// dwfl_report_end's prototype says `void *userdata`, but libdwfl passes the
// address of the module's slot there, as dwfl_getmodules does (0.188's
// MODCB_ARGS): freeing the argument itself crashed the unit test.
static int units_removed(Dwfl_Module *mod, void *userdata, const char *name, Dwarf_Addr base,
                         void *arg) {
    units_release(mod, userdata, name, base, arg);
    return 0;
}

// Every dwfl_end of this file goes through here.
static void end_dwfl(Dwfl *d) {
    if (d == NULL)
        return;
    dwfl_getmodules(d, units_release, NULL, 0);
    dwfl_end(d);
}

// A source position: file as the line table names it, and the unit's
// compilation directory.
typedef struct src_pos {
    const char *file;
    const char *comp_dir;
    int line;
} src_pos;

// The unit holding `at` from the units' own ranges, with the DWARF bias.
static bool unit_by_ranges(Dwfl_Module *mod, GElf_Addr at, Dwarf_Die *cu, Dwarf_Addr *bias) {
    Dwarf *dw = dwfl_module_getdwarf(mod, bias);
    void **slot = NULL;
    if (dw == NULL || dwfl_module_info(mod, &slot, NULL, NULL, NULL, NULL, NULL, NULL) == NULL ||
        slot == NULL)
        return false;
    if (*slot == NULL)
        *slot = build_units(dw);
    unit_table *t = *slot;
    Dwarf_Die *found = t == NULL ? NULL : unit_of(t, at - *bias);
    if (found == NULL)
        return false;
    *cu = *found;
    return true;
}

// Whether unit `cu`'s own ranges hold `addr` (bias removed); true for a
// unit that states no ranges at all (nothing to hold against it).
static bool unit_holds(Dwarf_Die *cu, Dwarf_Addr addr) {
    Dwarf_Addr base, lo, hi;
    bool any = false;
    for (ptrdiff_t off = 0; (off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0;) {
        if (lo == 0 || lo >= hi)
            continue; // code of a discarded section (GNU ld leaves it at 0)
        any = true;
        if (addr >= lo && addr < hi)
            return true;
    }
    return !any;
}

// Where `at` is in the source, and its compile unit (cu_ok false when the
// line came from somewhere libdw could not give the unit of).
static bool lookup_line(Dwfl_Module *mod, GElf_Addr at, src_pos *pos, Dwarf_Die *cu,
                        Dwarf_Addr *bias, bool *cu_ok) {
    // .debug_aranges first, where there is one: it costs no table. An
    // address it does not cover (a clang unit, even in a module whose other
    // units came from gcc) goes to the units' own ranges.
    *cu_ok = false;
    Dwfl_Line *line = dwfl_module_getsrc(mod, at);
    Dwarf_Die *die = line != NULL ? dwfl_module_addrdie(mod, at, bias) : NULL;
    // A unit .debug_aranges names for an address its own ranges do not
    // hold lends the address a line of unrelated code: in a cgo binary,
    // Go's assembly (runtime.asmcgocall) came out as gcc_mmap.c:37, the
    // last line of a C unit far below it. Such an answer is not used.
    if (line != NULL && (die == NULL || unit_holds(die, at - *bias))) {
        pos->line = 0;
        pos->file = dwfl_lineinfo(line, NULL, &pos->line, NULL, NULL, NULL);
        pos->comp_dir = dwfl_line_comp_dir(line);
        if (die != NULL) {
            *cu = *die;
            *cu_ok = true;
        }
        return true;
    }
    if (!unit_by_ranges(mod, at, cu, bias))
        return false;
    Dwarf_Line *l = dwarf_getsrc_die(cu, at - *bias);
    if (l == NULL)
        return false;
    *cu_ok = true;
    pos->file = dwarf_linesrc(l, NULL, NULL);
    pos->line = 0;
    dwarf_lineno(l, &pos->line);
    Dwarf_Attribute attr;
    pos->comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    return true;
}

// A source file as reports show it, into dst.
static void source_path(char *dst, size_t cap, const char *file, const char *comp_dir) {
    dst[0] = '\0';
    if (file == NULL)
        return;
    cf_buf b;
    cf_buf_init(&b, dst, cap);
    // libdw returns names as the line table has them: relative when the
    // compiler was given a relative path (meson compiles "../src/x.c" from
    // the build directory). An absolute compilation directory makes them
    // usable from anywhere; a relative one (-fdebug-prefix-map, as Debian's
    // libc has) is already part of the name and would only repeat it.
    const char *dir = file[0] == '/' ? NULL : comp_dir;
    if (dir != NULL && dir[0] == '/')
        cf_buf_printf(&b, "%s/%s", dir, file);
    else
        cf_buf_str(&b, file);
    if (dst[0] == '/')
        normalize_path(dst);
}

// ---------------------------------------------------------------------------
// Inlined functions
// ---------------------------------------------------------------------------

// The name of an inlined function: its linkage name where it has one (a C++
// function, demangled later into the same form as a symbol's), else its
// plain name; both may live on the abstract origin or its declaration.
static const char *inline_name(Dwarf_Die *scope) {
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(scope, DW_AT_linkage_name, &attr));
    if (name == NULL)
        name = dwarf_formstring(dwarf_attr_integrate(scope, DW_AT_MIPS_linkage_name, &attr));
    if (name == NULL)
        name = dwarf_diename(scope);
    return name != NULL ? name : "";
}

// The functions inlined at `addr` (bias removed) in unit `cu`, as addr2line
// -i lists them: the innermost at the line table's position, each outer one
// at the call of the one inside it, and the physical function, last, at the
// call of the outermost.
static void fill_inlines(Dwarf_Die *cu, Dwarf_Addr addr, const src_pos *pos, cf_frame_info *out) {
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, addr, &scopes);
    if (n <= 0) {
        free(scopes);
        return;
    }
    // Past an inlined instance dwarf_getscopes goes on with the scopes of
    // its abstract definition, not with the function it was inlined into:
    // the concrete chain is the innermost scope's parents.
    Dwarf_Die innermost = scopes[0];
    free(scopes);
    scopes = NULL;
    n = dwarf_getscopes_die(&innermost, &scopes);
    if (n <= 0) {
        free(scopes);
        return;
    }
    Dwarf_Files *files = NULL;
    size_t n_files = 0;
    if (dwarf_getsrcfiles(cu, &files, &n_files) != 0)
        files = NULL;
    Dwarf_Attribute attr;
    const char *comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    char file[sizeof out->file];
    source_path(file, sizeof file, pos->file, pos->comp_dir);
    unsigned line = pos->line > 0 ? (unsigned)pos->line : 0;
    bool any = false;
    for (int i = 0; i < n; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram)
            break;
        if (tag != DW_TAG_inlined_subroutine)
            continue;
        any = true;
        // Past CF_INLINE_MAX the outer ones are left out, but the call
        // positions still lead to the physical function's line.
        cf_frame_add_inline(out, inline_name(&scopes[i]), file, line);
        Dwarf_Word call_file = 0, call_line = 0;
        const char *name = NULL;
        if (files != NULL &&
            dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &call_file) == 0 &&
            call_file < n_files)
            name = dwarf_filesrc(files, call_file, NULL, NULL);
        source_path(file, sizeof file, name, comp_dir);
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line) != 0)
            call_line = 0;
        line = (unsigned)call_line;
    }
    free(scopes);
    if (any) {
        cf_strlcpy(out->file, file, sizeof out->file);
        out->line = line;
    }
}

// ---------------------------------------------------------------------------
// Names, files and lines of one address
// ---------------------------------------------------------------------------

static void fill_names(Dwfl_Module *mod, uintptr_t pc, cf_frame_info *out) {
    // pc is a return address: the call itself ends one byte earlier, and
    // pc may already belong to the next line or even the next function.
    GElf_Addr at = pc - 1;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, at, &off, &sym, NULL, NULL, NULL);
    if (name != NULL && name[0] != '\0') {
        cf_strlcpy(out->function, name, sizeof out->function);
        out->func_offset = (uintptr_t)off + 1;
    }
    src_pos pos;
    Dwarf_Die cu;
    Dwarf_Addr bias = 0;
    bool cu_ok = false;
    if (!lookup_line(mod, at, &pos, &cu, &bias, &cu_ok))
        return;
    if (pos.line > 0)
        out->line = (unsigned)pos.line;
    source_path(out->file, sizeof out->file, pos.file, pos.comp_dir);
    if (cu_ok)
        fill_inlines(&cu, at - bias, &pos, out);
}

// dl_iterate_phdr callback: the loader's counters, from the first module.
static int first_counts(struct dl_phdr_info *info, size_t size, void *data) {
    unsigned long long *c = data;
    if (has_counts(size)) {
        c[0] = info->dlpi_adds;
        c[1] = info->dlpi_subs;
        c[2] = 1;
    }
    return 1;
}

static bool report_live(unsigned long long adds, unsigned long long subs) {
    if (live_dwfl == NULL) {
        live_dwfl = dwfl_begin(&live_callbacks);
        if (live_dwfl == NULL)
            return false;
    }
    // Modules reported again keep their loaded ELF and DWARF; the others
    // are dropped by dwfl_report_end.
    dwfl_report_begin(live_dwfl);
    int rc = dwfl_linux_proc_report(live_dwfl, cf_os_getpid());
    if (rc != 0 || dwfl_report_end(live_dwfl, units_removed, NULL) != 0) {
        end_dwfl(live_dwfl);
        live_dwfl = NULL;
        return false;
    }
    live_adds = adds;
    live_subs = subs;
    return true;
}

static void names_gone(uintptr_t pc, const cf_history_entry *e, cf_frame_info *out);

static void names_live(uintptr_t pc, const live_query *q, cf_frame_info *out) {
    int dwfl_cancel = dwfl_lock();
    bool fresh = false;
    bool misplaced = false; // libdw puts the module at another bias than the loader
    // The counters are read before /proc/self/maps, so a dlopen racing with
    // the report leaves them stale and causes another report next time.
    if (live_dwfl == NULL || !q->have_counts || q->adds != live_adds || q->subs != live_subs) {
        if (!report_live(q->adds, q->subs))
            goto done;
        fresh = true;
    }
    for (;;) {
        Dwfl_Module *mod = dwfl_addrmodule(live_dwfl, pc - 1);
        Dwarf_Addr bias = 0;
        misplaced = false;
        if (mod != NULL) {
            if (dwfl_module_getelf(mod, &bias) == NULL)
                break; // the file is gone or unreadable: report again won't help
            if (bias == q->bias) {
                fill_names(mod, pc, out);
                break;
            }
            misplaced = true;
        }
        // Not there, or another module now sits at this address: a library
        // was loaded after the last report. Report once more, then give up.
        if (fresh || !report_live(q->adds, q->subs))
            break;
        fresh = true;
    }
done:
    dwfl_unlock(dwfl_cancel);

    // libdw dlopens libdebuginfod (and libcurl's tree) the first time it
    // looks for debug info. That is no module the cached list is missing,
    // and reporting again for it would misplace modules already read. So
    // when the list was current for this lookup, the counters now are too.
    // (Read without the Dwfl lock held: see cf_symbolize.)
    unsigned long long c[3] = {0, 0, 0};
    dl_iterate_phdr(first_counts, c);
    dwfl_cancel = dwfl_lock();
    if (c[2] != 0 && live_dwfl != NULL && q->have_counts && live_adds == q->adds &&
        live_subs == q->subs) {
        live_adds = c[0];
        live_subs = c[1];
    }
    dwfl_unlock(dwfl_cancel);
    if (misplaced) {
        // /proc/self/maps can mislead libdw: libelf's own private mapping
        // of a module's file, placed right below the loaded image, makes
        // the module look larger and its bias wrong. The loader knows where
        // the module is: read its file alone, at the loader's bias.
        cf_history_entry e = {.bias = q->bias};
        cf_strlcpy(e.path, q->module, sizeof e.path);
        names_gone(pc, &e, out);
    }
}

// A Dwfl holding the one ELF file `path`, loaded at `bias`.
static Dwfl *open_file(const char *path, uintptr_t bias, Dwfl_Module **mod_out) {
    Dwfl *d = dwfl_begin(&gone_callbacks);
    if (d == NULL)
        return NULL;
    dwfl_report_begin(d);
    // add_p_vaddr = true makes `base` the load bias, as dl_iterate_phdr gives.
    Dwfl_Module *mod = dwfl_report_elf(d, path, path, -1, bias, true);
    if (dwfl_report_end(d, NULL, NULL) != 0 || mod == NULL) {
        end_dwfl(d);
        return NULL;
    }
    *mod_out = mod;
    return d;
}

static Dwfl *open_gone(const cf_history_entry *e) {
    Dwfl_Module *mod;
    Dwfl *d = open_file(e->path, e->bias, &mod);
    if (d == NULL)
        return NULL;
    if (e->build_id_len > 0) {
        // A rebuilt or replaced file would name the wrong functions.
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &bits, &vaddr);
        if (n < 0 || (size_t)n < e->build_id_len || bits == NULL ||
            memcmp(bits, e->build_id, e->build_id_len) != 0) {
            end_dwfl(d);
            return NULL;
        }
    }
    return d;
}

static void names_gone(uintptr_t pc, const cf_history_entry *e, cf_frame_info *out) {
    int dwfl_cancel = dwfl_lock();
    if (gone_dwfl == NULL || gone_bias != e->bias || cf_strcmp(gone_path, e->path) != 0) {
        if (gone_dwfl != NULL)
            end_dwfl(gone_dwfl);
        gone_dwfl = open_gone(e);
        gone_bias = e->bias;
        cf_strlcpy(gone_path, e->path, sizeof gone_path);
    }
    if (gone_dwfl != NULL) {
        Dwfl_Module *mod = dwfl_addrmodule(gone_dwfl, pc - 1);
        if (mod != NULL)
            fill_names(mod, pc, out);
    }
    dwfl_unlock(dwfl_cancel);
}

// __cxa_demangle lives in the C++ runtime, which a C program may only have
// through a plugin dlopen'd with RTLD_LOCAL: RTLD_DEFAULT does not see it
// then, but a no-load dlopen of the runtime by name does.
typedef char *demangle_fn(const char *mangled, char *buf, size_t *len, int *status);
static _Atomic(demangle_fn *) demangler;

static demangle_fn *find_demangler(void) {
    demangle_fn *fn = atomic_load_explicit(&demangler, memory_order_acquire);
    if (fn != NULL)
        return fn;
    static const char *const runtimes[] = {"libstdc++.so.6", "libc++abi.so.1", "libc++.so.1"};
    void *sym = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    for (size_t i = 0; sym == NULL && i < sizeof runtimes / sizeof runtimes[0]; i++) {
        // The handle is kept on purpose: it pins the runtime so the cached
        // pointer cannot dangle.
        void *handle = dlopen(runtimes[i], RTLD_LAZY | RTLD_NOLOAD);
        if (handle != NULL)
            sym = dlsym(handle, "__cxa_demangle");
    }
    if (sym == NULL)
        return NULL; // not loaded yet: try again on the next frame
    // ISO C has no object-to-function pointer conversion; POSIX guarantees
    // that dlsym's result can be converted, and memcpy says so portably.
    memcpy(&fn, &sym, sizeof fn);
    atomic_store_explicit(&demangler, fn, memory_order_release);
    return fn;
}

// Demangles `name` (cap bytes) in place.
static void demangle_name(char *name, size_t cap) {
    // A .symtab name may carry its version ("__libc_start_main@@GLIBC_2.34");
    // reports show the plain name, as the dynamic symbol table would.
    for (char *c = name; *c != '\0'; c++) {
        if (*c == '@' && c != name) {
            *c = '\0';
            break;
        }
    }
    // Rust first: a legacy Rust name is also a valid C++ name, which
    // __cxa_demangle would leave with its hash and $LT$-style escapes, and
    // a Rust library needs no C++ runtime in the process.
    char rust[sizeof((cf_frame_info *)0)->function];
    if (cf_demangle_rust(name, rust, sizeof rust < cap ? sizeof rust : cap)) {
        cf_strlcpy(name, rust, cap);
        return;
    }
    if (name[0] != '_' || name[1] != 'Z')
        return;
    demangle_fn *fn = find_demangler();
    if (fn == NULL)
        return;
    int status = -1;
    char *plain = fn(name, NULL, NULL, &status);
    if (plain != NULL && status == 0)
        cf_strlcpy(name, plain, cap);
    free(plain);
}

static void demangle(cf_frame_info *out) {
    demangle_name(out->function, sizeof out->function);
    if (out->n_inlined == 0)
        return;
    // The pool is rebuilt: demangled names are longer.
    static_assert(CF_INLINE_TEXT <= 4096, "the copy below lives on the stack");
    char text[CF_INLINE_TEXT];
    cf_inline_frame in[CF_INLINE_MAX];
    unsigned n = out->n_inlined;
    memcpy(text, out->inline_text, sizeof text);
    memcpy(in, out->inlined, sizeof in);
    out->n_inlined = 0;
    for (unsigned i = 0; i < n; i++) {
        char name[sizeof out->function];
        cf_strlcpy(name, text + in[i].function, sizeof name);
        demangle_name(name, sizeof name);
        if (!cf_frame_add_inline(out, name, text + in[i].file, in[i].line))
            break;
    }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

bool cf_symbolize(uintptr_t pc, bool names, cf_frame_info *out) {
    memset(out, 0, sizeof *out);
    out->pc = pc;
    if (pc == 0)
        return false;

    live_query q = {.pc = pc, .module = out->module};
    dl_iterate_phdr(find_live, &q);
    cf_history_entry gone;
    if (q.found) {
        out->offset = pc - q.bias;
    } else if (cf_history_find(pc, &gone)) {
        cf_strlcpy(out->module, gone.path, sizeof out->module);
        out->offset = pc - gone.bias;
        out->unloaded = true;
    } else {
        out->module[0] = '\0';
        return false;
    }
    if (!names)
        return true;

    // The Dwfl lock is taken only after dl_iterate_phdr has returned, and
    // demangling (which may call dlopen) runs after it is released: this
    // file never waits for the loader's lock while holding its own.
    if (q.found)
        names_live(pc, &q, out);
    else
        names_gone(pc, &gone, out);
    demangle(out);
    return true;
}

// ---------------------------------------------------------------------------
// Offline: modules read from disk by path, for `crossfree symbolize`
// ---------------------------------------------------------------------------

// A few modules stay open (under dwfl_mutex): a log names the same handful
// again and again. A file that cannot be opened is remembered as such.
#define OFFLINE_CAP 16

typedef struct offline_module {
    char path[MODULE_CAP];
    Dwfl *dwfl; // NULL: the file could not be read as ELF
    Dwfl_Module *mod;
    uint64_t last_used; // 0: slot empty
} offline_module;

static offline_module offline[OFFLINE_CAP];
static uint64_t offline_clock;

static void offline_forget(void) {
    for (size_t i = 0; i < OFFLINE_CAP; i++) {
        if (offline[i].dwfl != NULL)
            end_dwfl(offline[i].dwfl);
        memset(&offline[i], 0, sizeof offline[i]);
    }
}

static offline_module *offline_open(const char *path) {
    offline_module *slot = &offline[0];
    for (size_t i = 0; i < OFFLINE_CAP; i++) {
        offline_module *m = &offline[i];
        if (m->last_used != 0 && cf_strcmp(m->path, path) == 0) {
            m->last_used = ++offline_clock;
            return m;
        }
        if (m->last_used < slot->last_used)
            slot = m;
    }
    if (slot->dwfl != NULL)
        end_dwfl(slot->dwfl);
    memset(slot, 0, sizeof *slot);
    cf_strlcpy(slot->path, path, sizeof slot->path);
    // Bias 0: addresses are the file's own, which is what an offset is.
    slot->dwfl = open_file(path, 0, &slot->mod);
    slot->last_used = ++offline_clock;
    return slot;
}

bool cf_symbolize_file(const char *module, uintptr_t offset, cf_frame_info *out) {
    memset(out, 0, sizeof *out);
    cf_strlcpy(out->module, module, sizeof out->module);
    out->offset = offset;
    if (offset == 0 || module[0] == '\0')
        return false;
    int dwfl_cancel = dwfl_lock();
    offline_module *m = offline_open(module);
    if (m->dwfl != NULL)
        fill_names(m->mod, offset, out);
    dwfl_unlock(dwfl_cancel);
    demangle(out);
    return out->function[0] != '\0' || out->file[0] != '\0';
}

bool cf_symbolize_set_debuginfo_path(const char *path) {
    if (path != NULL && cf_strlen(path) >= sizeof debuginfo_path_buf)
        return false;
    int dwfl_cancel = dwfl_lock();
    if (path != NULL) {
        cf_strlcpy(debuginfo_path_buf, path, sizeof debuginfo_path_buf);
        debuginfo_path = debuginfo_path_buf;
    } else {
        debuginfo_path = NULL;
    }
    dwfl_unlock(dwfl_cancel);
    cf_symbolize_reset();
    return true;
}

void cf_symbolize_reset(void) {
    int dwfl_cancel = dwfl_lock();
    offline_forget();
    if (live_dwfl != NULL)
        end_dwfl(live_dwfl);
    live_dwfl = NULL;
    if (gone_dwfl != NULL)
        end_dwfl(gone_dwfl);
    gone_dwfl = NULL;
    gone_path[0] = '\0';
    dwfl_unlock(dwfl_cancel);
}
