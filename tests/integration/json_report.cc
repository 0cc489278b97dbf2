// SPDX-License-Identifier: MIT
// report_format=json end to end, checked by check_json.py: each error kind
// as one JSON line in PREFIX.PID, two lines with halt_on_error=0, a forked
// child writing its own file, and JSON on stderr. Run as `json_report MODE`.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NI __attribute__((noinline))

// clang-format off
// JSON-EXIT: SIGABRT
// JSON-KIND: alloc-dealloc-mismatch
// JSON-ALLOC: new[] | operator new[]
// JSON-FREE: malloc | free()
// JSON-FREE-FRAME[mismatch,two,fork,stderr]: #0 wrong_free(char*) @jr_free
// JSON-FREE-FRAME[mismatch,two,fork,stderr]: #1 mismatch() @jr_mm_free
// JSON-ALLOC-FRAME[mismatch,two,fork,stderr]: #0 make_array(unsigned long) @jr_alloc
// JSON-ALLOC-FRAME[mismatch,two,fork,stderr]: #1 mismatch() @jr_mm_alloc
// JSON-FIELD[mismatch,two,fork,stderr]: size=40
// JSON-FIELD[mismatch,two,fork,stderr]: allocated_by.thread=0
// JSON-FIELD[mismatch,two,fork,stderr]: message="allocated by operator new[], freed by free()"
// JSON-FIELD: thread=0
// JSON-FIELD: freed_from=null
//
// JSON-KIND[double-free]: double-free
// JSON-ALLOC[double-free]: malloc | malloc()
// JSON-FREE[double-free]: malloc | free()
// JSON-FIRST-FREE[double-free]: malloc | free()
// JSON-FREE-FRAME[double-free]: #0 twice() @jr_second
// JSON-FIRST-FREE-FRAME[double-free]: #0 twice() @jr_first
// JSON-ALLOC-FRAME[double-free]: #0 twice() @jr_df_alloc
// JSON-FIELD[double-free]: size=24
// JSON-FIELD[double-free]: first_free.thread=0
// JSON-FIELD[double-free]: message="freed twice: first by free(), now by free()"
//
// JSON-KIND[interior]: invalid-free
// JSON-ALLOC[interior]: malloc | malloc()
// JSON-FREE[interior]: malloc | free()
// JSON-FREE-FRAME[interior]: #0 interior() @jr_interior
// JSON-ALLOC-FRAME[interior]: #0 interior() @jr_if_alloc
// JSON-FIELD[interior]: size=64
// JSON-FIELD[interior]: where="interior"
// JSON-FIELD[interior]: where_module=null
// JSON-FIELD[interior]: message="free() on an address that no tracked allocator handed out: 16 bytes inside a 64-byte region allocated by malloc()"
//
// JSON-KIND[before]: invalid-free
// JSON-ALLOC[before]: malloc | malloc()
// JSON-FREE-FRAME[before]: #0 before() @jr_before
// JSON-ALLOC-FRAME[before]: #0 before() @jr_before_alloc
// JSON-FIELD[before]: size=1
// JSON-FIELD[before]: where="before"
// JSON-FIELD[before]: message="free() on an address that no tracked allocator handed out: 8 bytes before a 1-byte region allocated by malloc()"
//
// JSON-KIND[unknown]: invalid-free
// JSON-ALLOC[unknown]: null
// JSON-FREE[unknown]: malloc | free()
// JSON-FREE-FRAME[unknown]: #0 untracked() @jr_untracked
// JSON-FIELD[unknown]: size=null
// JSON-FIELD[unknown]: where="unknown"
// JSON-FIELD[unknown]: allocation_stack=null
// JSON-FIELD[unknown]: block_address=null
//
// JSON-OPTIONS[two]: halt_on_error=0
// JSON-EXIT[two]: 23
// JSON-RECORDS[two]: 2
// JSON-STDERR[two]: ^==%pid==crossfree: 2 error\(s\) reported \(alloc-dealloc-mismatch: 2, double-free: 0, invalid-free: 0, new-delete-size-mismatch: 0, new-delete-alignment-mismatch: 0\); exit status 23$
//
// JSON-FORK[fork]
//
// JSON-OPTIONS[stderr]: log_path=stderr
// JSON-LOG[stderr]: stderr
// clang-format on

NI char *make_array(size_t n) { return new char[n]; /* @jr_alloc */ }

NI void wrong_free(char *p) { free(p); /* @jr_free */ }

NI void mismatch() {
    char *p = make_array(40); /* @jr_mm_alloc */
    memset(p, 'x', 40);
    wrong_free(p); /* @jr_mm_free */
}

NI void twice() {
    char *p = static_cast<char *>(malloc(24)); /* @jr_df_alloc */
    memset(p, 1, 24);
    free(p); /* @jr_first */
    free(p); /* @jr_second */
}

NI void interior() {
    char *p = static_cast<char *>(malloc(64)); /* @jr_if_alloc */
    memset(p, 0, 64);
    free(p + 16); /* @jr_interior */
}

NI void before() {
    char *p = static_cast<char *>(malloc(1)); /* @jr_before_alloc */
    p[0] = 1;
    char *volatile q = p - 8;
    free(q); /* @jr_before */
}

NI void untracked() {
    void *m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        exit(3);
    char *p = static_cast<char *>(m);
    p[0] = 1;
    free(p); /* @jr_untracked */
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *mode = argv[1];
    if (strcmp(mode, "mismatch") == 0 || strcmp(mode, "stderr") == 0) {
        mismatch();
    } else if (strcmp(mode, "double-free") == 0) {
        twice();
    } else if (strcmp(mode, "interior") == 0) {
        interior();
    } else if (strcmp(mode, "before") == 0) {
        before();
    } else if (strcmp(mode, "unknown") == 0) {
        untracked();
    } else if (strcmp(mode, "two") == 0) {
        mismatch();
        mismatch();
        std::printf("after two: ok\n");
    } else if (strcmp(mode, "fork") == 0) {
        // The child reports first, into its own PREFIX.PID, and dies of
        // the abort; then the parent makes the same mistake.
        std::fflush(stdout);
        pid_t child = fork();
        if (child < 0)
            return 4;
        if (child == 0) {
            mismatch();
            _exit(0); // not reached: the report aborts
        }
        int status = 0;
        waitpid(child, &status, 0);
        std::printf("child %d %s\n", (int)child,
                    WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT ? "aborted"
                                                                       : "did not abort");
        std::fflush(stdout);
        mismatch();
    } else {
        return 2;
    }
    return 0;
}
