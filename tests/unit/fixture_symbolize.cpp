// SPDX-License-Identifier: MIT
// A plugin for test_symbolize: a C++ function with a mangled name whose
// return address the test symbolizes, before and after dlclose. It must stay
// unloadable: no inline statics or other STB_GNU_UNIQUE symbols (they mark
// the library NODELETE, and the dlclose test would then test nothing).
#define FIXTURE_API extern "C" __attribute__((visibility("default")))

// Keeps the optimizer from inlining, cloning or renaming a probe (a clone
// would be named "where.isra.0"); clang knows only noinline.
#if defined(__clang__)
#define FIXTURE_NO_IPA __attribute__((noinline))
#else
#define FIXTURE_NO_IPA __attribute__((noipa))
#endif

namespace cf_fixture {

// Returns its own return address: a pc inside the caller, on the call's line.
FIXTURE_NO_IPA static void *return_address() { return __builtin_return_address(0); }

struct Probe {
    FIXTURE_NO_IPA static void where(unsigned *line, void **pc);
};

// The pc is stored after the call, so the call cannot become a tail call
// (whose return address would be in our caller).
void Probe::where(unsigned *line, void **pc) {
    *line = __LINE__ + 1;
    *pc = return_address();
    // A call into the C++ runtime, so the library depends on libstdc++ even
    // when the linker drops unused libraries (meson's b_asneeded). Explicit
    // operator calls, unlike new-expressions, may not be optimized away.
    void *scratch = ::operator new(16);
    ::operator delete(scratch);
}

} // namespace cf_fixture

// Returns a pc inside cf_fixture::Probe::where and the line of its call.
FIXTURE_API void *cf_fixture_probe(unsigned *line) {
    void *pc = nullptr;
    cf_fixture::Probe::where(line, &pc);
    return pc;
}
