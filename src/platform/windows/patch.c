// SPDX-License-Identifier: MIT
// Import-table patching: every import slot that holds the address of a
// hooked function is pointed at its wrapper. The shim decides what is
// hooked and which modules to patch, and when; this file only walks PE
// images. Runs under the loader lock at start-up: nothing here loads a
// library, waits for another thread, or calls back into the shim.
#include "platform/windows/patch.h"

static HMODULE self_module;
static wchar_t windows_dir[MAX_PATH + 1];
static size_t windows_dir_len;

// ---------------------------------------------------------------------------
// The hook table: real address -> wrapper, append-only, read without a lock

#define MAX_HOOKS 256
static struct { uintptr_t real, wrapper; } hooks[MAX_HOOKS];
static volatile LONG hook_count;

void cf_win_hook_add(uintptr_t real, uintptr_t wrapper) {
    if (real == 0 || wrapper == 0)
        return;
    LONG n = hook_count;
    for (LONG i = 0; i < n; i++)
        if (hooks[i].real == real)
            return;
    if (n == MAX_HOOKS)
        return;
    hooks[n].real = real;
    hooks[n].wrapper = wrapper;
    InterlockedExchange(&hook_count, n + 1); // publishes the entry
}

uintptr_t cf_win_hook_find(uintptr_t real) {
    LONG n = hook_count;
    MemoryBarrier();
    for (LONG i = 0; i < n; i++)
        if (hooks[i].real == real)
            return hooks[i].wrapper;
    return 0;
}

// ---------------------------------------------------------------------------
// PE walking

const IMAGE_NT_HEADERS *cf_win_nt_headers(HMODULE m) {
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
        uintptr_t w = cf_win_hook_find((uintptr_t)*slot);
        if (w != 0)
            write_slot(slot, w);
    }
}

void cf_win_patch_module(HMODULE m) {
    const IMAGE_NT_HEADERS *nt = cf_win_nt_headers(m);
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

void cf_win_patch_init(HMODULE self) {
    self_module = self;
    UINT n = GetSystemWindowsDirectoryW(windows_dir, MAX_PATH);
    windows_dir_len = n < MAX_PATH ? n : 0;
    while (windows_dir_len > 0 &&
           (windows_dir[windows_dir_len - 1] == L'\\' || windows_dir[windows_dir_len - 1] == L'/'))
        windows_dir_len--;
}

// What the program receives from a system module (CoTaskMem blocks,
// _strdup results) is recognised by its allocator when it comes back
// untracked.
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

bool cf_win_patchable(HMODULE m) { return m != self_module && !is_system_module(m); }
