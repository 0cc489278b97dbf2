// SPDX-License-Identifier: MIT
// A sized operator delete given another size than the block was allocated
// with, and an aligned one given an alignment the block's address lacks:
// the family is right, the shape is not. Run as `delete_shape MODE`; the
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
// EXPECT[align]: new-delete-alignment-mismatch
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
// EXPECT-LINE[align]: ^operator delete\(align_val_t\) was given an alignment of \d+ bytes, which the address of a block allocated by operator new\(align_val_t\) does not have$
// EXPECT-FREE-FRAME[align]: #0 delete_overaligned(void*) @ds_free_al
// EXPECT-ALLOC-FRAME[align]: #0 make_aligned(unsigned long) @ds_alloc_al
// EXPECT-STDOUT[size-off,align-off,clean,size-continue]: done
// OPTIONS[size-continue]: halt_on_error=0
// EXPECT-EXIT[size-continue]: 23
// EXPECT-STDERR[size-continue]: ^==%pid==crossfree: 1 error\(s\) reported \(alloc-dealloc-mismatch: 0, double-free: 0, invalid-free: 0, new-delete-size-mismatch: 1, new-delete-alignment-mismatch: 0\); exit status 23$
//
// The same two with report_format=json (check_json.py):
// JSON-EXIT[size,align]: SIGABRT
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
// clang-format on

static const std::align_val_t kAlign{64};

NI static void *make(size_t n) { return ::operator new(n); /* @ds_alloc */ }
NI static void *make_array(size_t n) { return ::operator new[](n); /* @ds_alloc_arr */ }
NI static void *make_aligned(size_t n) { return ::operator new(n, kAlign); /* @ds_alloc_al */ }

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
    } else {
        all_right();
    }
    std::puts("done");
    return 0;
}
