// SPDX-License-Identifier: MIT
// Start-up of crossfree.dll, and finding the providers: the C runtimes, COM
// and the C++ runtime are found by address among the loaded modules (at
// start-up and after each LoadLibrary), their families registered and
// their functions hooked; then every module's import table is patched.
// Runs under the loader lock at start-up: nothing here loads a library or
// waits for another thread.
#include <objbase.h>
#include <psapi.h>
#include <windows.h>

#include "platform/platform.h"
#include "platform/windows/patch.h"
#include "platform/windows/providers.h"
#include "runtime/runtime.h"
#include "stack/capture.h"
#include "support/fmt.h"

#define CF_STRING_(s) #s
#define CF_STRING(s) CF_STRING_(s)
#define REAL(type, addr) ((type)(addr))
typedef HRESULT(WINAPI *co_get_malloc_fn)(DWORD, IMalloc **);

// ---------------------------------------------------------------------------
// Providers: the modules whose functions crossfree wraps, found by address

static const wchar_t *const crt_dll[CF_CRT_COUNT] = {L"msvcrt.dll", L"ucrtbase.dll"};
static const char *const crt_label[CF_CRT_COUNT] = {"msvcrt.dll", "ucrtbase.dll"};

const char *const cf_win_crt_names[CF_C_COUNT] = {
#define X(id, name) [CF_C_##id] = #name,
    CF_WIN_CRT_FUNCTIONS(X)
#undef X
};

crt_state cf_win_crts[CF_CRT_COUNT];

const char *const cf_win_com_names[CF_COM_COUNT] = {
#define X(id, name) [CF_COM_##id] = #name,
    CF_WIN_COM_FUNCTIONS(X)
#undef X
};
uintptr_t cf_win_com_real[CF_COM_COUNT];
IMalloc *cf_win_com_malloc;

static const char *const cxx_names[CF_X_COUNT] = {
#define X(id, symbol, shape, fn) [CF_X_##id] = CF_STRING(symbol),
    CF_CXX_OPERATORS(X)
#undef X
};
uintptr_t cf_win_cxx_real[CF_X_COUNT];
uintptr_t cf_win_cxx_lo, cf_win_cxx_hi;
static HMODULE cxx_module;

static const char *const mem_names[CF_M_COUNT] = {
#define X(id, name) [CF_M_##id] = #name,
    CF_WIN_MEM_FUNCTIONS(X)
#undef X
};
uintptr_t cf_win_mem_real[CF_M_COUNT];
unsigned cf_win_local_family, cf_win_global_family, cf_win_bstr_family;

const char *const cf_win_bstr_names[CF_B_COUNT] = {
#define X(id, name) [CF_B_##id] = #name,
    CF_WIN_BSTR_FUNCTIONS(X)
#undef X
};
uintptr_t cf_win_bstr_real[CF_B_COUNT];

static const char *const loader_names[CF_L_COUNT] = {
#define X(id, name) [CF_L_##id] = #name,
    CF_WIN_LOADER_FUNCTIONS(X)
#undef X
};
uintptr_t cf_win_loader_real[CF_L_COUNT];

// The real GetProcAddress of crossfree's own import table: never a wrapper.
static uintptr_t lookup(HMODULE m, const char *name) {
    return m != NULL ? (uintptr_t)GetProcAddress(m, name) : 0;
}

// ---------------------------------------------------------------------------
// Finding the providers

static SRWLOCK providers_lock = SRWLOCK_INIT;

static void find_crt(unsigned i) {
    HMODULE m = GetModuleHandleW(crt_dll[i]);
    if (m == NULL)
        return;
    crt_state *c = &cf_win_crts[i];
    for (unsigned f = 0; f < CF_C_COUNT; f++)
        c->real[f] = lookup(m, cf_win_crt_names[f]);
    if (c->real[CF_C_MALLOC] == 0 || c->real[CF_C_FREE] == 0)
        return;
    typedef HANDLE(__cdecl * heap_handle_fn)(void);
    uintptr_t hh = lookup(m, "_get_heap_handle");
    c->heap = hh != 0 ? REAL(heap_handle_fn, hh)() : NULL;
    char name[64], alloc_w[64], free_w[64];
    cf_buf b;
    static const char *const words[2][2] = {{"malloc", "free"},
                                            {"_aligned_malloc", "_aligned_free"}};
    for (unsigned k = 0; k < 2; k++) {
        cf_buf_init(&b, alloc_w, sizeof alloc_w);
        cf_buf_printf(&b, "%s (%s)", words[k][0], crt_label[i]);
        cf_buf_init(&b, free_w, sizeof free_w);
        cf_buf_printf(&b, "%s (%s)", words[k][1], crt_label[i]);
        cf_strlcpy(name, alloc_w, sizeof name);
        unsigned id = cf_family_register(name, alloc_w, free_w);
        if (k == 0)
            c->heap_family = id;
        else
            c->aligned_family = id;
    }
    for (unsigned f = 0; f < CF_C_COUNT; f++)
        cf_win_hook_add(c->real[f], cf_win_crt_wrapper[i][f]);
    InterlockedExchange(&c->present, 1);
}

