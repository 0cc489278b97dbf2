// SPDX-License-Identifier: MIT
// Unit tests for the Rust demangler (support/demangle_rust.h): real legacy
// and v0 symbols that rustc 1.95 emitted (nm of small cdylibs built with
// and without -C symbol-mangling-version=v0), hand-built v0 names for the
// rest of the grammar, each expectation checked once against rustfilt
// 0.2.2; then names that are not Rust, truncated, hostile or too long,
// which must come back "not demangled" (or cut) without a crash or an
// allocation.
#include "support/demangle_rust.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "alloc_counter.h"

typedef struct pair {
    const char *mangled, *plain;
} pair;

static const pair cases[] = {
    // From rsfree.rs (tests/ffi/rsfree.rs) and the issue's own names.
    {"_ZN56_$LT$rsfree..Buffer$u20$as$u20$core..ops..drop..Drop$GT$4drop17h45cdb8220e337a43E",
     "<rsfree::Buffer as core::ops::drop::Drop>::drop"},
    {"_ZN4core3ptr35drop_in_place$LT$rsfree..Buffer$GT$17h8f2af4904a70d21cE",
     "core::ptr::drop_in_place<rsfree::Buffer>"},
    {"_ZN6rsfree7consume28_$u7b$$u7b$closure$u7d$$u7d$17h6477d7fe35fe65edE",
     "rsfree::consume::{{closure}}"},
    {"_ZN6rshost21sum_and_release_wrong17ha4b98ea34165a340E", "rshost::sum_and_release_wrong"},
    {"_ZN4rich13gr$ufc$$udf$e17h3f69acc9a9c66af0E", "rich::grüße"},
    {"_RNvCskds89JCAj90_4richu9gre_6ka8l", "rich::grüße"},
    {"_RNvXsj_NtCsgEmfK2I1SDS_4core3fmtcNtB5_5Debug3fmt", "<char as core::fmt::Debug>::fmt"},
    {"_RNvYNtNtNtNtCsjrHSEGnQ3l9_3std3sys5stdio4unix6StderrNtNtBa_2io5Write9write_fmtBa_",
     "<std::sys::stdio::unix::Stderr as std::io::Write>::write_fmt"},
    {"_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeSINtNtNtNtCsjrHSEGnQ3l9_"
     "3std11collections4hash3map7HashMaphReEECskds89JCAj90_4rich",
     "core::ptr::drop_in_place::<[std::collections::hash::map::HashMap<u8, &str>]>"},
    {"_RNvXNvMNtNtCsjrHSEGnQ3l9_3std3sys9backtraceNtB5_13BacktraceLock5printNtB2_"
     "16DisplayBacktraceNtNtCsgEmfK2I1SDS_4core3fmt7Display3fmt",
     "<<std::sys::backtrace::BacktraceLock>::print::DisplayBacktrace as core::fmt::Display>::fmt"},
    {"_RNvXs8_CsgY6Mt91CT9J_14rustc_demangleNtB5_18SizeLimitExhaustedNtNtCsgEmfK2I1SDS_"
     "4core3fmt5Debug3fmt",
     "<rustc_demangle::SizeLimitExhausted as core::fmt::Debug>::fmt"},
    {"_RNvXs_NtNtNtNtCsjrHSEGnQ3l9_3std12backtrace_rs9symbolize5gimli19parse_running_mmapsNtB4_"
     "9MapsEntryNtNtNtCsgEmfK2I1SDS_4core3str6traits7FromStr8from_str",
     "<std::backtrace_rs::symbolize::gimli::parse_running_mmaps::MapsEntry as "
     "core::str::traits::FromStr>::from_str"},
    {"_RINvNtNtNtCsgEmfK2I1SDS_4core5slice4sort6stable14driftsort_mainNtNtCs4X4t9plMPHF_"
     "9addr2line8function22InlinedFunctionAddressNCINvMNtCslNYArtu3iFV_5alloc5sliceSBZ_7sort_"
     "byNCNvMs1_B11_INtB11_8FunctionINtNtNtCsduwmD7cSIQq_5gimli4read12endian_"
     "slice11EndianSliceNtNtB3h_9endianity12LittleEndianEE5parse0E0INtNtB26_3vec3VecBZ_"
     "EECsjrHSEGnQ3l9_3std",
     "core::slice::sort::stable::driftsort_main::<addr2line::function::InlinedFunctionAddress, "
     "<[addr2line::function::InlinedFunctionAddress]>::sort_by<<addr2line::function::Function<"
     "gimli::read::endian_slice::EndianSlice<gimli::endianity::LittleEndian>>>::parse::{closure#0}>"
     "::{closure#0}, alloc::vec::Vec<addr2line::function::InlinedFunctionAddress>>"},
    {"_RINvMs4_NtCsgY6Mt91CT9J_14rustc_demangle2v0NtB6_7Printer14print_sep_listNCNvB2_11print_"
     "consts3_0EB8_",
     "<rustc_demangle::v0::Printer>::print_sep_list::<<rustc_demangle::v0::Printer>::print_const::{"
     "closure#5}>"},
    {"_RNvXs8_NtNtNtCsgEmfK2I1SDS_4core3fmt3num3impmNtB9_7Display3fmt",
     "<u32 as core::fmt::Display>::fmt"},
    {"_RNvXsh_NtCsgEmfK2I1SDS_4core3fmteNtB5_5Debug3fmt", "<str as core::fmt::Debug>::fmt"},
    {"_RNvYINtNtNtCsduwmD7cSIQq_5gimli4read12endian_slice11EndianSliceNtNtB9_"
     "9endianity12LittleEndianENtNtB7_6reader6Reader11read_offsetCsjrHSEGnQ3l9_3std",
     "<gimli::read::endian_slice::EndianSlice<gimli::endianity::LittleEndian> as "
     "gimli::read::reader::Reader>::read_offset"},
    {"_RNvXs1g_NtCsgEmfK2I1SDS_4core3fmtRNtNtNtB8_3num5error12IntErrorKindNtB6_"
     "5Debug3fmtCsgY6Mt91CT9J_14rustc_demangle",
     "<&core::num::error::IntErrorKind as core::fmt::Debug>::fmt"},
    {"_RINvCskds89JCAj90_4rich2szKb0_Kc27_Kl0_EB2_", "rich::sz::<false, '\\'', 0>"},
    {"_RNvXs8_NtCsgEmfK2I1SDS_4core3fmtNtB5_9ArgumentsNtB5_7Display3fmt",
     "<core::fmt::Arguments as core::fmt::Display>::fmt"},
    {"_RNvXss_NtCsgEmfK2I1SDS_4core3fmtuNtB5_5Debug3fmt", "<() as core::fmt::Debug>::fmt"},
    {"_RNvXs1Y_NtCsjrHSEGnQ3l9_3std4pathNtB6_9ComponentNtNtCsgEmfK2I1SDS_4core3cmp9PartialEq2eq",
     "<std::path::Component as core::cmp::PartialEq>::eq"},
    {"_RNvYNtNtNtNtCsjrHSEGnQ3l9_3std3sys5stdio4unix6StderrNtNtBa_2io5Write9write_allBa_",
     "<std::sys::stdio::unix::Stderr as std::io::Write>::write_all"},
    {"_RNvXs4_NtNtCsgEmfK2I1SDS_4core4iter5rangeINtNtNtB9_3ops5range5RangemENtNtNtB7_"
     "6traits8iterator8Iterator9size_hintCskds89JCAj90_4rich",
     "<core::ops::range::Range<u32> as core::iter::traits::iterator::Iterator>::size_hint"},
    {"_RNCNvNtCsjrHSEGnQ3l9_3std9panicking12default_hook0B5_",
     "std::panicking::default_hook::{closure#0}"},
    {"_RNvXsa_NtNtCsduwmD7cSIQq_5gimli4read6abbrevNtB5_10AttributesNtNtNtCsgEmfK2I1SDS_"
     "4core3ops5deref5Deref5deref",
     "<gimli::read::abbrev::Attributes as core::ops::deref::Deref>::deref"},
    {"_ZN4rich13gr$ufc$$udf$e17h3f69acc9a9c66af0E", "rich::grüße"},
    {"_ZN77_$LT$alloc..raw_vec..RawVec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop..Drop$GT$"
     "4drop17he6bf16b8433106ddE",
     "<alloc::raw_vec::RawVec<T,A> as core::ops::drop::Drop>::drop"},
    {"_ZN4core4iter6traits8iterator8Iterator5count28_$u7b$$u7b$closure$u7d$$u7d$"
     "17he96c026b3218a2e0E",
     "core::iter::traits::iterator::Iterator::count::{{closure}}"},
    {"_ZN102_$LT$core..iter..adapters..map..Map$LT$I$C$F$GT$$u20$as$u20$core..iter..traits.."
     "iterator..Iterator$GT$9size_hint17h1292050c44806f11E",
     "<core::iter::adapters::map::Map<I,F> as core::iter::traits::iterator::Iterator>::size_hint"},
    {"_ZN4rich2cb17h75bd52b1eecd06ebE", "rich::cb"},
    {"_ZN4rich6tuples17ha1976e203ebcc023E", "rich::tuples"},
    {"_ZN4rich5apply17hcc7d878f9ac189c4E", "rich::apply"},
    {"_ZN4rich2sz17hc39fafef42d58e3cE", "rich::sz"},
    {"_ZN4rich5boxed28_$u7b$$u7b$closure$u7d$$u7d$17h70750bc2ca170299E",
     "rich::boxed::{{closure}}"},
    {"_ZN4core3ops8function6FnOnce40call_once$u7b$$u7b$vtable.shim$u7d$$u7d$17hff8f04afaa918c8fE",
     "core::ops::function::FnOnce::call_once{{vtable.shim}}"},
    {"_ZN4rich15Circle$LT$T$GT$4show17h20d35cf9c0803871E", "rich::Circle<T>::show"},
    {"_ZN4core5slice29_$LT$impl$u20$$u5b$T$u5d$$GT$4iter17h80e91f391fdd9804E",
     "core::slice::<impl [T]>::iter"},
    {"_ZN47_$LT$u32$u20$as$u20$core..iter..range..Step$GT$17forward_unchecked17h47accaf966526eadE",
     "<u32 as core::iter::range::Step>::forward_unchecked"},
    {"_ZN4rich5inner6deeper1f17h7f8415c68c14d934E", "rich::inner::deeper::f"},
    {"_ZN4core4iter8adapters3map12map_try_fold28_$u7b$$u7b$closure$u7d$$u7d$17h0758fdfff2ba23e9E",
     "core::iter::adapters::map::map_try_fold::{{closure}}"},
    {"_ZN55_$LT$rich..Circle$LT$f64$GT$$u20$as$u20$rich..Shape$GT$4area17h4994855b917b889eE",
     "<rich::Circle<f64> as rich::Shape>::area"},
    {"_ZN97_$LT$core..ops..range..RangeFull$u20$as$u20$core..slice..index..SliceIndex$LT$$u5b$T$"
     "u5d$$GT$$GT$9index_mut17h562efc652adedb3eE",
     "<core::ops::range::RangeFull as core::slice::index::SliceIndex<[T]>>::index_mut"},
    {"_ZN87_$LT$T$u20$as$u20$alloc..slice..$LT$impl$u20$$u5b$T$u5d$$GT$..to_vec_in..ConvertVec$GT$"
     "6to_vec17hac7b884b9e4f3416E",
     "<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec"},
    {"_ZN77_$LT$alloc..raw_vec..RawVec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop..Drop$GT$"
     "4drop17hf2eee3ac347af9d4E",
     "<alloc::raw_vec::RawVec<T,A> as core::ops::drop::Drop>::drop"},
    {"_ZN4rich6driver2id17h71a8a111b0c14218E", "rich::driver::id"},
    {"_RINvC1a1fFUKCjEuE", "a::f::<unsafe extern \"C\" fn(usize)>"},
    {"_RINvC1a1fFK9rust_callEuE", "a::f::<extern \"rust-call\" fn()>"},
    {"_RINvC1a1fPbOoE", "a::f::<*const bool, *mut u128>"},
    {"_RINvC1a1fTaTtEEE", "a::f::<(i8, (u16,))>"},
    {"_RINvC1a1fKRe68692e_E", "a::f::<\"hi.\">"},
    {"_RINvC1a1fKe6869_E", "a::f::<{*\"hi\"}>"},
    {"_RINvC1a1fKAj1_j2_EE", "a::f::<{[1, 2]}>"},
    {"_RINvC1a1fKTh1_EE", "a::f::<{(1,)}>"},
    {"_RINvC1a1fL_E", "a::f::<'_>"},
    {"_RINvC1a1fzE", "a::f::<!>"},
    {"_RNvYhNtC1a5Trait4func", "<u8 as a::Trait>::func"},
    {"_RNvMC1aNtB2_3Foo3new", "<a::Foo>::new"},
    {"_RNvCs1234_7mycrate3foo.llvm.89ABCDEF", "mycrate::foo"},
    {"_RNvC7mycrate3foo.cold", "mycrate::foo.cold"},
    {"_RNvNCNvC1a1f0s_1g", "a::f::{closure#0}::g"},
    {"_RNCNvC1a1fs0_4name", "a::f::{closure:name#2}"},
    {"_RNXNvC1a1f0", "a::f::{X#0}"},
    {"_RINvC1a1fKpE", "a::f::<_>"},
    {"_RINvC1a1fKj123456789abcdef0123_E", "a::f::<0x123456789abcdef0123>"},
    {"_RINvC1a1fQL_hE", "a::f::<&mut u8>"},
    {"_RINvC1a1fRL_hE", "a::f::<&u8>"},
    {"_RINvC1a1fSvE", "a::f::<[...]>"},
    {"_RNvC1a7u8_3f6_", "a::u8_3f6_"},
    {"_RNvC1au7gr_sa6a", "a::gr"},
    {"_RNvNtC1a1b1cCs1234_1z", "a::b::c"},
    {"_ZN3foo3bar17h0123456789abcdefE", "foo::bar"},
    {"_ZN3foo3bar17h0123456789abcdefE.cold.1", "foo::bar.cold.1"},
    {"_ZN3foo3bar17h0123456789abcdefE.llvm.12AB", "foo::bar"},
    {"_ZN3foo6a.b..c17h0123456789abcdefE", "foo::a.b::c"},
    {"_ZN3foo6$qq$ab17h0123456789abcdefE", "foo::$qq$ab"},
    {"_ZN3foo4$u1$17h0123456789abcdefE", "foo::$u1$"},
    {"_ZN3foo7$u3b1$a17h0123456789abcdefE", "foo::αa"},
    {"_RINvC1a1fAhj4_E", "a::f::<[u8; 4]>"},
    {"_RNvMs0_C1aNtB5_3Foo3new", "<a::Foo>::new"},
    {"_RINvC1a1fKVNtB2_1SS1xh1_1yh2_EE", "a::f::<{a::S { x: 1, y: 2 }}>"},
    {"_RINvC1a1fKVNtB2_1ETb1_EE", "a::f::<{a::E(true)}>"},
    {"_RINvC1a1fDG_NtC1b1TEL_E", "a::f::<dyn for<'a> b::T>"},
    {"_ZN3foo11$u7b$x$u7d$17h0123456789abcdefE", "foo::{x}"},
    {"_ZN3foo6$u22$x17h0123456789abcdefE", "foo::\"x"},
    {"_ZN3foo8$SP$$BP$17h0123456789abcdefE", "foo::@*"},
    {"_ZN3foo8$LP$$RP$17h0123456789abcdefE", "foo::()"},
    {"_ZN3foo9$RF$a$C$b17h0123456789abcdefE", "foo::&a,b"},
    {"_RINvC1a1fFG_RL0_hERL0_hE", "a::f::<for<'a> fn(&'a u8) -> &'a u8>"},
    {"_RINvC1a1fDG_INtC1b1TRL0_hEp1Xhp1YtEL_E",
     "a::f::<dyn for<'a> b::T<&'a u8, X = u8, Y = u16>>"},
    {"_RINvC1a1fKc77_Kc27_Kc22_Kca_Kc0_Kc3b1_E", "a::f::<'w', '\\'', '\"', '\\n', '\\0', 'α'>"},
    {"_RINvC1a1fKRe615c22270a_E", "a::f::<\"a\\\\\\\"'\\n\">"},
    {"_ZN3foo10_$LT$T$GT$17h0123456789abcdefE", "foo::<T>"},
    {"_RINvC1a1fKan80_Kxn0_Kb0_Kt_E", "a::f::<-128, -0, false, 0>"},
};

