// SPDX-License-Identifier: MIT
// A mid-size C program for the false-positive run: run_fp.sh compiles it
// with gcc -O2 natively and under crossfree (the object files must be
// identical), then runs it both ways (the output must be identical).
// Deterministic: a hash table, sorting, string building and a tiny VM.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- a chained hash table of strings ----------------------------------------

struct entry {
    char *key;
    long value;
    struct entry *next;
};

struct table {
    struct entry **buckets;
    size_t nbuckets, count;
};

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void table_grow(struct table *t) {
    size_t n = t->nbuckets ? t->nbuckets * 2 : 16;
    struct entry **b = calloc(n, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = hash_str(e->key) & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

static long *table_slot(struct table *t, const char *key) {
    if (t->count * 4 >= t->nbuckets * 3)
        table_grow(t);
    size_t i = hash_str(key) & (t->nbuckets - 1);
    for (struct entry *e = t->buckets[i]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return &e->value;
    struct entry *e = malloc(sizeof *e);
    e->key = strdup(key);
    e->value = 0;
    e->next = t->buckets[i];
    t->buckets[i] = e;
    t->count++;
    return &e->value;
}

static void table_free(struct table *t) {
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct entry *e = t->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(t->buckets);
}

// ---- a growable string ----------------------------------------------------

struct sbuf {
    char *data;
    size_t len, cap;
};

static void sb_append(struct sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

// ---- a tiny stack VM --------------------------------------------------------

enum op { PUSH, ADD, MUL, DUP, SWAP, JNZ, DEC, POP, HALT };

struct insn {
    enum op op;
    long arg;
};

static long run_vm(const struct insn *code, long *stack, size_t cap) {
    size_t sp = 0, pc = 0;
    for (;;) {
        const struct insn *in = &code[pc++];
        switch (in->op) {
        case PUSH:
            stack[sp++] = in->arg;
            break;
        case ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case MUL:
            sp--;
            stack[sp - 1] = (stack[sp - 1] * stack[sp]) % 1000000007;
            break;
        case DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case SWAP: {
            long t = stack[sp - 1];
            stack[sp - 1] = stack[sp - 2];
            stack[sp - 2] = t;
            break;
        }
        case JNZ:
            if (stack[sp - 1] != 0)
                pc = (size_t)in->arg;
            break;
        case DEC:
            stack[sp - 1]--;
            break;
        case POP:
            sp--;
            break;
        case HALT:
            return sp ? stack[sp - 1] : 0;
        }
        if (sp >= cap)
            return -1;
    }
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(void) {
    struct table t = {0};
    uint32_t x = 12345;
    char word[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        int len = 2 + x % 6;
        for (int j = 0; j < len; j++)
            word[j] = (char)('a' + (x >> (j * 3)) % 7);
        word[len] = 0;
        (*table_slot(&t, word))++;
    }
    long *values = malloc(t.count * sizeof *values);
    size_t n = 0;
    for (size_t i = 0; i < t.nbuckets; i++)
        for (struct entry *e = t.buckets[i]; e; e = e->next)
            values[n++] = e->value;
    qsort(values, n, sizeof *values, cmp_long);
    printf("distinct words: %zu, max count: %ld, median: %ld\n", n, values[n - 1], values[n / 2]);
    free(values);
    table_free(&t);

    struct sbuf b = {0};
    char tmp[64];
    for (int i = 0; i < 50000; i++) {
        int k = snprintf(tmp, sizeof tmp, "%d,", i * 7 % 1000);
        sb_append(&b, tmp, (size_t)k);
    }
    printf("string: %zu bytes, hash %016llx\n", b.len, (unsigned long long)hash_str(b.data));
    free(b.data);

    // factorial-like loop: acc = acc * n; n--; until n == 0
    struct insn prog[] = {
        {PUSH, 1}, {PUSH, 100000},           // acc n
        {DUP, 0},  {PUSH, 0},      {ADD, 0}, // acc n n
        {SWAP, 0},                           // acc n n -> acc n n (keeps shape)
        {POP, 0},                            // acc n
        {SWAP, 0}, {PUSH, 0},      {ADD, 0}, // n acc
        {SWAP, 0}, {DUP, 0},                 // acc n n
        {SWAP, 0}, {POP, 0},                 // acc n
        {DUP, 0},  {PUSH, 0},      {ADD, 0}, // acc n n
        {POP, 0},                            // acc n
        {SWAP, 0}, {PUSH, 3},      {MUL, 0}, // n acc*3
        {SWAP, 0}, {DEC, 0},                 // acc*3 n-1
        {JNZ, 2},  {POP, 0},       {HALT, 0},
    };
    long *stack = malloc(64 * sizeof *stack);
    printf("vm: %ld\n", run_vm(prog, stack, 64));
    free(stack);
    return 0;
}
