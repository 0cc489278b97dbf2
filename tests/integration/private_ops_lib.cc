// SPDX-License-Identifier: MIT
// A library with its own global operator new/new[]/delete, bound inside
// the library (-Bsymbolic, as libLLVM is built): its `new` reaches malloc
// directly and crossfree sees a malloc call. Used by private_ops_main.cc.
#include <cstdio>
#include <cstdlib>
#include <new>

void *operator new(std::size_t n) {
    void *p = std::malloc(n ? n : 1);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

void *operator new[](std::size_t n) {
    void *p = std::malloc(n ? n : 1);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }

struct Widget {
    int id;
    char name[24];
};

extern "C" __attribute__((noinline)) void *lib_make_widget() {
    return new Widget{7, "widget"}; // @lib_new
}

extern "C" __attribute__((noinline)) void *lib_make_widgets(int n) {
    return new Widget[n]; // @lib_new_array
}

extern "C" __attribute__((noinline)) void lib_delete_widget(void *w) {
    delete static_cast<Widget *>(w); // @lib_delete
}
