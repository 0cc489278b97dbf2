// SPDX-License-Identifier: MIT
// Bounded formatting for report and warning text. Everything here must be
// safe inside malloc and free: no allocation, no stdio, no locale.
#include "support/fmt.h"

#include <limits.h>

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

// ---------------------------------------------------------------------------
// cf_buf_printf
//
// A directive is parsed whole before any argument is read, so a directive
// outside the subset stops the formatting before it can take an argument
// of a type it does not know (the compiler checked the call against real
// printf, which knows more conversions than this does).

enum { LEN_NONE, LEN_L, LEN_LL, LEN_Z };

typedef struct directive {
    bool left; // '-'
    bool zero; // '0'
    bool star_width;
    bool star_prec;
    unsigned width; // 0: none
    int precision;  // -1: none
    int length;     // LEN_*
    char conv;
} directive;

// Widths and precisions past this are clamped: nothing that long fits in a
// report buffer, and the clamp keeps the arithmetic far from overflow.
#define FIELD_MAX 65536u

static unsigned read_count(const char **p) {
    unsigned v = 0;
    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (unsigned)(**p - '0');
        if (v > FIELD_MAX)
            v = FIELD_MAX;
        (*p)++;
    }
    return v;
}

// Parses the directive after '%' at *p; false when it is outside the
// subset (*p then points past what was read of it).
static bool parse_directive(const char **p, directive *d) {
    const char *s = *p;
    d->left = d->zero = d->star_width = d->star_prec = false;
    d->width = 0;
    d->precision = -1;
    d->length = LEN_NONE;
    for (;; s++) {
        if (*s == '-')
            d->left = true;
        else if (*s == '0')
            d->zero = true;
        else
            break;
    }
    if (*s == '*') {
        d->star_width = true;
        s++;
    } else {
        d->width = read_count(&s);
    }
    if (*s == '.') {
        s++;
        if (*s == '*') {
            d->star_prec = true;
            s++;
        } else {
            d->precision = (int)read_count(&s);
        }
    }
    if (*s == 'l') {
        s++;
        d->length = LEN_L;
        if (*s == 'l') {
            s++;
            d->length = LEN_LL;
        }
    } else if (*s == 'z') {
        s++;
        d->length = LEN_Z;
    }
    d->conv = *s;
    if (*s != '\0')
        s++;
    *p = s;
    bool has_prec = d->star_prec || d->precision >= 0;
    switch (d->conv) {
    case 'd':
    case 'i':
    case 'u':
    case 'x':
        return !has_prec;
    case 's':
        return d->length == LEN_NONE;
    case 'c':
    case 'p':
        return d->length == LEN_NONE && !has_prec;
    default:
        return false;
    }
}

static void pad(cf_buf *b, char c, size_t n) {
    for (; n > 0 && !b->truncated; n--)
        cf_buf_char(b, c);
}

// Writes `prefix` (a sign or "0x") and `len` bytes of `body` in a field of
// the directive's width.
static void put_field(cf_buf *b, const directive *d, const char *prefix, const char *body,
                      size_t len) {
    size_t plen = cf_strlen(prefix);
    size_t fill = d->width > plen + len ? d->width - plen - len : 0;
    bool zeros = d->zero && !d->left && d->conv != 's' && d->conv != 'c';
    if (!d->left && !zeros)
        pad(b, ' ', fill);
    cf_buf_str(b, prefix);
    if (zeros)
        pad(b, '0', fill);
    for (size_t i = 0; i < len; i++)
        cf_buf_char(b, body[i]); // exactly len bytes: %c may be a NUL
    if (d->left)
        pad(b, ' ', fill);
}

static void put_number(cf_buf *b, const directive *d, uint64_t magnitude, bool negative, bool hex,
                       const char *prefix) {
    static const char digits[] = "0123456789abcdef";
    char tmp[24];
    size_t n = sizeof tmp;
    unsigned base = hex ? 16 : 10;
    do {
        tmp[--n] = digits[magnitude % base];
        magnitude /= base;
    } while (magnitude != 0);
    put_field(b, d, negative ? "-" : prefix, tmp + n, sizeof tmp - n);
}

static void put_signed(cf_buf *b, const directive *d, va_list *ap) {
    int64_t v;
    switch (d->length) {
    case LEN_L:
        v = va_arg(*ap, long);
        break;
    case LEN_LL:
        v = va_arg(*ap, long long);
        break;
    case LEN_Z:
        v = va_arg(*ap, ptrdiff_t); // the signed type of size_t's width
        break;
    default:
        v = va_arg(*ap, int);
        break;
    }
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    put_number(b, d, m, v < 0, false, "");
}

static void put_unsigned(cf_buf *b, const directive *d, va_list *ap) {
    uint64_t v;
    switch (d->length) {
    case LEN_L:
        v = va_arg(*ap, unsigned long);
        break;
    case LEN_LL:
        v = va_arg(*ap, unsigned long long);
        break;
    case LEN_Z:
        v = va_arg(*ap, size_t);
        break;
    default:
        v = va_arg(*ap, unsigned);
        break;
    }
    put_number(b, d, v, false, d->conv == 'x', "");
}

static void put_string(cf_buf *b, const directive *d, const char *s) {
    if (s == NULL)
        s = "(null)";
    size_t n = 0;
    while ((d->precision < 0 || n < (size_t)d->precision) && s[n] != '\0')
        n++;
    put_field(b, d, "", s, n);
}

// The directive as written, marked, then the rest of the format as it is.
static void put_unknown(cf_buf *b, const char *directive_start, const char *rest) {
    cf_buf_str(b, "%!");
    cf_buf_strn(b, directive_start + 1, (size_t)(rest - directive_start - 1));
    cf_buf_str(b, rest);
}

// ap is passed by address: a va_list handed to another function may not be
// used again by the caller, and on some ABIs it is an array.
static void format(cf_buf *b, const char *fmt, va_list *ap) {
    const char *p = fmt;
    while (*p != '\0') {
        if (*p != '%') {
            const char *run = p;
            while (*p != '\0' && *p != '%')
                p++;
            cf_buf_strn(b, run, (size_t)(p - run));
            continue;
        }
        const char *start = p++;
        if (*p == '%') {
            cf_buf_char(b, '%');
            p++;
            continue;
        }
        directive d;
        if (!parse_directive(&p, &d)) {
            put_unknown(b, start, p);
            return;
        }
        if (d.star_width) {
            int w = va_arg(*ap, int);
            if (w < 0) {
                d.left = true;
                w = w == INT_MIN ? (int)FIELD_MAX : -w;
            }
            d.width = (unsigned)w > FIELD_MAX ? FIELD_MAX : (unsigned)w;
        }
        if (d.star_prec) {
            int pr = va_arg(*ap, int);
            d.precision = pr < 0 ? -1 : pr; // negative: as if none was given
        }
        switch (d.conv) {
        case 'd':
        case 'i':
            put_signed(b, &d, ap);
            break;
        case 'u':
        case 'x':
            put_unsigned(b, &d, ap);
            break;
        case 'c': {
            char c = (char)va_arg(*ap, int);
            put_field(b, &d, "", &c, 1);
            break;
        }
        case 's':
            put_string(b, &d, va_arg(*ap, const char *));
            break;
        default: // 'p'
            put_number(b, &d, (uintptr_t)va_arg(*ap, void *), false, true, "0x");
            break;
        }
    }
}

void cf_buf_vprintf(cf_buf *b, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    format(b, fmt, &copy);
    va_end(copy);
}

void cf_buf_printf(cf_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    format(b, fmt, &ap);
    va_end(ap);
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