static void find_com(void) {
    // ole32 forwards CoTaskMem* to combase where combase exists: asking
    // ole32 gives the final address, which is what import tables hold.
    HMODULE m = GetModuleHandleW(L"ole32.dll");
    if (m == NULL)
        m = GetModuleHandleW(L"combase.dll");
    if (m == NULL)
        return;
    uintptr_t r[CF_COM_COUNT];
    for (unsigned f = 0; f < CF_COM_COUNT; f++)
        if ((r[f] = lookup(m, cf_win_com_names[f])) == 0)
            return;
    co_get_malloc_fn get_malloc = REAL(co_get_malloc_fn, lookup(m, "CoGetMalloc"));
    if (get_malloc != NULL)
        get_malloc(1, &cf_win_com_malloc);
    for (unsigned f = 0; f < CF_COM_COUNT; f++)
        cf_win_com_real[f] = r[f];
    for (unsigned f = 0; f < CF_COM_COUNT; f++)
        cf_win_hook_add(r[f], cf_win_com_wrapper[f]);
    // combase's own entries, where they differ from what ole32 answered.
    HMODULE cb = GetModuleHandleW(L"combase.dll");
    for (unsigned f = 0; cb != NULL && cb != m && f < CF_COM_COUNT; f++)
        cf_win_hook_add(lookup(cb, cf_win_com_names[f]), cf_win_com_wrapper[f]);
}

// BSTRs: oleaut32 may come late (LoadLibrary, or a system DLL's import).
static void find_bstr(void) {
    HMODULE m = GetModuleHandleW(L"oleaut32.dll");
    if (m == NULL)
        return;
    uintptr_t r[CF_B_COUNT];
    for (unsigned f = 0; f < CF_B_COUNT; f++)
        if ((r[f] = lookup(m, cf_win_bstr_names[f])) == 0)
            return;
    cf_win_bstr_family = cf_family_register("BSTR", "SysAllocString", "SysFreeString");
    for (unsigned f = 0; f < CF_B_COUNT; f++)
        cf_win_bstr_real[f] = r[f];
    for (unsigned f = 0; f < CF_B_COUNT; f++)
        cf_win_hook_add(r[f], cf_win_bstr_wrapper[f]);
}

// Offers a module as the C++ runtime (it exports operator new/delete).
static void note_cxx_module(HMODULE m) {
    if (cxx_module != NULL || m == NULL)
        return;
    uintptr_t r[CF_X_COUNT];
    for (unsigned x = 0; x < CF_X_COUNT; x++)
        r[x] = lookup(m, cxx_names[x]);
    if (r[CF_X_NEW_SINGLE] == 0 || r[CF_X_DELETE_SINGLE] == 0 || r[CF_X_NEW_ARRAY] == 0 ||
        r[CF_X_DELETE_ARRAY] == 0)
        return;
    // Missing variants fall back to their plain relatives.
    for (unsigned x = 0; x < CF_X_COUNT; x++)
        cf_win_cxx_real[x] = r[x];
    cxx_module = m;
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)(const void *)m;
    const IMAGE_NT_HEADERS *nt =
        (const IMAGE_NT_HEADERS *)(const void *)((const char *)m + dos->e_lfanew);
    cf_win_cxx_lo = (uintptr_t)m;
    cf_win_cxx_hi = cf_win_cxx_lo + nt->OptionalHeader.SizeOfImage;
    for (unsigned x = 0; x < CF_X_COUNT; x++)
        cf_win_hook_add(r[x], cf_win_cxx_wrapper[x]);
}

