// SPDX-License-Identifier: MIT
// Unit tests for function names as globs see them (support/names.h), the
// one rule behind suppressions and host_allocators: C names and their
// clone suffixes, C++ namespaces, templates, operators, parameter lists
// and qualifiers, mangled names without a demangler, and hostile input.
#include "support/names.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

static void check(const char *given, const char *qualified, const char *unqualified) {
    cf_function_names n;
    cf_function_names_of(given, &n);
    if (strcmp(n.qualified, qualified) != 0 || strcmp(n.unqualified, unqualified) != 0)
        fail_msg("\"%s\": got \"%s\" / \"%s\", want \"%s\" / \"%s\"", given, n.qualified,
                 n.unqualified, qualified, unqualified);
    assert_ptr_equal(n.given, given);
}

static void test_c_names(void **state) {
    (void)state;
    check("main", "main", "main");
    check("dart_malloc", "dart_malloc", "dart_malloc");
    // GCC's clones of a C function.
    check("dart_malloc.constprop.0", "dart_malloc", "dart_malloc");
    check("dart_free.cold", "dart_free", "dart_free");
    check("make_buffer.part.0.isra.0", "make_buffer", "make_buffer");
    // Anything else without a parameter list stays whole: a JIT's names
    // from a perf map, say.
    check("LazyCompile:*release /app/x.js:12", "LazyCompile:*release /app/x.js:12",
          "LazyCompile:*release /app/x.js:12");
    check(".hidden", ".hidden", ".hidden");
    check("", "", "");
}

// Rust names as the demangler gives them (support/demangle_rust.h).
static void test_rust_names(void **state) {
    (void)state;
    check("rsfree::consume", "rsfree::consume", "consume");
    check("rsfree::consume::{{closure}}", "rsfree::consume::{{closure}}", "{{closure}}");
    check("rsfree::consume::{closure#0}", "rsfree::consume::{closure#0}", "{closure#0}");
    check("<rsfree::Buffer as core::ops::drop::Drop>::drop",
          "<rsfree::Buffer as core::ops::drop::Drop>::drop", "drop");
    check("core::ptr::drop_in_place<rsfree::Buffer>", "core::ptr::drop_in_place<rsfree::Buffer>",
          "drop_in_place<rsfree::Buffer>");
    check("core::ptr::drop_in_place::<rsfree::Buffer>",
          "core::ptr::drop_in_place::<rsfree::Buffer>", "drop_in_place::<rsfree::Buffer>");
    check("<alloc::vec::Vec<u8>>::push", "<alloc::vec::Vec<u8>>::push", "push");
}

static void test_cxx_names(void **state) {
    (void)state;
    // Namespaces, parameters, qualifiers.
    check("ns::Cache::evict(int) const", "ns::Cache::evict", "evict");
    check("release_buffer(char*)", "release_buffer", "release_buffer");
    check("ns::S::get() &&", "ns::S::get", "get");
    check("ns::S::f() const volatile &", "ns::S::f", "f");
    check("ns::S::g() noexcept", "ns::S::g", "g");
    check("(anonymous namespace)::drop(void*)", "(anonymous namespace)::drop", "drop");
    check("f(void (*)(int), int (&) [4])", "f", "f");
    // Clone suffixes.
    check("dart_malloc(unsigned long) [clone .isra.0]", "dart_malloc", "dart_malloc");
    check("ns::f() [clone .cold]", "ns::f", "f");
    check("ns::f(int) [clone .constprop.0] [clone .isra.0]", "ns::f", "f");
    // Templates keep their arguments; a function template's return type goes.
    check("void ns::f<int>(int)", "ns::f<int>", "f<int>");
    check("std::vector<int, std::allocator<int> >::push_back(int const&)",
          "std::vector<int, std::allocator<int> >::push_back", "push_back");
    check("unsigned long ns::Pool<a::b>::size<unsigned long>() const",
          "ns::Pool<a::b>::size<unsigned long>", "size<unsigned long>");
    check("std::function<void (int)>::operator()(int) const",
          "std::function<void (int)>::operator()", "operator()");
    check("f<a::b>(int)", "f<a::b>", "f<a::b>");
    // A real one (node's, from docs/ffi-hosts.md).
    check("v8::internal::MaybeHandle<v8::internal::Object> v8::internal::(anonymous "
          "namespace)::HandleApiCallHelper<false>(v8::internal::Isolate*, "
          "v8::internal::Handle<v8::internal::HeapObject>, unsigned long*, int)",
          "v8::internal::(anonymous namespace)::HandleApiCallHelper<false>",
          "HandleApiCallHelper<false>");
    // Operators.
    check("operator new[](unsigned long)", "operator new[]", "operator new[]");
    check("operator delete(void*, std::align_val_t)", "operator delete", "operator delete");
    check("DartReadable::operator new[](unsigned long)", "DartReadable::operator new[]",
          "operator new[]");
    check("Foo::operator bool() const", "Foo::operator bool", "operator bool");
    check("Foo::operator->() const", "Foo::operator->", "operator->");
    check("bool ns::operator<(A const&, A const&)", "ns::operator<", "operator<");
    check("std::ostream& operator<< <int>(std::ostream&, Box<int> const&)", "operator<< <int>",
          "operator<< <int>");
    check("Foo::operator<=>(Foo const&) const", "Foo::operator<=>", "operator<=>");
    check("cooperator(int)", "cooperator", "cooperator"); // not an operator
    check("ns::operators::get()", "ns::operators::get", "get");
    // Lambdas.
    check("main::{lambda(int)#1}::operator()(int) const", "main::{lambda(int)#1}::operator()",
          "operator()");
    // Malformed: kept as it is, never an empty name.
    check("f(", "f(", "f(");
    check("(int)", "(int)", "(int)");
    check("f)(", "f)(", "f)(");
    check("a::", "a::", "");
}

