// SPDX-License-Identifier: MIT
// Rust demangling for reports (see demangle_rust.h). The v0 grammar is the
// one of Rust RFC 2603 as rustc emits it today; the output follows
// rustfilt's default (alternate) form. Every parse step is checked against
// the end of the input, recursion stops at MAX_DEPTH levels, backrefs must
// point backwards and are followed only while there is room to print, and
// a step budget bounds the work on any input.
#include "support/demangle_rust.h"

#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 96         // nested paths, types, consts and backrefs
#define MAX_STEPS (1u << 20) // input bytes read, over all backrefs
#define MAX_BINDER 64        // lifetimes one for<...> may bind
#define PUNY_MAX 128         // code points of one punycode identifier

// ---------------------------------------------------------------------------
// Output and input

typedef struct dm {
    const char *sym; // the name after its "_R" or "_ZN"
    size_t n;        // its length, suffixes excluded
    size_t pos;
    unsigned depth;
    unsigned long steps;
    uint64_t bound; // lifetimes bound by the enclosing for<...>
    bool bad;       // malformed: the whole name is rejected
    bool skip;      // parsing without printing (an impl's own path)
    bool full;      // out is full: parse on, print nothing more
    char *out;
    size_t cap;
    size_t len;
} dm;

static bool printing(const dm *d) { return !d->bad && !d->skip && !d->full; }

static void put_n(dm *d, const char *s, size_t n) {
    if (!printing(d))
        return;
    size_t room = d->cap - 1 - d->len;
    if (n > room) {
        n = room;
        d->full = true;
    }
    memcpy(d->out + d->len, s, n);
    d->len += n;
}

static void put(dm *d, const char *s) { put_n(d, s, strlen(s)); }

static void put_char(dm *d, char c) { put_n(d, &c, 1); }

static void put_dec(dm *d, uint64_t v) {
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put_n(d, digits + i, sizeof digits - i);
}

// A code point as UTF-8 (the caller checked that it is a scalar value).
static void put_utf8(dm *d, uint32_t c) {
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    put_n(d, b, n);
}

static bool scalar(uint64_t c) { return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff); }

static void fail(dm *d) { d->bad = true; }

static char peek(const dm *d) { return d->bad || d->pos >= d->n ? '\0' : d->sym[d->pos]; }

static char next(dm *d) {
    if (d->bad || d->pos >= d->n || ++d->steps > MAX_STEPS) {
        fail(d);
        return '\0';
    }
    return d->sym[d->pos++];
}

