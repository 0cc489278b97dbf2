// SPDX-License-Identifier: MIT
// A sized operator delete given another size than the block was allocated
// with, and an aligned one given another alignment than operator new was
// (larger, which the address lacks, or smaller, which only the record
// tells): the family is right, the shape is not. Run as `delete_shape MODE`; the
// -off modes turn the check off, size-continue goes on after the report
// (halt_on_error=0), `clean` passes every shape correctly.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT[size,array-size,size-align,size-continue]: new-delete-size-mismatch
// EXPECT[align,align-smaller]: new-delete-alignment-mismatch
// EXPECT[size-off,align-off,clean]: clean
// OPTIONS[size-off]: new_delete_size_mismatch=0
// OPTIONS[align-off]: new_delete_alignment_mismatch=0
// EXPECT-WORDS[size]: sized operator delete was given 8 bytes for a 24-byte region allocated by operator new
// EXPECT-FREE-FRAME[size]: #0 delete_short(void*) @ds_free
// EXPECT-ALLOC-FRAME[size]: #0 make(unsigned long) @ds_alloc
// EXPECT-LINE[size]: ^SUMMARY: crossfree: new-delete-size-mismatch \S*delete_shape\.cc:\d+ in delete_short\(void\*\)$
// EXPECT-LINE[size]: ^HINT: pass operator delete the size that operator new was given
// EXPECT-WORDS[array-size]: sized operator delete[] was given 40 bytes for a 48-byte region allocated by operator new[]
// EXPECT-FREE-FRAME[array-size]: #0 delete_array_short(void*) @ds_free_arr
// EXPECT-ALLOC-FRAME[array-size]: #0 make_array(unsigned long) @ds_alloc_arr
// EXPECT-LINE[size-align]: ^sized operator delete\(align_val_t\) was given 32 bytes for a 48-byte region allocated by operator new\(align_val_t\)$
// EXPECT-FREE-FRAME[size-align]: #0 delete_aligned_short(void*) @ds_free_al_sized
// EXPECT-ALLOC-FRAME[size-align]: #0 make_aligned(unsigned long) @ds_alloc_al
// EXPECT-LINE[align]: ^operator delete\(align_val_t\) was given an alignment of \d+ bytes for a 48-byte region allocated by operator new\(align_val_t\) with an alignment of 64 bytes$
// EXPECT-FREE-FRAME[align]: #0 delete_overaligned(void*) @ds_free_al
// EXPECT-ALLOC-FRAME[align]: #0 make_aligned(unsigned long) @ds_alloc_al
// EXPECT-LINE[align-smaller]: ^operator delete\[\]\(align_val_t\) was given an alignment of 16 bytes for a 100-byte region allocated by operator new\[\]\(align_val_t\) with an alignment of 64 bytes$
// EXPECT-FREE-FRAME[align-smaller]: #0 delete_array_underaligned(void*) @ds_free_al_small
// EXPECT-ALLOC-FRAME[align-smaller]: #0 make_aligned_array(unsigned long) @ds_alloc_al_arr
// EXPECT-LINE[align-smaller]: ^HINT: pass operator delete the alignment that operator new was given
// EXPECT-STDOUT[size-off,align-off,clean,size-continue]: done
// OPTIONS[size-continue]: halt_on_error=0
// EXPECT-EXIT[size-continue]: 23
// EXPECT-STDERR[size-continue]: ^==%pid==crossfree: 1 error\(s\) reported \(alloc-dealloc-mismatch: 0, double-free: 0, invalid-free: 0, new-delete-size-mismatch: 1, new-delete-alignment-mismatch: 0\); exit status 23$
//
// The same two with report_format=json (check_json.py):
// JSON-EXIT[size,align,align-smaller]: SIGABRT
// JSON-KIND[size]: new-delete-size-mismatch
// JSON-ALLOC[size]: new | operator new
// JSON-FREE[size]: new | operator delete
// JSON-FREE-FRAME[size]: #0 delete_short(void*) @ds_free
// JSON-ALLOC-FRAME[size]: #0 make(unsigned long) @ds_alloc
// JSON-FIELD[size]: size=24
// JSON-FIELD[size]: delete_size=8
// JSON-KIND[align]: new-delete-alignment-mismatch
// JSON-ALLOC[align]: new(align) | operator new(align_val_t)
// JSON-FREE-FRAME[align]: #0 delete_overaligned(void*) @ds_free_al
// JSON-FIELD[align]: size=48
// JSON-FIELD[align]: alignment=64
// JSON-KIND[align-smaller]: new-delete-alignment-mismatch
// JSON-FIELD[align-smaller]: delete_alignment=16
// JSON-FIELD[align-smaller]: alignment=64
// clang-format on

static const std::align_val_t kAlign{64};

NI static void *make(size_t n) { return ::operator new(n); /* @ds_alloc */ }
NI static void *make_array(size_t n) { return ::operator new[](n); /* @ds_alloc_arr */ }
NI static void *make_aligned(size_t n) { return ::operator new(n, kAlign); /* @ds_alloc_al */ }
NI static void *make_aligned_array(size_t n) {
    return ::operator new[](n, kAlign); /* @ds_alloc_al_arr */
}

NI static void delete_short(void *p) { ::operator delete(p, 8); /* @ds_free */ }
NI static void delete_array_short(void *p) { ::operator delete[](p, 40); /* @ds_free_arr */ }
NI static void delete_aligned_short(void *p) {
    ::operator delete(p, 32, kAlign); /* @ds_free_al_sized */
}
// Twice the address's lowest set bit: an alignment it certainly lacks,
// whatever the allocator happened to return.
NI static void delete_overaligned(void *p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::align_val_t wrong{static_cast<size_t>((a & (~a + 1)) << 1)};
    ::operator delete(p, wrong); /* @ds_free_al */
}

// A smaller alignment than the block's: its address has it too, so only
// the alignment recorded at operator new[] tells.
NI static void delete_array_underaligned(void *p) {
    ::operator delete[](p, std::align_val_t{16}); /* @ds_free_al_small */
}

struct Widget {
    char bytes[24];
    virtual ~Widget() = default;
};

// Every form given the size and alignment it was allocated with: silent.
static void all_right() {
    ::operator delete(make(24), 24);
    ::operator delete[](make_array(48), 48);
    ::operator delete(make_aligned(48), 48, kAlign);
    ::operator delete(make_aligned(48), kAlign);
    ::operator delete[](::operator new[](100, kAlign), 100, kAlign);
    ::operator delete[](::operator new[](100, kAlign), kAlign);
    ::operator delete (::operator new (8, std::align_val_t{8}), std::align_val_t{8});
    ::operator delete (::operator new (1 << 20, std::align_val_t{1 << 20}), 1 << 20,
                       std::align_val_t{1 << 20});
    delete new Widget;
    delete[] new Widget[3];
    std::vector<int> v;
    for (int i = 0; i < 1000; i++)
        v.push_back(i);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    if (strcmp(mode, "size") == 0 || strcmp(mode, "size-off") == 0 ||
        strcmp(mode, "size-continue") == 0) {
        delete_short(make(24));
    } else if (strcmp(mode, "array-size") == 0) {
        delete_array_short(make_array(48));
    } else if (strcmp(mode, "size-align") == 0) {
        delete_aligned_short(make_aligned(48));
    } else if (strcmp(mode, "align") == 0 || strcmp(mode, "align-off") == 0) {
        delete_overaligned(make_aligned(48));
    } else if (strcmp(mode, "align-smaller") == 0) {
        delete_array_underaligned(make_aligned_array(100));
    } else {
        all_right();
    }
    std::puts("done");
    return 0;
}