static void test_mangled_names(void **state) {
    (void)state;
    check("_ZL9dart_freePv", "dart_free", "dart_free");
    check("_Z11dart_mallocm", "dart_malloc", "dart_malloc");
    check("_Z3foov.cold", "foo", "foo");
    check("_ZN2ns4Pool5allocEm", "ns::Pool::alloc", "alloc");
    check("_ZNK2ns4Pool4sizeEv", "ns::Pool::size", "size");
    check("_ZNSt6thread6detachEv", "std::thread::detach", "detach");
    check("_ZN12_GLOBAL__N_14dropEPv", "(anonymous namespace)::drop", "drop");
    // Not a plain name: templates, constructors, operators. Kept whole.
    check("_ZNSt6vectorIiE9push_backEOi", "_ZNSt6vectorIiE9push_backEOi",
          "_ZNSt6vectorIiE9push_backEOi");
    check("_Z3fooIiEvT_", "_Z3fooIiEvT_", "_Z3fooIiEvT_");
    check("_ZN2ns4PoolC2Ev", "_ZN2ns4PoolC2Ev", "_ZN2ns4PoolC2Ev");
    check("_ZnwmSt11align_val_t", "_ZnwmSt11align_val_t", "_ZnwmSt11align_val_t");
    // Truncated or lying lengths.
    check("_Z", "_Z", "_Z");
    check("_Z99abc", "_Z99abc", "_Z99abc");
    check("_ZN3abc", "_ZN3abc", "_ZN3abc");
    check("_ZN2ab", "_ZN2ab", "_ZN2ab");
}

// The three forms are what a glob is matched against, whole.
static void test_matching(void **state) {
    (void)state;
    cf_function_names n;
    cf_function_names_of("void ns::Cache::evict<int>(int) const [clone .cold]", &n);
    static const char *const match[] = {
        "evict<int>",    "evict*",      "ns::Cache::evict<int>",
        "ns::*",         "*::evict<*>", "void ns::Cache::evict<int>(int) const [[]clone .cold]",
        "*(int) const*",
    };
    static const char *const no_match[] = {
        "evict", "Cache::evict<int>", "ns::Cache::evict<int>(int)", "ns", "void", "",
    };
    for (size_t i = 0; i < sizeof match / sizeof match[0]; i++)
        if (!cf_function_names_match(&n, match[i], strlen(match[i])))
            fail_msg("%s did not match", match[i]);
    for (size_t i = 0; i < sizeof no_match / sizeof no_match[0]; i++)
        if (cf_function_names_match(&n, no_match[i], strlen(no_match[i])))
            fail_msg("%s matched", no_match[i]);
    // An unknown function matches nothing, not even "*".
    cf_function_names_of("", &n);
    assert_false(cf_function_names_match(&n, "*", 1));
    cf_function_names_of(NULL, &n);
    assert_false(cf_function_names_match(&n, "*", 1));
    assert_string_equal(n.given, "");
}

// Any bytes give a terminated name inside the buffer, without allocating.
static void test_hostile_input(void **state) {
    (void)state;
    static char text[4096];
    static const char alphabet[] = "_ZNLKE0123456789abc:<>()[]{} .&,operator";
    uint64_t seed = 7;
    cf_function_names n;
#if CF_TEST_COUNTS_ALLOCS
    cf_test_alloc_count_start();
#endif
    for (unsigned round = 0; round < 20000; round++) {
        size_t len = (size_t)(seed % 700);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            text[i] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        cf_function_names_of(text, &n);
        size_t q = strnlen(n.qualified, sizeof n.qualified);
        if (q == sizeof n.qualified || n.unqualified < n.qualified ||
            n.unqualified > n.qualified + q)
            fail_msg("bad names for \"%s\"", text);
        (void)cf_function_names_match(&n, "*a*", 3);
    }
#if CF_TEST_COUNTS_ALLOCS
    assert_int_equal(cf_test_alloc_count_stop(), 0);
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_names),    cmocka_unit_test(test_cxx_names),
        cmocka_unit_test(test_rust_names), cmocka_unit_test(test_mangled_names),
        cmocka_unit_test(test_matching),   cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
