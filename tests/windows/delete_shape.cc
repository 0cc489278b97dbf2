// SPDX-License-Identifier: MIT
// Sized and aligned operator delete given another size or alignment than
// operator new was, in a MinGW program under Wine: the same two checks as
// on Linux (tests/integration/delete_shape.cc), through the operator
// wrappers crossfree patches into the program's imports of libstdc++.
// argv[1]: size, align (a smaller alignment, which only the recorded one
// tells), clean (every form given what operator new was).
//
// clang-format off
// EXPECT[size]: new-delete-size-mismatch
// EXPECT-WORDS[size]: sized operator delete was given 8 bytes for a 24-byte region allocated by operator new
// EXPECT-FREE-FRAME[size]: delete_short
// EXPECT-ALLOC-FRAME[size]: make
// EXPECT[align]: new-delete-alignment-mismatch
// EXPECT-WORDS[align]: operator delete[](align_val_t) was given an alignment of 16 bytes for a 100-byte region allocated by operator new[](align_val_t) with an alignment of 64 bytes
// EXPECT-FREE-FRAME[align]: delete_underaligned
// EXPECT-ALLOC-FRAME[align]: make_aligned_array
// EXPECT[clean]: clean
// EXPECT-STDOUT[clean]: done
// clang-format on
#include <cstdio>
#include <cstring>
#include <new>

#define NI __attribute__((noinline))

static const std::align_val_t kAlign{64};

NI static void *make(size_t n) { return ::operator new(n); }
NI static void *make_aligned_array(size_t n) { return ::operator new[](n, kAlign); }
NI static void delete_short(void *p) { ::operator delete(p, 8); }
NI static void delete_underaligned(void *p) { ::operator delete[](p, std::align_val_t{16}); }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "clean";
    if (strcmp(mode, "size") == 0) {
        delete_short(make(24));
    } else if (strcmp(mode, "align") == 0) {
        delete_underaligned(make_aligned_array(100));
    } else {
        ::operator delete(make(24), 24);
        ::operator delete[](make_aligned_array(100), kAlign);
        ::operator delete[](make_aligned_array(100), 100, kAlign);
        delete new int(7);
    }
    std::printf("done\n");
    return 0;
}
