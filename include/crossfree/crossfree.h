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

#ifdef __cplusplus
}
#endif

#endif