static void test_real_and_hand_built(void **state) {
    (void)state;
    char out[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'x', sizeof out);
        if (!cf_demangle_rust(cases[i].mangled, out, sizeof out))
            fail_msg("not demangled: %s", cases[i].mangled);
        if (strcmp(out, cases[i].plain) != 0)
            fail_msg("%s\n  got  %s\n  want %s", cases[i].mangled, out, cases[i].plain);
    }
}

// Not Rust, or not well formed: false and an empty output.
static void expect_no(const char *sym) {
    char out[256];
    memset(out, 'x', sizeof out);
    if (cf_demangle_rust(sym, out, sizeof out))
        fail_msg("demangled \"%s\" as \"%s\"", sym, out);
    assert_int_equal(out[0], '\0');
}

static void test_not_rust(void **state) {
    (void)state;
    expect_no("");
    expect_no("main");
    expect_no("free");
    expect_no("_R");
    expect_no("_ZN");
    expect_no("R");
    expect_no("RC3abc");
    // C++ names: no hash element, or parameters after the 'E'.
    expect_no("_ZN2ns4Pool5allocEm");
    expect_no("_ZN2ns3varE");
    expect_no("_ZN3foo17h0123456789abcdefEv");
    expect_no("_Z4makei");
    expect_no("_ZNK3foo3barEv");
    // A hash alone, a hash of the wrong length, a hash that is not hex.
    expect_no("_ZN17h0123456789abcdefE");
    expect_no("_ZN3foo16h0123456789abcdeE");
    expect_no("_ZN3foo17h0123456789abcdegE");
    // Non-ASCII bytes are never part of a mangled name.
    expect_no("_RNvC1a2\xc3\xa9");
    // v0 must start with an uppercase tag; a version number is not taken.
    expect_no("_Rc");
    expect_no("_R0NvC1a1f");
    // A suffix must start with '.' and be printable.
    expect_no("_RNvC1a1fX");
    expect_no("_RNvC1a1f.a b");
    expect_no("_ZN3foo3bar17h0123456789abcdefEx");
}

