// SPDX-License-Identifier: MIT
// C++ allocation contracts under the preload: aligned new honours the
// requested alignment, a failing new calls the new_handler and then throws
// std::bad_alloc through crossfree's wrapper frames, nothrow new returns null.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <new>
#include <vector>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: aligned new: ok
// EXPECT-STDOUT: aligned new[]: ok
// EXPECT-STDOUT: aligned nothrow new: ok
// EXPECT-STDOUT: alignas type: ok
// EXPECT-STDOUT: new_handler called 3 times, then std::bad_alloc
// EXPECT-STDOUT: huge new[]: std::bad_alloc
// EXPECT-STDOUT: huge aligned new: std::bad_alloc
// EXPECT-STDOUT: huge nothrow new: nullptr
// EXPECT-STDOUT: huge nothrow aligned new[]: nullptr
// EXPECT-STDOUT: array length overflow: std::bad_array_new_length
// EXPECT-STDOUT: new(0): ok
// clang-format on

struct alignas(256) Wide {
    unsigned char bytes[256];
};

static int handler_calls;
static void handler() {
    if (++handler_calls == 3)
        std::set_new_handler(nullptr);
}

int main() {
    bool ok1 = true, ok2 = true, ok3 = true;
    for (std::size_t a = 1; a <= (std::size_t(1) << 20); a <<= 1) {
        std::align_val_t al{a};
        void *p = ::operator new(100, al);
        ok1 &= reinterpret_cast<std::uintptr_t>(p) % a == 0;
        ::operator delete(p, 100, al);
        void *q = ::operator new[](3 * a, al);
        ok2 &= reinterpret_cast<std::uintptr_t>(q) % a == 0;
        ::operator delete[](q, al);
        void *r = ::operator new(7, al, std::nothrow);
        ok3 &= r && reinterpret_cast<std::uintptr_t>(r) % a == 0;
        ::operator delete(r, al);
    }
    std::printf("aligned new: %s\n", ok1 ? "ok" : "FAILED");
    std::printf("aligned new[]: %s\n", ok2 ? "ok" : "FAILED");
    std::printf("aligned nothrow new: %s\n", ok3 ? "ok" : "FAILED");

    bool ok4 = true;
    std::vector<Wide *> many;
    for (int i = 0; i < 50; i++) {
        many.push_back(new Wide);
        ok4 &= reinterpret_cast<std::uintptr_t>(many.back()) % 256 == 0;
    }
    Wide *arr = new Wide[9];
    ok4 &= reinterpret_cast<std::uintptr_t>(arr) % 256 == 0;
    delete[] arr;
    for (Wide *w : many)
        delete w;
    std::printf("alignas type: %s\n", ok4 ? "ok" : "FAILED");

    volatile std::size_t huge = SIZE_MAX / 2;
    std::set_new_handler(handler);
    try {
        void *p = ::operator new(huge);
        std::printf("huge new: returned %p\n", p);
    } catch (const std::bad_alloc &) {
        std::printf("new_handler called %d times, then std::bad_alloc\n", handler_calls);
    }
    try {
        char *p = new char[huge];
        std::printf("huge new[]: returned %p\n", static_cast<void *>(p));
    } catch (const std::bad_alloc &) {
        std::printf("huge new[]: std::bad_alloc\n");
    }
    try {
        void *p = ::operator new (huge, std::align_val_t{64});
        std::printf("huge aligned new: returned %p\n", p);
    } catch (const std::bad_alloc &) {
        std::printf("huge aligned new: std::bad_alloc\n");
    }
    void *n1 = ::operator new(huge, std::nothrow);
    std::printf("huge nothrow new: %s\n", n1 ? "non-null" : "nullptr");
    void *n2 = ::operator new[](huge, std::align_val_t{128}, std::nothrow);
    std::printf("huge nothrow aligned new[]: %s\n", n2 ? "non-null" : "nullptr");
    try {
        volatile long neg = -1;
        int *p = new int[neg];
        std::printf("array length overflow: returned %p\n", static_cast<void *>(p));
    } catch (const std::bad_array_new_length &) {
        std::printf("array length overflow: std::bad_array_new_length\n");
    } catch (const std::bad_alloc &) {
        std::printf("array length overflow: std::bad_alloc\n");
    }
    void *z = ::operator new(0);
    std::printf("new(0): %s\n", z ? "ok" : "nullptr");
    ::operator delete(z);
    return 0;
}
