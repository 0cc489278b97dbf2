// SPDX-License-Identifier: MIT
// Windows' own allocators, each called through this program's import table:
// HeapAlloc per heap, LocalAlloc and GlobalAlloc (fixed and movable), and
// oleaut32's BSTRs. argv[1] picks the case; the cases that pair every call
// correctly (and release blocks that system DLLs allocated) must stay clean.
//
// clang-format off
// EXPECT[bstr_cotaskmemfree,cotaskmem_sysfreestring,bstr_free,local_free]: alloc-dealloc-mismatch
// EXPECT[malloc_localfree,global_localfree,heap_wrong,heap_crt]: alloc-dealloc-mismatch
// EXPECT[bstr_clean,local_clean,heap_clean]: clean
//
// A BSTR points 4 bytes past its allocation: CoTaskMemFree(bstr) must be
// the mismatch it is, not an invalid free of an interior pointer.
// EXPECT-WORDS[bstr_cotaskmemfree]: allocated by SysAllocString, freed by CoTaskMemFree
// EXPECT-TEXT[bstr_cotaskmemfree]: is a 12-byte region allocated by SysAllocString in thread T0 here:
// EXPECT-TEXT[bstr_cotaskmemfree]: HINT: memory from SysAllocString must be released with SysFreeString; memory that CoTaskMemFree releases
// EXPECT-FREE-FRAME[bstr_cotaskmemfree]: release_with_cotaskmemfree
// EXPECT-ALLOC-FRAME[bstr_cotaskmemfree]: make_bstr
// EXPECT-WORDS[cotaskmem_sysfreestring]: allocated by CoTaskMemAlloc, freed by SysFreeString
// EXPECT-TEXT[cotaskmem_sysfreestring]: HINT: memory from CoTaskMemAlloc must be released with CoTaskMemFree
// EXPECT-FREE-FRAME[cotaskmem_sysfreestring]: release_with_sysfreestring
// EXPECT-WORDS[bstr_free]: allocated by SysAllocString, freed by free (msvcrt.dll)
// EXPECT-FREE-FRAME[bstr_free]: release_with_free
// EXPECT-TEXT[bstr_free]: a BSTR points 4 bytes past its allocation, just after its length, so no other deallocator can release it
// EXPECT-WORDS[local_free]: allocated by LocalAlloc, freed by free (msvcrt.dll)
// EXPECT-TEXT[local_free]: HINT: memory from LocalAlloc must be released with LocalFree
// EXPECT-ALLOC-FRAME[local_free]: make_local
// EXPECT-WORDS[malloc_localfree]: allocated by malloc (msvcrt.dll), freed by LocalFree
// EXPECT-TEXT[malloc_localfree]: HINT: memory from malloc (msvcrt.dll) must be released with free (msvcrt.dll)
// EXPECT-FREE-FRAME[malloc_localfree]: release_with_localfree
// A GMEM_MOVEABLE block is a handle; the handle is what LocalFree gets.
// EXPECT-WORDS[global_localfree]: allocated by GlobalAlloc, freed by LocalFree
// EXPECT-TEXT[global_localfree]: HINT: memory from GlobalAlloc must be released with GlobalFree
// A block of a private heap freed to the process heap: both heaps named.
// EXPECT-TEXT[heap_wrong]: allocated by HeapAlloc (heap 0x
// EXPECT-TEXT[heap_wrong]: freed by HeapFree (process heap)
// EXPECT-TEXT[heap_wrong]: HINT: memory from HeapAlloc (heap 0x
// EXPECT-FREE-FRAME[heap_wrong]: release_to_process_heap
// EXPECT-ALLOC-FRAME[heap_wrong]: make_private
// EXPECT-WORDS[heap_crt]: allocated by HeapAlloc (process heap), freed by free (msvcrt.dll)
// clang-format on
#include <objbase.h>
#include <oleauto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#define NOINLINE __attribute__((noinline))

static void say(const char *s) {
    printf("%s\n", s);
    fflush(stdout);
}

NOINLINE static BSTR make_bstr(void) { return SysAllocString(L"hello"); }
NOINLINE static void release_with_cotaskmemfree(void *p) { CoTaskMemFree(p); }
NOINLINE static void release_with_sysfreestring(void *p) { SysFreeString((BSTR)p); }
NOINLINE static void release_with_free(void *p) { free(p); }
NOINLINE static HLOCAL make_local(UINT flags) { return LocalAlloc(flags, 40); }
NOINLINE static void release_with_localfree(HLOCAL p) { LocalFree(p); }
NOINLINE static void *make_private(HANDLE h) { return HeapAlloc(h, 0, 48); }
NOINLINE static void release_to_process_heap(void *p) { HeapFree(GetProcessHeap(), 0, p); }

// Every BSTR function, paired; and a BSTR made inside oleaut32 (never seen
// by crossfree) released by the program.
static int bstr_clean(void) {
    BSTR a = SysAllocString(L"one");
    BSTR b = SysAllocStringLen(L"two three", 3);
    BSTR c = SysAllocStringByteLen("four", 4);
    if (a == NULL || b == NULL || c == NULL || !SysReAllocString(&a, L"a longer string") ||
        !SysReAllocStringLen(&b, L"another longer string", 15))
        return 1;
    BSTR sys = NULL;
    if (VarBstrFromI4(12345, 0, 0, &sys) != S_OK || sys == NULL)
        return 1;
    SysFreeString(a);
    SysFreeString(b);
    SysFreeString(c);
    SysFreeString(sys);
    SysFreeString(NULL);
    say("bstr ok");
    return 0;
}

