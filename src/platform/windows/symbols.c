// SPDX-License-Identifier: MIT
// The Windows symbolizer: module and offset (an RVA, as WinDbg prints it)
// from the loader, names and file:line from DbgHelp, which reads PDBs for
// MSVC code and, under Wine, DWARF 4 from MinGW code. DbgHelp is loaded on the
// first report, never in DllMain; callers hold the recursion guard.
#include "stack/symbolize.h"

#include <windows.h>

#include <dbghelp.h>
#include <psapi.h>

#include "platform/platform.h"
#include "support/demangle_rust.h"
#include "support/fmt.h"
#include "support/lock.h"

#define MODULE_CAP sizeof(((cf_frame_info *)0)->module)

// ---------------------------------------------------------------------------
// Modules, live and unloaded

static size_t image_size(HMODULE m) {
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)(const void *)m;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return 0;
    const IMAGE_NT_HEADERS *nt =
        (const IMAGE_NT_HEADERS *)(const void *)((const char *)m + dos->e_lfanew);
    return nt->Signature == IMAGE_NT_SIGNATURE ? nt->OptionalHeader.SizeOfImage : 0;
}

static bool live_module(uintptr_t pc, HMODULE *out) {
    HMODULE m = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)pc, &m) ||
        m == NULL)
        return false;
    *out = m;
    return true;
}

typedef struct history_entry {
    uintptr_t base;
    size_t size;
    char path[MODULE_CAP];
} history_entry;

#define HISTORY_MAX 256
static history_entry *history; // mmap'd on first use, never freed
static unsigned history_count;
static cf_lock history_lock;

void cf_symbolize_note_modules(void) {
    HMODULE mods[512];
    DWORD needed = 0;
    if (!K32EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &needed))
        return;
    unsigned n = needed / sizeof(HMODULE);
    if (n > sizeof mods / sizeof mods[0])
        n = sizeof mods / sizeof mods[0];
    cf_lock_acquire(&history_lock);
    if (history == NULL)
        history = cf_os_map(HISTORY_MAX * sizeof(history_entry), false);
    for (unsigned i = 0; history != NULL && i < n; i++) {
        uintptr_t base = (uintptr_t)mods[i];
        unsigned slot = history_count;
        for (unsigned j = 0; j < history_count; j++)
            if (history[j].base == base)
                slot = j;
        if (slot == HISTORY_MAX)
            slot = i % HISTORY_MAX; // full: overwrite the oldest-looking entry
        history[slot].base = base;
        history[slot].size = image_size(mods[i]);
        DWORD len = GetModuleFileNameA(mods[i], history[slot].path, MODULE_CAP);
        history[slot].path[len < MODULE_CAP ? len : MODULE_CAP - 1] = '\0';
        if (slot == history_count && history_count < HISTORY_MAX)
            history_count++;
    }
    cf_lock_release(&history_lock);
}

static bool find_history(uintptr_t pc, cf_frame_info *out) {
    bool found = false;
    cf_lock_acquire(&history_lock);
    for (unsigned j = 0; history != NULL && j < history_count && !found; j++) {
        if (pc >= history[j].base && pc < history[j].base + history[j].size) {
            cf_strlcpy(out->module, history[j].path, MODULE_CAP);
            out->offset = pc - history[j].base;
            found = true;
        }
    }
    cf_lock_release(&history_lock);
    return found;
}

// ---------------------------------------------------------------------------
// DbgHelp, loaded on first use

typedef DWORD(WINAPI *sym_set_options_fn)(DWORD);
typedef BOOL(WINAPI *sym_initialize_fn)(HANDLE, PCSTR, BOOL);
typedef BOOL(WINAPI *sym_refresh_fn)(HANDLE);
typedef BOOL(WINAPI *sym_from_addr_fn)(HANDLE, DWORD64, PDWORD64, PSYMBOL_INFO);
typedef BOOL(WINAPI *sym_line_fn)(HANDLE, DWORD64, PDWORD, PIMAGEHLP_LINE64);

static struct {
    bool tried, ok;
    HANDLE process; // a handle of our own: the program may use DbgHelp too
    sym_refresh_fn refresh;
    sym_from_addr_fn from_addr;
    sym_line_fn line;
} dbg;
static cf_lock dbg_lock; // DbgHelp is single-threaded