static void test_malformed(void **state) {
    (void)state;
    // Backrefs: forwards, to themselves, past the end, huge.
    expect_no("_RNvB_1a");
    expect_no("_RNvB0_1a");
    expect_no("_RINvC1a1fB9_E");
    expect_no("_RINvC1a1fBzzzzzzzzzzzzzzzzzzzzzzzzzz_E");
    expect_no("_RNvMs0_C1aNtB4_3Foo3new"); // lands on "s0_", not a path
    // Lengths past the end, or too large for size_t.
    expect_no("_RNvC1a9f");
    expect_no("_RNvC99999999999999999999999999a1f");
    expect_no("_ZN3foo999999999999999999999999bar17h0123456789abcdefE");
    expect_no("_ZN3foo200bar17h0123456789abcdefE");
    // Unterminated lists and numbers, unknown tags, bad namespaces.
    expect_no("_RINvC1a1fhh");
    expect_no("_RINvC1a1fKj123");
    expect_no("_RINvC1a1fKj12G_E");
    expect_no("_RINvC1a1fKbFF_E");
    expect_no("_RINvC1a1fKcd800_E");
    expect_no("_RINvC1a1fKe6_E");
    expect_no("_RINvC1a1fKeff_E");
    expect_no("_RN_C1a1f");
    expect_no("_RW");
    expect_no("_RINvC1a1fDNtC1b1TEL1_E"); // a lifetime no binder bound
    expect_no("_RNvC1au0_");              // punycode with no deltas
    expect_no("_RINvC1a1fGzzzzzzzzzzzzzzzz_FEuE");
}

