// SPDX-License-Identifier: MIT
// Thread ids in reports: a block allocated by one thread and wrongly freed by
// another names both threads (T0 is the main thread, T1 the first thread
// the program creates, unnamed: it keeps the program's name, with its OS
// id) and where T1 was created. Run as `thread_mismatch MODE`. Under
// qemu-user (the aarch64 suite) an unnamed thread's name, as the kernel
// keeps it, is the emulator's: qemu-aarch64.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by operator new[], freed by free()
// EXPECT-LINE[main-allocates]: ^==%pid==ERROR: crossfree: alloc-dealloc-mismatch on address 0x[0-9a-f]+ in thread T1 \((thread_mismatch|qemu-aarch64), tid [0-9]+\)$
// EXPECT-TEXT[main-allocates]: is a 20-byte region allocated by operator new[] in thread T0 here:
// EXPECT-FREE-FRAME[main-allocates]: #0 thread_free(void*) @tm_free
// EXPECT-THREAD-FRAME[main-allocates]: T1 #0 main @tm_create_free
// EXPECT-ALLOC-FRAME[main-allocates]: #0 make() @tm_alloc
// EXPECT-LINE[thread-allocates]: ^==%pid==ERROR: crossfree: alloc-dealloc-mismatch on address 0x[0-9a-f]+ in thread T0$
// EXPECT-LINE[thread-allocates]: is a 20-byte region allocated by operator new\[\] in thread T1 \((thread_mismatch|qemu-aarch64), tid [0-9]+\) here:$
// EXPECT-THREAD-FRAME[thread-allocates]: T1 #0 main @tm_create_alloc
// EXPECT-FREE-FRAME[thread-allocates]: #0 main @tm_main_free
// EXPECT-ALLOC-FRAME[thread-allocates]: #0 make() @tm_alloc
// EXPECT-ALLOC-FRAME[thread-allocates]: #1 thread_alloc(void*) @tm_thread_alloc
// clang-format on

NI char *make() { return new char[20]; /* @tm_alloc */ }

NI void *thread_free(void *p) {
    free(p); /* @tm_free */
    return nullptr;
}

NI void *thread_alloc(void *) { return make(); /* @tm_thread_alloc */ }

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    pthread_t t;
    if (strcmp(argv[1], "main-allocates") == 0) {
        char *p = make();
        pthread_create(&t, nullptr, thread_free, p); /* @tm_create_free */
        pthread_join(t, nullptr);
    } else {
        void *p = nullptr;
        pthread_create(&t, nullptr, thread_alloc, nullptr); /* @tm_create_alloc */
        pthread_join(t, &p);
        free(p); /* @tm_main_free */
    }
    return 0;
}
