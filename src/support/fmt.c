// SPDX-License-Identifier: MIT
// Bounded formatting for report and warning text. Everything here must be
// safe inside malloc and free: no allocation, no stdio, no locale.
#include "support/fmt.h"

void cf_buf_init(cf_buf *b, char *storage, size_t cap) {
    b->data = storage;
    b->cap = cap;
    b->len = 0;
    b->truncated = false;
    if (cap > 0)
        storage[0] = '\0';
}

void cf_buf_char(cf_buf *b, char c) {
    if (b->len + 1 >= b->cap) {
        b->truncated = true;
        return;
    }
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void cf_buf_strn(cf_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i] != '\0'; i++)
        cf_buf_char(b, s[i]);
}

void cf_buf_str(cf_buf *b, const char *s) {
    if (s == NULL)
        s = "(null)";
    while (*s != '\0')
        cf_buf_char(b, *s++);
}

void cf_buf_dec(cf_buf *b, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        cf_buf_char(b, tmp[--n]);
}

void cf_buf_sdec(cf_buf *b, int64_t v) {
    if (v < 0) {
        cf_buf_char(b, '-');
        cf_buf_dec(b, (uint64_t)0 - (uint64_t)v);
    } else {
        cf_buf_dec(b, (uint64_t)v);
    }
}

void cf_buf_hex(cf_buf *b, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v != 0);
    cf_buf_str(b, "0x");
    while (n > 0)
        cf_buf_char(b, tmp[--n]);
}

// Length of the valid UTF-8 sequence starting at s (2 to 4), or 0 when the
// bytes there are not one: a stray continuation byte, a truncated sequence,
// an overlong form, a UTF-16 surrogate or a code point above U+10FFFF.
// Strict decoders (Python's json, jq) reject all of those in raw form.
static size_t utf8_sequence(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; // overlong below U+0800
        else if (c == 0xed)
            hi = 0x9f; // surrogates U+D800..U+DFFF
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; // overlong below U+10000
        else if (c == 0xf4)
            hi = 0x8f; // above U+10FFFF
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) // avail is SIZE_MAX when unbounded
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0; // also stops at the terminating NUL
    return n;
}

void cf_buf_json_str(cf_buf *b, const char *s) { cf_buf_json_strn(b, s, SIZE_MAX); }

void cf_buf_json_strn(cf_buf *b, const char *s, size_t len) {
    static const char digits[] = "0123456789abcdef";
    if (s == NULL)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t left = len; // SIZE_MAX: up to the NUL
    while (left > 0 && *p != '\0') {
        unsigned char c = *p;
        size_t step = 1;
        if (c == '"' || c == '\\') {
            cf_buf_char(b, '\\');
            cf_buf_char(b, (char)c);
        } else if (c == '\n') {
            cf_buf_str(b, "\\n");
        } else if (c == '\t') {
            cf_buf_str(b, "\\t");
        } else if (c >= 0x80 && (step = utf8_sequence(p, left)) > 0) {
            cf_buf_strn(b, (const char *)p, step);
        } else if (c < 0x20 || c >= 0x80) {
            // Controls, and bytes that are not UTF-8 (a Latin-1 file name,
            // say): the byte becomes the code point of the same value, so
            // the line stays valid JSON and the byte is still recoverable.
            step = 1;
            cf_buf_str(b, "\\u00");
            cf_buf_char(b, digits[c >> 4]);
            cf_buf_char(b, digits[c & 15]);
        } else {
            cf_buf_char(b, (char)c);
        }
        p += step;
        if (left != SIZE_MAX)
            left -= step;
    }
}

size_t cf_strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int cf_strcmp(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

bool cf_streqn(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return false;
        if (a[i] == '\0')
            return true;
    }
    return true;
}

const char *cf_path_base(const char *path) {
    const char *b = path;
    for (const char *p = path; *p != '\0'; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}

void cf_strlcpy(char *dst, const char *src, size_t cap) {
    size_t i = 0;
    if (cap == 0)
        return;
    for (; i + 1 < cap && src != NULL && src[i] != '\0'; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

bool cf_parse_i64(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    if (n == 0)
        return false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1)
            return false;
    }
    // A negative number may reach 2^63 (INT64_MIN), a positive one 2^63-1.
    uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1 : 0);
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_C(1) << 62) / 5) // v*10 would pass 2^63
            return false;
        v = v * 10 + d;
        if (v > limit)
            return false;
    }
    // -(v-1)-1 rather than -v: 2^63 itself does not fit in an int64_t.
    *out = !neg ? (int64_t)v : v == 0 ? 0 : -(int64_t)(v - 1) - 1;
    return true;
}