static void dbghelp_open(void) {
    dbg.tried = true;
    HMODULE h = LoadLibraryW(L"dbghelp.dll");
    if (h == NULL)
        return;
    sym_set_options_fn set_options =
        (sym_set_options_fn)(uintptr_t)GetProcAddress(h, "SymSetOptions");
    sym_initialize_fn initialize = (sym_initialize_fn)(uintptr_t)GetProcAddress(h, "SymInitialize");
    dbg.refresh = (sym_refresh_fn)(uintptr_t)GetProcAddress(h, "SymRefreshModuleList");
    dbg.from_addr = (sym_from_addr_fn)(uintptr_t)GetProcAddress(h, "SymFromAddr");
    dbg.line = (sym_line_fn)(uintptr_t)GetProcAddress(h, "SymGetLineFromAddr64");
    if (set_options == NULL || initialize == NULL || dbg.from_addr == NULL)
        return;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(),
                         &dbg.process, 0, FALSE, DUPLICATE_SAME_ACCESS))
        return;
    set_options(SYMOPT_UNDNAME | SYMOPT_LOAD_LINES | SYMOPT_DEFERRED_LOADS |
                SYMOPT_FAIL_CRITICAL_ERRORS | SYMOPT_NO_PROMPTS);
    dbg.ok = initialize(dbg.process, NULL, TRUE) != FALSE;
}

// Modules loaded since the last report are unknown to DbgHelp until the
// list is refreshed; refreshing once per report is enough.
static uint64_t refreshed_at;

static void fill_names(uintptr_t pc, cf_frame_info *out) {
    cf_lock_acquire(&dbg_lock);
    if (!dbg.tried)
        dbghelp_open();
    if (dbg.ok) {
        uint64_t now = cf_os_time_us();
        if (dbg.refresh != NULL && now - refreshed_at > 100000u) {
            dbg.refresh(dbg.process);
            refreshed_at = now;
        }
        union {
            SYMBOL_INFO info;
            char bytes[sizeof(SYMBOL_INFO) + sizeof out->function];
        } sym;
        ZeroMemory(&sym, sizeof sym);
        sym.info.SizeOfStruct = sizeof(SYMBOL_INFO);
        sym.info.MaxNameLen = sizeof out->function - 1;
        DWORD64 disp = 0;
        // A return address points after the call; look up the call itself.
        DWORD64 at = pc > 0 ? pc - 1 : pc;
        if (dbg.from_addr(dbg.process, at, &disp, &sym.info) && sym.info.Name[0] != '\0') {
            // DbgHelp leaves a Rust (windows-gnu) name mangled.
            if (!cf_demangle_rust(sym.info.Name, out->function, sizeof out->function))
                cf_strlcpy(out->function, sym.info.Name, sizeof out->function);
            out->func_offset = (uintptr_t)(pc - sym.info.Address);
        }
        IMAGEHLP_LINE64 line;
        ZeroMemory(&line, sizeof line);
        line.SizeOfStruct = sizeof line;
        DWORD ldisp = 0;
        if (dbg.line != NULL && dbg.line(dbg.process, at, &ldisp, &line) && line.FileName != NULL) {
            cf_strlcpy(out->file, line.FileName, sizeof out->file);
            out->line = line.LineNumber;
        }
    }
    cf_lock_release(&dbg_lock);
}

// ---------------------------------------------------------------------------
// The contract

bool cf_symbolize(uintptr_t pc, bool names, cf_frame_info *out) {
    out->pc = pc;
    out->module[0] = out->function[0] = out->file[0] = '\0';
    out->offset = out->func_offset = 0;
    out->line = 0;
    out->unloaded = false;
    HMODULE m;
    if (live_module(pc, &m)) {
        DWORD len = GetModuleFileNameA(m, out->module, MODULE_CAP);
        out->module[len < MODULE_CAP ? len : MODULE_CAP - 1] = '\0';
        out->offset = pc - (uintptr_t)m;
    } else if (find_history(pc, out)) {
        out->unloaded = true;
        return true; // DbgHelp has nothing for an unloaded module
    } else {
        return false;
    }
    if (names)
        fill_names(pc, out);
    return true;
}

// Reports only: the FFI bridges' ranges (runtime/hooks.c) are a Linux
// refinement, so the first free of a double free keeps one frame here.
unsigned cf_os_module_ranges(bool (*want)(const char *path), uintptr_t *lo, uintptr_t *hi,
                             unsigned max) {
    (void)want, (void)lo, (void)hi, (void)max;
    return 0;
}

void cf_symbolize_reset(void) {
    cf_lock_acquire(&dbg_lock);
    refreshed_at = 0;
    cf_lock_release(&dbg_lock);
}
