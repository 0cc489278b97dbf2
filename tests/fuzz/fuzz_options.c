// SPDX-License-Identifier: MIT
// Fuzzes CROSSFREE_OPTIONS as the library reads it at start-up: the
// key=value parser, then the checks of report_format, host_modules,
// semantics, host and host_allocators (cf_options_configure), then the
// globs given in host_modules and host_allocators matched against module
// and function names as reports match them.
#include "fuzz.h"

#include "core/hosts.h"
#include "runtime/options.h"
#include "support/glob.h"

static cf_options opts;
static char warnings[1 << 16];

static const char *const modules[] = {
    "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
    "/opt/app/libplugin.so",
    "libffi.so.8",
    "",
    "/",
    "a/b/c/",
};

static const char *const functions[] = {
    "operator new[](unsigned long)",
    "calloc",
    "dart::bin::Allocate",
    "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstring(data, size);
    cf_buf w;
    cf_buf_init(&w, warnings, sizeof warnings);
    cf_hosts_forget_given();
    cf_options_set_defaults(&opts);
    cf_options_parse(&opts, text, &w);
    cf_options_configure(&opts, &w);
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        (void)cf_host_module_of(modules[i]);
        (void)cf_runtime_module(modules[i]);
    }
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        (void)cf_glob_match_list(opts.host_allocators, functions[i]);
        (void)cf_glob_match_list(opts.static_crt_modules, functions[i]);
    }
    // Every problem became a whole warning line, even when the buffer filled.
    if (!w.truncated && w.len > 0 && warnings[w.len - 1] != '\n')
        abort();
    free(text);
    return 0;
}
