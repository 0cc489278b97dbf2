// SPDX-License-Identifier: MIT
// The native side of the seed example, as in the Dart FFI article: a C++
// library returns `new UICommand[10]` and the host frees it with free().
// Built twice: as is (the bug) and with UI_COMMAND_DART_READABLE=1, where
// UICommand derives from DartReadable and new[] comes from malloc (the fix).
#include "ui_command.h"

#include <cstddef>
#include <cstdlib>

#if UI_COMMAND_DART_READABLE
// The allocator the host frees with. Dart's package:ffi uses malloc/free on
// Linux and macOS (and CoTaskMemAlloc/CoTaskMemFree on Windows).
static void *dart_malloc(std::size_t size) { return std::malloc(size); }
static void dart_free(void *ptr) { std::free(ptr); }

// Objects handed to the host are allocated with the host's allocator.
struct DartReadable {
    static void *operator new(std::size_t size) { return dart_malloc(size); }
    static void *operator new[](std::size_t size) { return dart_malloc(size); }
    static void operator delete(void *ptr) noexcept { dart_free(ptr); }
    static void operator delete[](void *ptr) noexcept { dart_free(ptr); }
};
#else
struct DartReadable {};
#endif

struct UICommand : public DartReadable {
    int64_t data_{0};
    double f_{0.0};
    UICommand() {}
    explicit UICommand(int64_t data, double f) : data_(data), f_(f) {}
};

static_assert(sizeof(UICommand) == sizeof(NativeUICommand), "layout the host reads");

extern "C" void *get_ui_command(uint32_t *length) {
    *length = 10;
    auto *data = new UICommand[10]; /* @get_ui_command_new */
    for (int i = 0; i < 10; i++) {
        data[i].data_ = i;
        data[i].f_ = i + 0.1;
    }
    return data;
}
