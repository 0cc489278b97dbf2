// SPDX-License-Identifier: MIT
// Option parsing from the single list in options.inc. Runs at start-up,
// possibly before libc is ready for us, so it never allocates and treats
// every byte of the input as hostile: no value can overflow a field.
#include "runtime/options.h"

#include "core/hosts.h"
#include "runtime/winsem.h"
#include "support/log.h"

cf_options cf_flags;

void cf_options_set_defaults(cf_options *o) {
#define CF_OPTION_BOOL(name, def, doc) o->name = (def) != 0;
#define CF_OPTION_INT(name, def, lo, hi, doc) o->name = (def);
#define CF_OPTION_STR(name, def, doc) cf_strlcpy(o->name, def, sizeof o->name);
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

static bool is_separator(char c) {
    return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Values are quoted up to this many bytes: enough to recognise them, and a
// hostile environment variable cannot fill the warning buffer.
#define SHOWN_MAX 64

static int shown(size_t len) { return len > SHOWN_MAX ? SHOWN_MAX : (int)len; }

static void warn_value(cf_buf *w, const char *key, size_t key_len, const char *val, size_t val_len,
                       const char *expected) {
    cf_log_append(w, CF_LOG_WARNING,
                  "option '%.*s' has a malformed value '%.*s' (expected %s); keeping the default",
                  (int)key_len, key, shown(val_len), val, expected);
}

void cf_options_warn_malformed(cf_buf *w, const char *key, const char *value,
                               const char *expected) {
    warn_value(w, key, cf_strlen(key), value, cf_strlen(value), expected);
}

static bool parse_bool(const char *v, size_t n, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (cf_strlen(yes[i]) == n && cf_streqn(v, yes[i], n)) {
            *out = true;
            return true;
        }
        if (cf_strlen(no[i]) == n && cf_streqn(v, no[i], n)) {
            *out = false;
            return true;
        }
    }
    return false;
}

static void append_valid_keys(cf_buf *w) {
    const char *sep = "";
#define CF_OPTION_BOOL(name, def, doc) cf_buf_printf(w, "%s%s", sep, #name), sep = ", ";
#define CF_OPTION_INT(name, def, lo, hi, doc) CF_OPTION_BOOL(name, def, doc)
#define CF_OPTION_STR(name, def, doc) CF_OPTION_BOOL(name, def, doc)
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

// Applies one key=value pair; returns false (after warning) on a problem.
static bool apply(cf_options *o, const char *key, size_t klen, const char *val, size_t vlen,
                  bool has_value, cf_buf *w) {
#define KEY_IS(name) (klen == sizeof(#name) - 1 && cf_streqn(key, #name, klen))
#define CF_OPTION_BOOL(name, def, doc)                                                             \
    if (KEY_IS(name)) {                                                                            \
        bool b;                                                                                    \
        if (!has_value || !parse_bool(val, vlen, &b)) {                                            \
            warn_value(w, key, klen, val, vlen, "0 or 1");                                         \
            return false;                                                                          \
        }                                                                                          \
        o->name = b;                                                                               \
        return true;                                                                               \
    }
#define CF_OPTION_INT(name, def, lo, hi, doc)                                                      \
    if (KEY_IS(name)) {                                                                            \
        int64_t v;                                                                                 \
        if (!has_value || !cf_parse_i64(val, vlen, &v) || v < (lo) || v > (hi)) {                  \
            warn_value(w, key, klen, val, vlen, "an integer from " #lo " to " #hi);                \
            return false;                                                                          \
        }                                                                                          \
        o->name = v;                                                                               \
        return true;                                                                               \
    }
#define CF_OPTION_STR(name, def, doc)                                                              \
    if (KEY_IS(name)) {                                                                            \
        if (!has_value || vlen == 0 || vlen >= sizeof o->name) {                                   \
            warn_value(w, key, klen, val, vlen, "a non-empty string shorter than 1024 bytes");     \
            return false;                                                                          \
        }                                                                                          \
        cf_strlcpy(o->name, val, vlen + 1);                                                        \
        return true;                                                                               \
    }
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
#undef KEY_IS
    (void)val;
    (void)vlen;
    (void)has_value;
    char valid[1024];
    cf_buf vb;
    cf_buf_init(&vb, valid, sizeof valid);
    append_valid_keys(&vb);
    cf_log_append(w, CF_LOG_WARNING, "unknown option '%.*s' ignored; valid options: %s",
                  shown(klen), key, valid);
    return false;
}

int cf_options_parse(cf_options *o, const char *text, cf_buf *w) {
    int problems = 0;
    const char *p = text;
    if (p == NULL)
        return 0;
    for (;;) {
        while (*p != '\0' && is_separator(*p))
            p++;
        if (*p == '\0')
            break;
        const char *key = p;
        while (*p != '\0' && *p != '=' && !is_separator(*p))
            p++;
        size_t klen = (size_t)(p - key);
        bool has_value = *p == '=';
        const char *val = p;
        size_t vlen = 0;
        if (has_value) {
            val = ++p;
            // A Windows drive letter ("C:\logs\cf", "C:/logs") keeps its
            // colon: one letter, ':', then a slash is never a separator.
            if (((*p | 32) >= 'a' && (*p | 32) <= 'z') && p[1] == ':' &&
                (p[2] == '\\' || p[2] == '/'))
                p += 2;
            while (*p != '\0' && !is_separator(*p))
                p++;
            vlen = (size_t)(p - val);
        }
        if (klen == 0) {
            cf_log_append(w, CF_LOG_WARNING, "option without a name ('=%.*s') ignored", shown(vlen),
                          val);
            problems++;
            continue;
        }
        if (!apply(o, key, klen, val, vlen, has_value, w))
            problems++;
    }
    return problems;
}

void cf_options_help(cf_buf *out) {
    cf_buf_printf(out, "crossfree options (CROSSFREE_OPTIONS=key=value:key=value):\n");
#define CF_OPTION_BOOL(name, def, doc) cf_buf_printf(out, "  %s=%d  %s\n", #name, (def) != 0, doc);
#define CF_OPTION_INT(name, def, lo, hi, doc)                                                      \
    cf_buf_printf(out, "  %s=%lld  %s\n", #name, (long long)(def), doc);
#define CF_OPTION_STR(name, def, doc) cf_buf_printf(out, "  %s=%s  %s\n", #name, def, doc);
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
}

bool cf_options_configure(cf_options *o, cf_buf *w) {
    if (cf_strcmp(o->report_format, "text") != 0 && cf_strcmp(o->report_format, "json") != 0) {
        cf_options_warn_malformed(w, "report_format", o->report_format, "text or json");
        cf_strlcpy(o->report_format, "text", sizeof o->report_format);
    }
    if (o->host_modules[0] != '\0')
        cf_hosts_configure(o->host_modules, w);
    return cf_winsem_configure(o->semantics, o->host, o->host_allocators, o->static_crt_modules,
                               o->host_modules, w);
}