// Fixed and movable Local/Global blocks, resized and freed; and a
// FormatMessage buffer (LocalAlloc'd inside kernelbase) freed with LocalFree.
static int local_clean(void) {
    HLOCAL f = LocalAlloc(LMEM_FIXED, 16);
    HLOCAL m = LocalAlloc(LMEM_MOVEABLE | LMEM_ZEROINIT, 16);
    HGLOBAL gf = GlobalAlloc(GMEM_FIXED, 16);
    HGLOBAL gm = GlobalAlloc(GMEM_MOVEABLE, 16);
    if (f == NULL || m == NULL || gf == NULL || gm == NULL)
        return 1;
    char *lp = LocalLock(m);
    strcpy(lp, "movable");
    LocalUnlock(m);
    HLOCAL f2 = LocalReAlloc(f, 4096, LMEM_MOVEABLE);
    HLOCAL m2 = LocalReAlloc(m, 4096, LMEM_MOVEABLE);
    HGLOBAL gm2 = GlobalReAlloc(gm, 4096, GMEM_MOVEABLE);
    if (f2 == NULL || m2 == NULL || gm2 == NULL)
        return 1;
    char *text = NULL;
    FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                       FORMAT_MESSAGE_IGNORE_INSERTS,
                   NULL, ERROR_FILE_NOT_FOUND, 0, (LPSTR)&text, 0, NULL);
    if (LocalFree(f2) != NULL || LocalFree(m2) != NULL || GlobalFree(gf) != NULL ||
        GlobalFree(gm2) != NULL)
        return 1;
    if (text != NULL && LocalFree(text) != NULL)
        return 1;
    say("local ok");
    return 0;
}

// The process heap and private heaps, paired; a heap destroyed with blocks
// still in it, then new heaps whose blocks may land at the same addresses:
// the old records must not make them look like someone else's.
static int heap_clean(void) {
    HANDLE ph = GetProcessHeap();
    void *p = HeapAlloc(ph, HEAP_ZERO_MEMORY, 64);
    p = HeapReAlloc(ph, 0, p, 1024);
    if (p == NULL || !HeapFree(ph, 0, p))
        return 1;
    for (int round = 0; round < 4; round++) {
        HANDLE h = HeapCreate(0, 0, 0);
        void *kept[8];
        for (int i = 0; i < 8; i++)
            kept[i] = HeapAlloc(h, 0, 32 + 16 * i);
        void *q = HeapAlloc(h, 0, 100);
        q = HeapReAlloc(h, 0, q, 200);
        HeapFree(h, 0, q);
        if (kept[0] == NULL || !HeapDestroy(h))
            return 1;
        // Blocks of the next heap (and of the process heap) at old addresses.
        void *r = HeapAlloc(ph, 0, 32);
        HeapFree(ph, 0, r);
    }
    // Blocks freed to a heap wait in crossfree's quarantine; destroying the
    // heap must not leave them to be released to it later, when other frees
    // push them out (4 MiB of them, beyond the quarantine's 1 MiB).
    HANDLE h = HeapCreate(0, 0, 0);
    for (int i = 0; i < 64; i++)
        HeapFree(h, 0, HeapAlloc(h, 0, 1024));
    if (!HeapDestroy(h))
        return 1;
    for (int i = 0; i < 1024; i++)
        HeapFree(ph, 0, HeapAlloc(ph, 0, 4096));
    char *s = malloc(32); // msvcrt calls HeapAlloc inside: never reported
    free(s);
    say("heap ok");
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "bstr_clean") == 0)
        return bstr_clean();
    if (strcmp(c, "local_clean") == 0)
        return local_clean();
    if (strcmp(c, "heap_clean") == 0)
        return heap_clean();
    if (strcmp(c, "bstr_cotaskmemfree") == 0) {
        release_with_cotaskmemfree(make_bstr());
    } else if (strcmp(c, "cotaskmem_sysfreestring") == 0) {
        release_with_sysfreestring(CoTaskMemAlloc(24));
    } else if (strcmp(c, "bstr_free") == 0) {
        release_with_free(make_bstr());
    } else if (strcmp(c, "local_free") == 0) {
        release_with_free(make_local(LMEM_FIXED));
    } else if (strcmp(c, "malloc_localfree") == 0) {
        release_with_localfree(malloc(24));
    } else if (strcmp(c, "global_localfree") == 0) {
        release_with_localfree(GlobalAlloc(GMEM_MOVEABLE, 24));
    } else if (strcmp(c, "heap_wrong") == 0) {
        release_to_process_heap(make_private(HeapCreate(0, 0, 0)));
    } else if (strcmp(c, "heap_crt") == 0) {
        release_with_free(HeapAlloc(GetProcessHeap(), 0, 24));
    } else {
        say("unknown case");
        return 2;
    }
    say("not reached");
    return 0;
}