// Every prefix of every good name: a parse that reads past the end is a
// failure of ASan's, not of this test.
static void test_every_truncation(void **state) {
    (void)state;
    char sym[1024], out[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].mangled);
        for (size_t cut = 0; cut < len; cut++) {
            memcpy(sym, cases[i].mangled, cut);
            sym[cut] = '\0';
            bool ok = cf_demangle_rust(sym, out, sizeof out);
            assert_true(strlen(out) < sizeof out);
            if (!ok)
                assert_int_equal(out[0], '\0');
        }
    }
}

static void test_small_buffers(void **state) {
    (void)state;
    const char *sym =
        "_ZN56_$LT$rsfree..Buffer$u20$as$u20$core..ops..drop..Drop$GT$4drop17h45cdb8220e337a43E";
    char out[16];
    assert_true(cf_demangle_rust(sym, out, sizeof out));
    assert_string_equal(out, "<rsfree::Buf...");
    assert_true(cf_demangle_rust("_RNvC1a1f", out, 5));
    assert_string_equal(out, "a::f");
    assert_true(cf_demangle_rust("_RNvC1a2fg", out, 5));
    assert_string_equal(out, "a...");
    assert_true(cf_demangle_rust("_RNvC1a1f", out, 1));
    assert_string_equal(out, "");
    assert_false(cf_demangle_rust("_RNvC1a1f", out, 0));
    assert_false(cf_demangle_rust(NULL, out, sizeof out));
    assert_false(cf_demangle_rust("_RNvC1a1f", NULL, 16));
}

