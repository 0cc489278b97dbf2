// SPDX-License-Identifier: MIT
// The seed example's fix written with the public annotation instead of the
// host_allocators option: UICommand derives from a DartReadable whose
// operators call portable_malloc/portable_free, marked
// CROSSFREE_HOST_ALLOCATOR so crossfree knows them without being told. On
// Windows they would call CoTaskMemAlloc/CoTaskMemFree. Built a second time
// with WINSEM_NO_ANNOTATION, where nothing names them: that build is what
// shows the annotation is what keeps the report away.
#include <crossfree/crossfree.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#if WINSEM_NO_ANNOTATION
#define HOST_ALLOCATOR(name) __attribute__((noinline))
#else
#define HOST_ALLOCATOR(name) CROSSFREE_HOST_ALLOCATOR(name)
#endif

HOST_ALLOCATOR(portable_malloc)
static void *portable_malloc(std::size_t size) { return std::malloc(size); /* @portable_malloc */ }

HOST_ALLOCATOR(portable_free)
static void portable_free(void *ptr) { std::free(ptr); }

struct DartReadable {
    static void *operator new(std::size_t size) { return portable_malloc(size); }
    static void *operator new[](std::size_t size) { return portable_malloc(size); }
    static void operator delete(void *ptr) noexcept { portable_free(ptr); }
    static void operator delete[](void *ptr) noexcept { portable_free(ptr); }
};

struct UICommand : public DartReadable {
    int64_t data_{0};
    double f_{0.0};
};

extern "C" __attribute__((visibility("default"))) void *get_ui_command(uint32_t *length) {
    *length = 10;
    auto *data = new UICommand[10];
    for (int i = 0; i < 10; i++) {
        data[i].data_ = i;
        data[i].f_ = i + 0.1;
    }
    return data;
}
