// SPDX-License-Identifier: MIT
// The seed example's native library on Windows: get_ui_command() returns
// `new UICommand[10]`, which the Dart host frees with CoTaskMemFree (what
// package:ffi's calloc.free does on Windows). Built twice: as is (the bug)
// and with UI_COMMAND_DART_READABLE=1, where UICommand derives from
// DartReadable, whose operators use the allocator the host frees with.
#include <cstddef>
#include <cstdint>

#include <objbase.h>

#if UI_COMMAND_DART_READABLE
// On Windows package:ffi allocates with CoTaskMemAlloc and frees with
// CoTaskMemFree, so objects handed to Dart come from there too.
struct DartReadable {
    static void *operator new(std::size_t size) { return CoTaskMemAlloc(size); }
    static void *operator new[](std::size_t size) { return CoTaskMemAlloc(size); }
    static void operator delete(void *ptr) noexcept { CoTaskMemFree(ptr); }
    static void operator delete[](void *ptr) noexcept { CoTaskMemFree(ptr); }
};
#else
struct DartReadable {};
#endif

struct UICommand : public DartReadable {
    int64_t data_{0};
    double f_{0.0};
    UICommand() {}
};

extern "C" __declspec(dllexport) void *get_ui_command(uint32_t *length);

extern "C" __declspec(dllexport) void *get_ui_command(uint32_t *length) {
    *length = 10;
    auto *data = new UICommand[10];
    for (int i = 0; i < 10; i++) {
        data[i].data_ = i;
        data[i].f_ = i + 0.1;
    }
    return data;
}
