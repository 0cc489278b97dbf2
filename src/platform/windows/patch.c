// SPDX-License-Identifier: MIT
// Import-table patching and start-up of crossfree.dll. Every import slot
// that holds the address of a wrapped function is pointed at its wrapper, in
// every loaded module but crossfree's own and the system's; the same pass
// runs again after each LoadLibrary. Runs under the loader lock at start-up:
// nothing here loads a library or waits for another thread.
#include <windows.h>

#include <psapi.h>

#include "platform/platform.h"
#include "platform/windows/hooks.h"
#include "runtime/runtime.h"
#include "stack/capture.h"

static HMODULE self_module;
static wchar_t windows_dir[MAX_PATH + 1];
static size_t windows_dir_len;
static SRWLOCK patch_lock = SRWLOCK_INIT;

// ---------------------------------------------------------------------------
// PE walking

static const IMAGE_NT_HEADERS *nt_headers(HMODULE m) {
    const unsigned char *base = (const unsigned char *)m;
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)(const void *)base;
    if (dos->e_magic != IMAGE_DOS_SIGNATURE)
        return NULL;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(const void *)(base + dos->e_lfanew);
    if (nt->Signature != IMAGE_NT_SIGNATURE ||
        nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR_MAGIC)
        return NULL;
    return nt;
}

static void write_slot(ULONG_PTR *slot, uintptr_t value) {
    DWORD old;
    if (!VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old))
        return;
    __atomic_store_n(slot, (ULONG_PTR)value, __ATOMIC_RELEASE); // callers may race us: one store
    VirtualProtect(slot, sizeof *slot, old, &old);
}

// Patches one import address table: a zero-terminated array of addresses.
static void patch_table(unsigned char *base, DWORD rva, DWORD limit) {
    if (rva == 0 || rva >= limit)
        return;
    for (ULONG_PTR *slot = (ULONG_PTR *)(void *)(base + rva);
         (unsigned char *)slot < base + limit && *slot != 0; slot++) {
        uintptr_t w = cf_win_wrapper_for((uintptr_t)*slot);
        if (w != 0)
            write_slot(slot, w);
    }
}

static void patch_module(HMODULE m) {
    const IMAGE_NT_HEADERS *nt = nt_headers(m);
    if (nt == NULL)
        return;
    unsigned char *base = (unsigned char *)m;
    DWORD size = nt->OptionalHeader.SizeOfImage;
    const IMAGE_DATA_DIRECTORY *dirs = nt->OptionalHeader.DataDirectory;

    const IMAGE_DATA_DIRECTORY *imp = &dirs[IMAGE_DIRECTORY_ENTRY_IMPORT];
    if (imp->VirtualAddress != 0 && imp->VirtualAddress < size) {
        for (const IMAGE_IMPORT_DESCRIPTOR *d =
                 (const IMAGE_IMPORT_DESCRIPTOR *)(const void *)(base + imp->VirtualAddress);
             d->Name != 0; d++)
            patch_table(base, d->FirstThunk, size);
    }
    // Delay-load slots already bound hold real addresses too; unbound ones
    // are bound later through GetProcAddress, which answers with wrappers.
    const IMAGE_DATA_DIRECTORY *dly = &dirs[IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT];
    if (dly->VirtualAddress != 0 && dly->VirtualAddress < size) {
        for (const IMAGE_DELAYLOAD_DESCRIPTOR *d =
                 (const IMAGE_DELAYLOAD_DESCRIPTOR *)(const void *)(base + dly->VirtualAddress);
             d->DllNameRVA != 0; d++)
            if (d->Attributes.RvaBased)
                patch_table(base, d->ImportAddressTableRVA, size);
    }
}

// System modules (Windows' own and Wine's builtin DLLs) keep their imports:
// their CRT use is internal and paired, and what they hand the program
// (CoTaskMem blocks, _strdup results) is recognised by the allocator when
// it comes back untracked.
static bool is_system_module(HMODULE m) {
    wchar_t path[MAX_PATH + 1];
    DWORD n = GetModuleFileNameW(m, path, MAX_PATH);
    if (n == 0 || windows_dir_len == 0 || n < windows_dir_len)
        return false;
    path[n] = 0;
    return CompareStringOrdinal(path, (int)windows_dir_len, windows_dir, (int)windows_dir_len,
                                TRUE) == CSTR_EQUAL &&
           (path[windows_dir_len] == L'\\' || path[windows_dir_len] == L'/');
}

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
            if (mods[i] != self_module && !is_system_module(mods[i]))
                mods[kept++] = mods[i];
        // First every C++ runtime among them, so their operators are known
        // before any import table is read.
        for (unsigned i = 0; i < kept; i++)
            cf_win_note_cxx_module(mods[i]);
        for (unsigned i = 0; i < kept; i++)
            patch_module(mods[i]);
    }
    ReleaseSRWLockExclusive(&patch_lock);
}

// ---------------------------------------------------------------------------
// Start-up and exit

bool cf_platform_init(void) {
    const IMAGE_NT_HEADERS *nt = nt_headers(self_module);
    if (nt != NULL)
        cf_capture_set_self((uintptr_t)self_module,
                            (uintptr_t)self_module + nt->OptionalHeader.SizeOfImage);
    UINT n = GetSystemWindowsDirectoryW(windows_dir, MAX_PATH);
    windows_dir_len = n < MAX_PATH ? n : 0;
    while (windows_dir_len > 0 &&
           (windows_dir[windows_dir_len - 1] == L'\\' || windows_dir[windows_dir_len - 1] == L'/'))
        windows_dir_len--;
    cf_win_find_loader();
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
