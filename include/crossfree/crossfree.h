// SPDX-License-Identifier: MIT
// crossfree's public API, for programs that want to tell crossfree about
// their own allocators or ask who owns a pointer. Every function is safe to
// call whether or not libcrossfree is preloaded when declared weak, as in:
//
//   #include <crossfree/crossfree.h>
//   #pragma weak crossfree_owner
//   if (crossfree_owner != NULL && crossfree_owner(p, &info)) ...
#ifndef CROSSFREE_CROSSFREE_H
#define CROSSFREE_CROSSFREE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CROSSFREE_VERSION_MAJOR 0
#define CROSSFREE_VERSION_MINOR 1

typedef struct crossfree_block_info {
    const char *family;    // "malloc", "new[]", or a registered family's name
    const char *allocator; // words for the allocating function: "calloc()", ...
    size_t size;           // bytes requested
    unsigned thread;       // crossfree thread number of the allocating thread
    int freed;             // 1 if the block was freed and sits in the quarantine
} crossfree_block_info;

// Fills *info and returns 1 if p is the start of a block crossfree tracks
// (live, or freed and still remembered); returns 0 otherwise.
int crossfree_owner(const void *p, crossfree_block_info *info);

// Registers an allocator family of the program's own (an arena, a pool, a
// reference-counted buffer) and returns its id (never 0), or 0 if the names
// are empty or the table of 58 families is full. The words appear in
// reports: "allocated by <alloc_words>, freed by <free_words>". Registering
// the same name again returns the same id.
unsigned crossfree_register_family(const char *name, const char *alloc_words,
                                   const char *free_words);

// Tells crossfree that the program's allocator of `family` handed out
// [p, p+size). Call it right after the allocation, from the allocating code.
void crossfree_note_alloc(unsigned family, const void *p, size_t size);

// Tells crossfree that p is about to be released through `family`. Checks
// it like free() checks a malloc'd block: a block of another family, a
// pointer freed twice or one never handed out is reported. Returns 1 if the
// release is right (go ahead and release), 0 after a report with
// halt_on_error=0 (do not release). crossfree never releases the block.
int crossfree_note_free(unsigned family, const void *p);

// With semantics=windows: names a host-compatible allocator, a function
// that allocates or frees with the FFI host's own allocator on Windows
// (CoTaskMemAlloc/CoTaskMemFree for Dart's package:ffi) and with malloc/free
// elsewhere, like the dart_malloc/dart_free pair of a DartReadable class.
// Blocks whose allocation stack passes through such a function belong to
// the host, and so does a release whose stack does. `function_glob` is
// matched like the host_allocators option: against the demangled name
// without its parameters, with and without its namespaces. Returns 1 if
// added, 0 if the name is empty or 128 bytes or more, or 32 are known.
int crossfree_host_allocator(const char *function_glob);

// CROSSFREE_HOST_ALLOCATOR(name), written right before the definition of
// the function `name`, registers it as above when the module loads (if
// crossfree is there: the reference is weak) and keeps the compiler from
// inlining it, so that it stays a frame of its own in every stack:
//
//   CROSSFREE_HOST_ALLOCATOR(dart_malloc)
//   static void *dart_malloc(size_t size) { ... }
//
// On toolchains without ELF weak references it only keeps the function out
// of line, and crossfree_host_allocator() or the host_allocators option
// does the naming.
#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define CROSSFREE_HOST_ALLOCATOR(name)                                                             \
    _Pragma("weak crossfree_host_allocator")                                                       \
        __attribute__((constructor)) static void crossfree_register_##name##_(void) {              \
        if (crossfree_host_allocator != 0)                                                         \
            crossfree_host_allocator(#name);                                                       \
    }                                                                                              \
    __attribute__((noinline))
#elif defined(__GNUC__) || defined(__clang__)
#define CROSSFREE_HOST_ALLOCATOR(name) __attribute__((noinline))
#elif defined(_MSC_VER)
#define CROSSFREE_HOST_ALLOCATOR(name) __declspec(noinline)
#else
#define CROSSFREE_HOST_ALLOCATOR(name)
#endif

#ifdef __cplusplus
}
#endif

#endif
