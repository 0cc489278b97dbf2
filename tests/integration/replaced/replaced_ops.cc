// SPDX-License-Identifier: MIT
// A program that replaces some of the replaceable operators new and delete
// itself, which the standard allows form by form: the forms it leaves to
// the library must reach its replacements as the defaults do (new[] calls
// operator new, the sized delete the unsized one, nothrow the throwing
// one). REPLACE picks what is replaced:
//   1  operator new(size_t) and operator delete(void*), with a 16-byte
//      header of the program's own in front of each block
//   2  operator new[](size_t) and operator delete[](void*), the same way
//   3  the aligned operator new and delete, keeping the alignment (C++17)
//   4  only the sized operator delete(void*, size_t)
//   5  only the nothrow operator new
// Run with no argument it exercises every form and prints its counters,
// which must be the same natively and under crossfree; with "bug" it
// frees a new[] array with free(), which crossfree reports.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

static int news, deletes;

#if REPLACE == 1 || REPLACE == 2
static void *with_header(std::size_t n) {
    char *p = static_cast<char *>(std::malloc(n + 16));
    if (p == nullptr)
        throw std::bad_alloc();
    news++;
    std::memcpy(p, "program header\0", 16);
    return p + 16;
}
static void without_header(void *p) {
    if (p == nullptr)
        return;
    deletes++;
    std::free(static_cast<char *>(p) - 16);
}
#endif

#if REPLACE == 1
void *operator new(std::size_t n) { return with_header(n); }
void operator delete(void *p) noexcept { without_header(p); }
#elif REPLACE == 2
void *operator new[](std::size_t n) { return with_header(n); }
void operator delete[](void *p) noexcept { without_header(p); }
#elif REPLACE == 3
void *operator new(std::size_t n, std::align_val_t al) {
    std::size_t a = static_cast<std::size_t>(al);
    char *p = static_cast<char *>(std::aligned_alloc(a, ((n + a - 1) / a + 1) * a));
    if (p == nullptr)
        throw std::bad_alloc();
    news++;
    return p + a;
}
void operator delete(void *p, std::align_val_t al) noexcept {
    if (p == nullptr)
        return;
    deletes++;
    std::free(static_cast<char *>(p) - static_cast<std::size_t>(al));
}
#elif REPLACE == 4
void operator delete(void *p, std::size_t) noexcept {
    deletes++;
    std::free(p);
}
#elif REPLACE == 5
void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
    news++;
    return std::malloc(n ? n : 1);
}
#endif

struct Big {
    alignas(64) char bytes[64];
};

int main(int argc, char **argv) {
    if (argc > 1 && std::strcmp(argv[1], "bug") == 0) {
        int *volatile array = new int[4];
        std::free(array); // the bug: a new[] array freed with free()
        return 0;
    }
    int *one = new int(1);
    delete one;
    int *many = new int[10];
    delete[] many;
    int *quiet = new (std::nothrow) int(2);
    delete quiet;
    int *quiet_many = new (std::nothrow) int[3];
    delete[] quiet_many;
    char *text = new char[100];
    operator delete[](text, std::nothrow);
#if __cplusplus >= 201703L
    Big *big = new Big;
    delete big;
    Big *bigs = new Big[3];
    delete[] bigs;
#endif
    std::printf("news=%d deletes=%d\n", news, deletes);
    return 0;
}