// Names built to blow up: backrefs that double the output at each level,
// and nesting past any real name. Each must end quickly (cut or refused).
static void test_hostile(void **state) {
    (void)state;
    char sym[4096], out[512];
    // T(B, B) where each B points at the previous tuple: 2^n output.
    size_t len = (size_t)snprintf(sym, sizeof sym, "_RINvC1a1fTuuE");
    size_t prev = 8; // the first tuple's 'T' in the name after "_R"
    for (int level = 0; level < 25; level++) {
        size_t here = len - 2;
        char b62[16];
        // base-62 of prev - 1, then '_'
        size_t v = prev - 1, n = 0;
        char rev[16];
        do {
            unsigned d = (unsigned)(v % 62);
            rev[n++] = (char)(d < 10 ? '0' + d : d < 36 ? 'a' + d - 10 : 'A' + d - 36);
            v /= 62;
        } while (v != 0);
        for (size_t k = 0; k < n; k++)
            b62[k] = rev[n - 1 - k];
        b62[n] = '\0';
        len += (size_t)snprintf(sym + len, sizeof sym - len, "TB%s_B%s_E", b62, b62);
        prev = here;
    }
    snprintf(sym + len, sizeof sym - len, "E");
    assert_true(cf_demangle_rust(sym, out, sizeof out));
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_string_equal(out + sizeof out - 4, "...");

    // Nesting deeper than MAX_DEPTH: refused.
    len = (size_t)snprintf(sym, sizeof sym, "_RINvC1a1f");
    for (int k = 0; k < 400; k++)
        sym[len++] = 'S';
    sym[len++] = 'u';
    sym[len++] = 'E';
    sym[len] = '\0';
    expect_no(sym);

    // Random bytes from the mangling alphabet after each prefix.
    static const char alphabet[] =
        "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$.";
    static const char *const prefixes[] = {"_R", "_RIN", "_RNv", "_ZN", "_ZN3foo"};
    uint64_t seed = 14;
#if CF_TEST_COUNTS_ALLOCS
    cf_test_alloc_count_start();
#endif
    for (unsigned round = 0; round < 50000; round++) {
        const char *p = prefixes[round % 5];
        size_t n = strlen(p);
        memcpy(sym, p, n);
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t extra = (size_t)(seed >> 40) % 200;
        for (size_t i = 0; i < extra; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            sym[n++] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        sym[n] = '\0';
        bool ok = cf_demangle_rust(sym, out, sizeof out);
        assert_true(strlen(out) < sizeof out);
        if (!ok)
            assert_int_equal(out[0], '\0');
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        (void)cf_demangle_rust(cases[i].mangled, out, sizeof out);
#if CF_TEST_COUNTS_ALLOCS
    assert_int_equal(cf_test_alloc_count_stop(), 0);
#endif
}

// Names a C++ demangler made of legacy Rust names, as older logs hold them.
static void test_tidy(void **state) {
    (void)state;
    static const pair tidy[] = {
        {"rshost::sum_and_release_wrong::ha4b98ea34165a340", "rshost::sum_and_release_wrong"},
        {"_$LT$rsfree..Buffer$u20$as$u20$core..ops..drop..Drop$GT$::drop::h45cdb8220e337a43",
         "<rsfree::Buffer as core::ops::drop::Drop>::drop"},
        {"rsfree::consume::_$u7b$$u7b$closure$u7d$$u7d$::h6477d7fe35fe65ed",
         "rsfree::consume::{{closure}}"},
        {"core::ptr::drop_in_place$LT$rsfree..Buffer$GT$::h8f2af4904a70d21c",
         "core::ptr::drop_in_place<rsfree::Buffer>"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof tidy / sizeof tidy[0]; i++) {
        assert_true(cf_demangle_rust_tidy(tidy[i].mangled, out, sizeof out));
        assert_string_equal(out, tidy[i].plain);
    }
    static const char *const not_rust[] = {
        "",
        "main",
        "ns::f(int)",
        "rsfree::consume",
        "::h0123456789abcdef",
        "a::h0123456789abcde",
        "a::h0123456789abcdeg",
        "void ns::f<int>(int)::h0123456789abcdef",
    };
    for (size_t i = 0; i < sizeof not_rust / sizeof not_rust[0]; i++) {
        assert_false(cf_demangle_rust_tidy(not_rust[i], out, sizeof out));
        assert_string_equal(out, "");
    }
    assert_true(cf_demangle_rust_tidy("rshost::sum_and_release_wrong::ha4b98ea34165a340", out, 8));
    assert_string_equal(out, "rsho...");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_and_hand_built),
        cmocka_unit_test(test_not_rust),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_small_buffers),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_tidy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