void cf_win_find_providers(void) {
    AcquireSRWLockExclusive(&providers_lock);
    for (unsigned i = 0; i < CF_CRT_COUNT; i++)
        if (!cf_win_crts[i].present)
            find_crt(i);
    if (cf_win_com_real[CF_COM_FREE] == 0)
        find_com();
    if (cf_win_bstr_real[CF_B_FREE] == 0)
        find_bstr();
    ReleaseSRWLockExclusive(&providers_lock);
}

static void find_loader(void) {
    HMODULE k = GetModuleHandleW(L"kernel32.dll");
    for (unsigned f = 0; f < CF_L_COUNT; f++) {
        cf_win_loader_real[f] = lookup(k, loader_names[f]);
        cf_win_hook_add(cf_win_loader_real[f], cf_win_loader_wrapper[f]);
    }
    // kernel32 forwards most of these to kernelbase; modules built against
    // the api-ms-win-core sets import kernelbase's directly.
    HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
    for (unsigned f = 0; kb != NULL && f < CF_L_COUNT; f++)
        cf_win_hook_add(lookup(kb, loader_names[f]), cf_win_loader_wrapper[f]);
}

// kernel32's allocators: the answers are the final addresses (kernelbase's,
// ntdll's RtlAllocateHeap...), which is what import tables hold; kernelbase's
// own entries too, for modules built against the api-ms-win-core sets.
static void find_memory(void) {
    HMODULE k = GetModuleHandleW(L"kernel32.dll");
    HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
    cf_win_local_family = cf_family_register("LocalAlloc", "LocalAlloc", "LocalFree");
    cf_win_global_family = cf_family_register("GlobalAlloc", "GlobalAlloc", "GlobalFree");
    for (unsigned f = 0; f < CF_M_COUNT; f++) {
        cf_win_mem_real[f] = lookup(k, mem_names[f]);
        cf_win_hook_add(cf_win_mem_real[f], cf_win_mem_wrapper[f]);
        if (kb != NULL)
            cf_win_hook_add(lookup(kb, mem_names[f]), cf_win_mem_wrapper[f]);
    }
}

// ---------------------------------------------------------------------------
// Start-up and exit

static HMODULE self_module;
static SRWLOCK patch_lock = SRWLOCK_INIT;

void cf_win_patch_all(void) {
    HMODULE mods[1024];
    DWORD needed = 0;
    AcquireSRWLockExclusive(&patch_lock);
    cf_win_find_providers();
    if (K32EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &needed)) {
        unsigned n = needed / sizeof(HMODULE);
        if (n > sizeof mods / sizeof mods[0])
            n = sizeof mods / sizeof mods[0];
        unsigned kept = 0;
        for (unsigned i = 0; i < n; i++)
            if (cf_win_patchable(mods[i]))
                mods[kept++] = mods[i];
        // First every C++ runtime among them, so their operators are known
        // before any import table is read.
        for (unsigned i = 0; i < kept; i++)
            note_cxx_module(mods[i]);
        for (unsigned i = 0; i < kept; i++)
            cf_win_patch_module(mods[i]);
    }
    ReleaseSRWLockExclusive(&patch_lock);
}

// Runs under the loader lock (from DllMain): nothing here loads a library
// or waits for another thread.
// Not told apart here: macOS interposes every image's operators, the
// program's own included, and Windows patches only the C++ runtime's.
bool cf_platform_operators_replaced(void) { return false; }

// Only the Linux loader lets a program's own malloc come before crossfree's.
bool cf_platform_allocator_shadowed(char *line, size_t cap) {
    (void)line;
    (void)cap;
    return false;
}

bool cf_platform_init(void) {
    const IMAGE_NT_HEADERS *nt = cf_win_nt_headers(self_module);
    if (nt != NULL)
        cf_capture_set_self((uintptr_t)self_module,
                            (uintptr_t)self_module + nt->OptionalHeader.SizeOfImage);
    cf_win_patch_init(self_module);
    find_loader();
    find_memory();
    cf_win_patch_all();
    return true;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved);
BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    switch (reason) {
    case DLL_PROCESS_ATTACH: {
        self_module = inst;
        // Wrappers live here: the DLL must never be unloaded.
        HMODULE pinned;
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                           (LPCWSTR)(uintptr_t)&DllMain, &pinned);
        (void)cf_rt_enter();
        break;
    }
    case DLL_PROCESS_DETACH:
        if (reserved != NULL) // process exit, not FreeLibrary
            cf_rt_at_exit();
        break;
    default:
        break;
    }
    return TRUE;
}