static bool eat(dm *d, char c) {
    if (peek(d) != c || c == '\0')
        return false;
    d->pos++;
    return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

static bool push(dm *d) {
    if (d->bad)
        return false;
    if (++d->depth > MAX_DEPTH) {
        fail(d);
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------
// v0 numbers and identifiers

// <base-62-number>: "_" is 0, "0_" is 1, "a_" is 11, "Z_" is 62, ...
static uint64_t base62(dm *d) {
    if (eat(d, '_'))
        return 0;
    uint64_t x = 0;
    while (!d->bad && !eat(d, '_')) {
        char c = next(d);
        uint64_t v = is_digit(c)   ? (uint64_t)(c - '0')
                     : is_lower(c) ? (uint64_t)(c - 'a') + 10
                     : is_upper(c) ? (uint64_t)(c - 'A') + 36
                                   : 62;
        if (v == 62 || x > (UINT64_MAX - v) / 62) {
            fail(d);
            return 0;
        }
        x = x * 62 + v;
    }
    if (d->bad || x == UINT64_MAX) {
        fail(d);
        return 0;
    }
    return x + 1;
}

// TAG <base-62-number> as the number plus one, or 0 without TAG.
static uint64_t opt_base62(dm *d, char tag) {
    if (!eat(d, tag))
        return 0;
    uint64_t x = base62(d);
    if (x == UINT64_MAX) {
        fail(d);
        return 0;
    }
    return d->bad ? 0 : x + 1;
}

typedef struct ident {
    const char *ascii;
    size_t ascii_len;
    const char *puny; // the punycode deltas ("" when the name is plain ASCII)
    size_t puny_len;
} ident;

// <undisambiguated-identifier> = ["u"] <decimal-number> ["_"] <bytes>
static ident parse_ident(dm *d) {
    ident id = {"", 0, "", 0};
    bool puny = eat(d, 'u');
    if (!is_digit(peek(d))) {
        fail(d);
        return id;
    }
    size_t len = (size_t)(next(d) - '0');
    if (len != 0) {
        while (is_digit(peek(d))) {
            size_t digit = (size_t)(next(d) - '0');
            if (len > (SIZE_MAX - digit) / 10) {
                fail(d);
                return id;
            }
            len = len * 10 + digit;
        }
    }
    (void)eat(d, '_');
    if (d->bad || len > d->n - d->pos) {
        fail(d);
        return id;
    }
    const char *s = d->sym + d->pos;
    d->pos += len;
    if (!puny) {
        id.ascii = s;
        id.ascii_len = len;
        return id;
    }
    // The ASCII part ends at the last '_' (punycode's '-').
    size_t cut = len;
    while (cut > 0 && s[cut - 1] != '_')
        cut--;
    if (cut > 0) {
        id.ascii = s;
        id.ascii_len = cut - 1;
    }
    id.puny = s + cut;
    id.puny_len = len - cut;
    if (id.puny_len == 0)
        fail(d);
    return id;
}

// RFC 3492's decoder, with v0's digits ('a'-'z' are 0-25, '0'-'9' 26-35),
// into cps[PUNY_MAX]. False for anything malformed or too long.
static bool puny_decode(const ident *id, uint32_t *cps, size_t *count) {
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
    size_t len = 0;
    for (size_t k = 0; k < id->ascii_len; k++) {
        if (len == PUNY_MAX)
            return false;
        cps[len++] = (unsigned char)id->ascii[k];
    }
    size_t i = 0, bias = 72, p = 0;
    uint64_t n = 0x80;
    bool first = true;
    while (p < id->puny_len) {
        size_t delta = 0, w = 1;
        for (size_t k = BASE;; k += BASE) {
            if (p >= id->puny_len)
                return false;
            char c = id->puny[p++];
            size_t digit;
            if (is_lower(c))
                digit = (size_t)(c - 'a');
            else if (is_digit(c))
                digit = 26 + (size_t)(c - '0');
            else
                return false;
            size_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (digit != 0 && w > (SIZE_MAX - delta) / digit)
                return false;
            delta += digit * w;
            if (digit < t)
                break;
            if (w > SIZE_MAX / (BASE - t))
                return false;
            w *= BASE - t;
        }
        size_t points = len + 1;
        if (i > SIZE_MAX - delta)
            return false;
        i += delta;
        n += i / points;
        i %= points;
        if (!scalar(n) || len == PUNY_MAX)
            return false;
        memmove(cps + i + 1, cps + i, (len - i) * sizeof *cps);
        cps[i++] = (uint32_t)n;
        len = points;
        // Bias adaptation.
        delta = first ? delta / DAMP : delta / 2;
        first = false;
        delta += delta / points;
        size_t k = 0;
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + ((BASE - TMIN + 1) * delta) / (delta + SKEW);
    }
    *count = len;
    return true;
}

static bool ident_empty(const ident *id) { return id->ascii_len == 0 && id->puny_len == 0; }

// Never inlined: its 512-byte code point buffer must not sit in every
// level of the path/type recursion (about 120 bytes a level otherwise).
__attribute__((noinline)) static void print_ident(dm *d, const ident *id) {
    if (!printing(d))
        return;
    if (id->puny_len == 0) {
        put_n(d, id->ascii, id->ascii_len);
        return;
    }
    uint32_t cps[PUNY_MAX];
    size_t count = 0;
    if (puny_decode(id, cps, &count)) {
        for (size_t k = 0; k < count; k++)
            put_utf8(d, cps[k]);
        return;
    }
    // As rustfilt: the standard punycode spelling, in braces.
    put(d, "punycode{");
    if (id->ascii_len > 0) {
        put_n(d, id->ascii, id->ascii_len);
        put_char(d, '-');
    }
    put_n(d, id->puny, id->puny_len);
    put_char(d, '}');
}

// ---------------------------------------------------------------------------
// v0 paths, types and consts

static void print_path(dm *d, bool in_value);
static void print_type(dm *d);
static void print_const(dm *d, bool in_value);

typedef enum target { AT_PATH, AT_TYPE, AT_CONST, AT_DYN } target;

static bool print_dyn_path(dm *d);

// <backref> = "B" <base-62-number>, the 'B' just read: an earlier position
// of the name, printed again (parsed already, so nothing to check while
// printing is off).
static void backref(dm *d, target what, bool in_value, bool *open) {
    size_t at = d->pos - 1;
    uint64_t to = base62(d);
    if (d->bad)
        return;
    if (to >= at) {
        fail(d);
        return;
    }
    if (!printing(d) || !push(d))
        return;
    size_t resume = d->pos;
    d->pos = (size_t)to;
    switch (what) {
    case AT_PATH:
        print_path(d, in_value);
        break;
    case AT_TYPE:
        print_type(d);
        break;
    case AT_CONST:
        print_const(d, in_value);
        break;
    case AT_DYN:
        *open = print_dyn_path(d);
        break;
    }
    d->pos = resume;
    d->depth--;
}

static unsigned list(dm *d, void (*each)(dm *), const char *sep) {
    unsigned count = 0;
    while (!d->bad && !eat(d, 'E')) {
        if (count++ > 0)
            put(d, sep);
        each(d);
    }
    return count;
}

static void print_lifetime(dm *d, uint64_t lt) {
    // Bound lifetimes are tracked only while printing.
    if (!printing(d))
        return;
    put_char(d, '\'');
    if (lt == 0) {
        put_char(d, '_');
        return;
    }
    if (lt > d->bound) {
        fail(d);
        return;
    }
    uint64_t depth = d->bound - lt;
    if (depth < 26) {
        put_char(d, (char)('a' + depth));
    } else {
        put_char(d, '_');
        put_dec(d, depth);
    }
}

// [<binder>] = "G" <base-62-number>: opens "for<'a, 'b> " and returns how
// many lifetimes it bound, for binder_close.
static uint64_t binder_open(dm *d) {
    uint64_t count = opt_base62(d, 'G');
    if (d->bad || !printing(d))
        return 0;
    if (count > MAX_BINDER) {
        fail(d);
        return 0;
    }
    if (count > 0) {
        put(d, "for<");
        for (uint64_t i = 0; i < count; i++) {
            if (i > 0)
                put(d, ", ");
            d->bound++;
            print_lifetime(d, 1);
        }
        put(d, "> ");
    }
    return count;
}

static void binder_close(dm *d, uint64_t count) { d->bound -= count; }

static void print_generic_arg(dm *d) {
    if (eat(d, 'L')) {
        uint64_t lt = base62(d);
        if (!d->bad)
            print_lifetime(d, lt);
    } else if (eat(d, 'K')) {
        print_const(d, false);
    } else {
        print_type(d);
    }
}

static void print_path(dm *d, bool in_value) {
    if (!push(d))
        return;
    char tag = next(d);
    switch (tag) {
    case 'C': { // crate root
        (void)opt_base62(d, 's');
        ident id = parse_ident(d);
        print_ident(d, &id);
        break;
    }
    case 'N': { // nested: closures and shims in braces, others by name
        char ns = next(d);
        if (!is_lower(ns) && !is_upper(ns)) {
            fail(d);
            break;
        }
        print_path(d, in_value);
        uint64_t dis = opt_base62(d, 's');
        ident id = parse_ident(d);
        if (d->bad)
            break;
        if (is_upper(ns)) {
            put(d, "::{");
            if (ns == 'C')
                put(d, "closure");
            else if (ns == 'S')
                put(d, "shim");
            else
                put_char(d, ns);
            if (!ident_empty(&id)) {
                put_char(d, ':');
                print_ident(d, &id);
            }
            put_char(d, '#');
            put_dec(d, dis);
            put_char(d, '}');
        } else if (!ident_empty(&id)) {
            put(d, "::");
            print_ident(d, &id);
        }
        break;
    }
    case 'M': // <T>
    case 'X': // <T as Trait>
    case 'Y': // <T as Trait>, the trait's own definition
        if (tag != 'Y') {
            // The impl's own path is not shown.
            (void)opt_base62(d, 's');
            bool was = d->skip;
            d->skip = true;
            print_path(d, false);
            d->skip = was;
        }
        put_char(d, '<');
        print_type(d);
        if (tag != 'M') {
            put(d, " as ");
            print_path(d, false);
        }
        put_char(d, '>');
        break;
    case 'I': // generic arguments
        print_path(d, in_value);
        if (in_value)
            put(d, "::");
        put_char(d, '<');
        list(d, print_generic_arg, ", ");
        put_char(d, '>');
        break;
    case 'B':
        backref(d, AT_PATH, in_value, NULL);
        break;
    default:
        fail(d);
        break;
    }
    d->depth--;
}

static const char *basic_type(char tag) {
    switch (tag) {
    case 'a':
        return "i8";
    case 'b':
        return "bool";
    case 'c':
        return "char";
    case 'd':
        return "f64";
    case 'e':
        return "str";
    case 'f':
        return "f32";
    case 'h':
        return "u8";
    case 'i':
        return "isize";
    case 'j':
        return "usize";
    case 'l':
        return "i32";
    case 'm':
        return "u32";
    case 'n':
        return "i128";
    case 'o':
        return "u128";
    case 's':
        return "i16";
    case 't':
        return "u16";
    case 'u':
        return "()";
    case 'v':
        return "...";
    case 'x':
        return "i64";
    case 'y':
        return "u64";
    case 'z':
        return "!";
    case 'p':
        return "_";
    default:
        return NULL;
    }
}

static void print_type_list_item(dm *d) { print_type(d); }

// <dyn-trait> = <path> {"p" <undisambiguated-identifier> <type>}
static bool print_dyn_path(dm *d) {
    if (eat(d, 'B')) {
        bool open = false;
        backref(d, AT_DYN, false, &open);
        return open;
    }
    if (eat(d, 'I')) {
        print_path(d, false);
        put_char(d, '<');
        list(d, print_generic_arg, ", ");
        return true;
    }
    print_path(d, false);
    return false;
}

static void print_dyn_trait(dm *d) {
    bool open = print_dyn_path(d);
    while (!d->bad && eat(d, 'p')) {
        put(d, open ? ", " : "<");
        open = true;
        ident id = parse_ident(d);
        print_ident(d, &id);
        put(d, " = ");
        print_type(d);
    }
    if (open)
        put_char(d, '>');
}

static void print_fn_sig(dm *d) {
    uint64_t bound = binder_open(d);
    bool is_unsafe = eat(d, 'U');
    ident abi = {"", 0, "", 0};
    bool has_abi = false;
    if (eat(d, 'K')) {
        has_abi = true;
        if (eat(d, 'C')) {
            abi.ascii = "C";
            abi.ascii_len = 1;
        } else {
            abi = parse_ident(d);
            if (abi.ascii_len == 0 || abi.puny_len != 0)
                fail(d);
        }
    }
    if (is_unsafe)
        put(d, "unsafe ");
    if (has_abi) {
        put(d, "extern \"");
        // The mangling turned the ABI's '-' into '_'.
        for (size_t k = 0; k < abi.ascii_len; k++)
            put_char(d, abi.ascii[k] == '_' ? '-' : abi.ascii[k]);
        put(d, "\" ");
    }
    put(d, "fn(");
    list(d, print_type_list_item, ", ");
    put_char(d, ')');
    if (!eat(d, 'u')) { // a () return is not shown
        put(d, " -> ");
        print_type(d);
    }
    binder_close(d, bound);
}

static void print_type(dm *d) {
    if (!push(d))
        return;
    char tag = next(d);
    const char *basic = basic_type(tag);
    if (basic != NULL) {
        put(d, basic);
        d->depth--;
        return;
    }
    switch (tag) {
    case 'R':
    case 'Q':
        put_char(d, '&');
        if (eat(d, 'L')) {
            uint64_t lt = base62(d);
            if (lt != 0) {
                print_lifetime(d, lt);
                put_char(d, ' ');
            }
        }
        if (tag == 'Q')
            put(d, "mut ");
        print_type(d);
        break;
    case 'P':
    case 'O':
        put(d, tag == 'P' ? "*const " : "*mut ");
        print_type(d);
        break;
    case 'A':
    case 'S':
        put_char(d, '[');
        print_type(d);
        if (tag == 'A') {
            put(d, "; ");
            print_const(d, true);
        }
        put_char(d, ']');
        break;
    case 'T':
        put_char(d, '(');
        if (list(d, print_type_list_item, ", ") == 1)
            put_char(d, ',');
        put_char(d, ')');
        break;
    case 'F':
        print_fn_sig(d);
        break;
    case 'D': {
        put(d, "dyn ");
        uint64_t bound = binder_open(d);
        list(d, print_dyn_trait, " + ");
        binder_close(d, bound);
        if (!eat(d, 'L')) {
            fail(d);
            break;
        }
        uint64_t lt = base62(d);
        if (lt != 0) {
            put(d, " + ");
            print_lifetime(d, lt);
        }
        break;
    }
    case 'B':
        backref(d, AT_TYPE, false, NULL);
        break;
    default:
        // A path: read the tag again.
        if (!d->bad) {
            d->pos--;
            print_path(d, false);
        }
        break;
    }
    d->depth--;
}

typedef struct nibbles {
    const char *s;
    size_t len;
} nibbles;

// {<hex-digit>} "_", lowercase digits.
static nibbles parse_nibbles(dm *d) {
    nibbles h = {d->sym + d->pos, 0};
    while (!d->bad && !eat(d, '_')) {
        if (!is_hex(next(d)))
            fail(d);
        h.len++;
    }
    return h;
}

static unsigned hex_value(char c) {
    return is_digit(c) ? (unsigned)(c - '0') : (unsigned)(c - 'a') + 10;
}

// The value when it fits in 64 bits.
static bool nibbles_value(nibbles h, uint64_t *v) {
    while (h.len > 0 && h.s[0] == '0') {
        h.s++;
        h.len--;
    }
    if (h.len > 16)
        return false;
    *v = 0;
    for (size_t k = 0; k < h.len; k++)
        *v = *v << 4 | hex_value(h.s[k]);
    return true;
}

static void print_const_uint(dm *d) {
    nibbles h = parse_nibbles(d);
    uint64_t v;
    if (d->bad)
        return;
    if (nibbles_value(h, &v)) {
        put_dec(d, v);
    } else {
        put(d, "0x");
        put_n(d, h.s, h.len);
    }
}

// One character of a quoted literal, escaped as Rust's escape_debug does
// for ASCII (other characters are printed as they are).
static void put_escaped(dm *d, uint32_t c, char quote) {
    switch (c) {
    case '\t':
        put(d, "\\t");
        return;
    case '\r':
        put(d, "\\r");
        return;
    case '\n':
        put(d, "\\n");
        return;
    case '\\':
        put(d, "\\\\");
        return;
    case '\0':
        put(d, "\\0");
        return;
    case '\'':
    case '"':
        if ((char)c == quote)
            put_char(d, '\\');
        put_char(d, (char)c);
        return;
    default:
        break;
    }
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
        static const char hex[] = "0123456789abcdef";
        put(d, "\\u{");
        if (c >= 0x10)
            put_char(d, hex[c >> 4]);
        put_char(d, hex[c & 0xf]);
        put_char(d, '}');
        return;
    }
    put_utf8(d, c);
}

// A string constant: its UTF-8 bytes as hex nibbles.
static void print_const_str(dm *d) {
    nibbles h = parse_nibbles(d);
    if (d->bad || h.len % 2 != 0) {
        fail(d);
        return;
    }
    // Checked before printing anything: invalid UTF-8 rejects the name.
    size_t k = 0;
    while (k < h.len) {
        unsigned b = hex_value(h.s[k]) << 4 | hex_value(h.s[k + 1]);
        unsigned extra = b < 0x80             ? 0
                         : (b & 0xe0) == 0xc0 ? 1
                         : (b & 0xf0) == 0xe0 ? 2
                         : (b & 0xf8) == 0xf0 ? 3
                                              : 4;
        if (extra == 4 || k + 2 + extra * 2 > h.len) {
            fail(d);
            return;
        }
        uint32_t c = extra == 0 ? b : b & (0x3f >> extra);
        for (unsigned e = 1; e <= extra; e++) {
            unsigned cont = hex_value(h.s[k + 2 * e]) << 4 | hex_value(h.s[k + 2 * e + 1]);
            if ((cont & 0xc0) != 0x80) {
                fail(d);
                return;
            }
            c = c << 6 | (cont & 0x3f);
        }
        static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (!scalar(c) || c < least[extra]) {
            fail(d);
            return;
        }
        k += 2 + extra * 2;
    }
    put_char(d, '"');
    k = 0;
    while (k < h.len) {
        unsigned b = hex_value(h.s[k]) << 4 | hex_value(h.s[k + 1]);
        unsigned extra = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : 3;
        uint32_t c = extra == 0 ? b : b & (0x3f >> extra);
        for (unsigned e = 1; e <= extra; e++)
            c = c << 6 | ((hex_value(h.s[k + 2 * e]) << 4 | hex_value(h.s[k + 2 * e + 1])) & 0x3f);
        put_escaped(d, c, '"');
        k += 2 + extra * 2;
    }
    put_char(d, '"');
}

static void print_const_in_value(dm *d) { print_const(d, true); }

static void print_const_field(dm *d) {
    (void)opt_base62(d, 's');
    ident id = parse_ident(d);
    print_ident(d, &id);
    put(d, ": ");
    print_const(d, true);
}

static void print_const(dm *d, bool in_value) {
    if (!push(d))
        return;
    char tag = next(d);
    // Only literals go without braces in a generic argument list.
    bool braces = false;
    switch (tag) {
    case 'p':
        put_char(d, '_');
        break;
    case 'h': // unsigned integers
    case 't':
    case 'm':
    case 'y':
    case 'o':
    case 'j':
        print_const_uint(d);
        break;
    case 'a': // signed integers
    case 's':
    case 'l':
    case 'x':
    case 'n':
    case 'i':
        if (eat(d, 'n'))
            put_char(d, '-');
        print_const_uint(d);
        break;
    case 'b': {
        uint64_t v = 2;
        nibbles h = parse_nibbles(d);
        if (!d->bad && nibbles_value(h, &v) && v <= 1)
            put(d, v == 1 ? "true" : "false");
        else
            fail(d);
        break;
    }
    case 'c': {
        uint64_t v = 0;
        nibbles h = parse_nibbles(d);
        if (d->bad || !nibbles_value(h, &v) || !scalar(v)) {
            fail(d);
            break;
        }
        put_char(d, '\'');
        put_escaped(d, (uint32_t)v, '\'');
        put_char(d, '\'');
        break;
    }
    case 'e': // str, shown as *"..."
        braces = !in_value;
        put(d, braces ? "{*" : "*");
        print_const_str(d);
        break;
    case 'R':
    case 'Q':
        if (tag == 'R' && eat(d, 'e')) {
            print_const_str(d);
            break;
        }
        braces = !in_value;
        if (braces)
            put_char(d, '{');
        put(d, tag == 'R' ? "&" : "&mut ");
        print_const(d, true);
        break;
    case 'A':
    case 'T': {
        braces = !in_value;
        if (braces)
            put_char(d, '{');
        put_char(d, tag == 'A' ? '[' : '(');
        unsigned count = list(d, print_const_in_value, ", ");
        if (tag == 'T' && count == 1)
            put_char(d, ',');
        put_char(d, tag == 'A' ? ']' : ')');
        break;
    }
    case 'V': // an ADT value
        braces = !in_value;
        if (braces)
            put_char(d, '{');
        print_path(d, true);
        switch (next(d)) {
        case 'U':
            break;
        case 'T':
            put_char(d, '(');
            list(d, print_const_in_value, ", ");
            put_char(d, ')');
            break;
        case 'S':
            put(d, " { ");
            list(d, print_const_field, ", ");
            put(d, " }");
            break;
        default:
            fail(d);
            break;
        }
        break;
    case 'B':
        backref(d, AT_CONST, in_value, NULL);
        break;
    default:
        fail(d);
        break;
    }
    if (braces)
        put_char(d, '}');
    d->depth--;
}

// ---------------------------------------------------------------------------
// Legacy: _ZN <len><element>... E, the last element "h" and 16 hex digits

static bool is_hash(const char *s, size_t len) {
    if (len != 17 || s[0] != 'h')
        return false;
    // rustc writes lowercase digits; rustfilt takes either case.
    for (size_t k = 1; k < len; k++)
        if (!is_hex(s[k]) && !(s[k] >= 'A' && s[k] <= 'F'))
            return false;
    return true;
}

// One element, its "$xx$" escapes and ".." decoded.
static void print_legacy_element(dm *d, const char *s, size_t len) {
    size_t k = 0;
    if (len >= 2 && s[0] == '_' && s[1] == '$')
        k = 1;
    while (k < len) {
        if (s[k] == '.') {
            bool pair = k + 1 < len && s[k + 1] == '.';
            put(d, pair ? "::" : ".");
            k += pair ? 2 : 1;
            continue;
        }
        if (s[k] != '$') {
            size_t run = k;
            while (run < len && s[run] != '$' && s[run] != '.')
                run++;
            put_n(d, s + k, run - k);
            k = run;
            continue;
        }
        size_t end = k + 1;
        while (end < len && s[end] != '$')
            end++;
        if (end == len)
            break; // no closing '$': the rest as it is
        const char *e = s + k + 1;
        size_t elen = end - k - 1;
        static const struct {
            const char *code, *text;
        } escapes[] = {{"SP", "@"}, {"BP", "*"}, {"RF", "&"}, {"LT", "<"},
                       {"GT", ">"}, {"LP", "("}, {"RP", ")"}, {"C", ","}};
        const char *text = NULL;
        for (size_t x = 0; x < sizeof escapes / sizeof escapes[0]; x++)
            if (strlen(escapes[x].code) == elen && memcmp(escapes[x].code, e, elen) == 0)
                text = escapes[x].text;
        if (text != NULL) {
            put(d, text);
            k = end + 1;
            continue;
        }
        // $uXX$: a code point in lowercase hex, never a control character.
        uint64_t c = 0;
        bool ok = elen >= 2 && elen <= 7 && e[0] == 'u';
        for (size_t x = 1; ok && x < elen; x++) {
            ok = is_hex(e[x]);
            c = c << 4 | (ok ? hex_value(e[x]) : 0);
        }
        if (!ok || !scalar(c) || c < 0x20 || (c >= 0x7f && c < 0xa0))
            break; // unknown escape: the rest as it is
        put_utf8(d, (uint32_t)c);
        k = end + 1;
    }
    put_n(d, s + k, len - k);
}

// Returns the length the name occupies (through its 'E'), or 0.
static size_t legacy(dm *d) {
    // Pass one: the elements must be well formed and end in the hash.
    size_t pos = 0, count = 0, last = 0, last_len = 0;
    while (pos < d->n && d->sym[pos] != 'E') {
        if (!is_digit(d->sym[pos]))
            return 0;
        size_t len = 0;
        while (pos < d->n && is_digit(d->sym[pos])) {
            size_t digit = (size_t)(d->sym[pos++] - '0');
            if (len > (SIZE_MAX - digit) / 10)
                return 0;
            len = len * 10 + digit;
        }
        if (len > d->n - pos)
            return 0;
        last = pos;
        last_len = len;
        pos += len;
        count++;
    }
    if (pos >= d->n || count < 2 || !is_hash(d->sym + last, last_len))
        return 0;
    // Pass two: print all but the hash.
    size_t at = 0;
    for (size_t i = 0; i + 1 < count; i++) {
        size_t len = 0;
        while (is_digit(d->sym[at]))
            len = len * 10 + (size_t)(d->sym[at++] - '0');
        if (i > 0)
            put(d, "::");
        print_legacy_element(d, d->sym + at, len);
        at += len;
    }
    return pos + 1;
}

// ---------------------------------------------------------------------------
// Entry point

static bool suffix_ok(const char *s, size_t len) {
    if (len == 0)
        return true;
    if (s[0] != '.')
        return false;
    for (size_t k = 0; k < len; k++)
        if (s[k] <= ' ' || s[k] > '~')
            return false;
    return true;
}

static bool starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cf_demangle_rust(const char *sym, char *out, size_t cap) {
    if (out == NULL || cap == 0)
        return false;
    out[0] = '\0';
    if (sym == NULL)
        return false;
    size_t n = 0;
    for (; sym[n] != '\0'; n++)
        if ((unsigned char)sym[n] >= 0x80)
            return false; // mangled names are ASCII
    // ThinLTO renames a local symbol "NAME.llvm.HEX": the suffix goes.
    for (size_t k = 0; k + 6 <= n; k++) {
        if (memcmp(sym + k, ".llvm.", 6) != 0)
            continue;
        bool all = true;
        for (size_t x = k + 6; x < n && all; x++)
            all = is_digit(sym[x]) || (sym[x] >= 'A' && sym[x] <= 'F') || sym[x] == '@';
        if (all)
            n = k;
        break;
    }
    dm d = {0};
    d.out = out;
    d.cap = cap;
    bool v0;
    size_t skip;
    if (starts(sym, "_ZN") || starts(sym, "__ZN")) {
        v0 = false;
        skip = sym[1] == '_' ? 4 : 3;
    } else if (starts(sym, "_R") || starts(sym, "__R")) {
        v0 = true;
        skip = sym[1] == '_' ? 3 : 2;
    } else {
        return false;
    }
    d.sym = sym + skip;
    d.n = n - skip;
    size_t used;
    if (v0) {
        if (d.n == 0 || !is_upper(d.sym[0]))
            return false;
        print_path(&d, true);
        // The instantiating crate, not shown.
        if (!d.bad && is_upper(peek(&d))) {
            d.skip = true;
            print_path(&d, false);
            d.skip = false;
        }
        used = d.pos;
    } else {
        used = legacy(&d);
        if (used == 0)
            d.bad = true;
    }
    if (d.bad || !suffix_ok(d.sym + used, d.n - used)) {
        out[0] = '\0';
        return false;
    }
    put_n(&d, d.sym + used, d.n - used);
    out[d.len] = '\0';
    if (d.full && cap > 4)
        memcpy(out + cap - 4, "...", 4);
    return true;
}

bool cf_demangle_rust_tidy(const char *name, char *out, size_t cap) {
    if (out == NULL || cap == 0)
        return false;
    out[0] = '\0';
    if (name == NULL)
        return false;
    size_t n = strlen(name);
    if (n < 20 || memcmp(name + n - 19, "::", 2) != 0 || !is_hash(name + n - 17, 17))
        return false;
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)name[k] >= 0x80 || name[k] == ' ')
            return false; // not a demangled legacy path
    dm d = {0};
    d.out = out;
    d.cap = cap;
    size_t end = n - 19, at = 0;
    while (at <= end) {
        size_t next = at;
        while (next < end && !(name[next] == ':' && name[next + 1] == ':'))
            next++;
        if (at > 0)
            put(&d, "::");
        print_legacy_element(&d, name + at, next - at);
        at = next + 2;
    }
    out[d.len] = '\0';
    if (d.full && cap > 4)
        memcpy(out + cap - 4, "...", 4);
    return true;
}
