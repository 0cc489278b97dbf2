// SPDX-License-Identifier: MIT
// Blocks crossing between a library's private operator new/delete and the
// global ones: legal pairings must stay clean although crossfree sees
// malloc/free inside the library; a real new[]-vs-delete mismatch through
// the private copy is still reported, with the library's operator named.
// Run as `private_ops_main MODE`.
#include <cstdio>
#include <cstring>

extern "C" void *lib_make_widget();
extern "C" void *lib_make_widgets(int n);
extern "C" void lib_delete_widget(void *w);

struct Widget {
    int id;
    char name[24];
};

// clang-format off
// EXPECT[lib-new-main-delete,main-new-lib-delete]: clean
// EXPECT-STDOUT[lib-new-main-delete]: widget 7
// EXPECT-STDOUT[main-new-lib-delete]: deleted by the library
// EXPECT[array-scalar]: alloc-dealloc-mismatch
// EXPECT-WORDS[array-scalar]: allocated by operator new[], freed by operator delete
// EXPECT-FREE-FRAME[array-scalar]: #0 main @main_delete_scalar
// EXPECT-ALLOC-FRAME[array-scalar]: #0 operator new[](unsigned long)
// EXPECT-ALLOC-FRAME[array-scalar]: #1 lib_make_widgets @lib_new_array
// clang-format on

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (std::strcmp(mode, "lib-new-main-delete") == 0) {
        Widget *w = static_cast<Widget *>(lib_make_widget());
        std::printf("%s %d\n", w->name, w->id);
        delete w; // the global (crossfree's) operator delete
    } else if (std::strcmp(mode, "main-new-lib-delete") == 0) {
        Widget *w = new Widget{1, "mine"}; // the global (crossfree's) operator new
        lib_delete_widget(w);
        std::puts("deleted by the library");
    } else if (std::strcmp(mode, "array-scalar") == 0) {
        Widget *w = static_cast<Widget *>(lib_make_widgets(4));
        delete w; // @main_delete_scalar
    }
    return 0;
}
