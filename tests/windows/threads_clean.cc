// SPDX-License-Identifier: MIT
// Four threads allocate and release through every family, always with the
// matching call: the CRT heap (malloc, calloc, realloc, _strdup,
// _aligned_*), CoTaskMem*, operator new/new[] and the standard containers.
// crossfree must stay silent and the program must end normally.
//
// EXPECT: clean
// EXPECT-STDOUT: threads done: 4
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string>
#include <vector>

#include <objbase.h>
#include <windows.h>

static DWORD WINAPI worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (seed + (unsigned)round * 7u) % 300;
        char *a = static_cast<char *>(std::malloc(n));
        char *b = static_cast<char *>(std::calloc(n, 2));
        a = static_cast<char *>(std::realloc(a, n * 3));
        b = static_cast<char *>(std::realloc(b, n * 4));
        char *d = _strdup("duplicate");
        void *al = _aligned_malloc(n, 64);
        al = _aligned_realloc(al, n * 2, 64);
        void *c = CoTaskMemAlloc(n);
        c = CoTaskMemRealloc(c, n * 2);
        int *one = new int(round);
        double *many = new double[n];
        std::string s(n, 'x');
        std::vector<int> v(n, round);
        s += std::to_string(v.back());
        std::memset(a, 1, n * 3);
        std::free(a);
        std::free(b);
        std::free(d);
        _aligned_free(al);
        CoTaskMemFree(c);
        delete one;
        delete[] many;
    }
    return 0;
}

int main() {
    HANDLE t[4];
    for (int i = 0; i < 4; i++)
        t[i] = CreateThread(nullptr, 0, worker, reinterpret_cast<void *>(static_cast<uintptr_t>(i)),
                            0, nullptr);
    WaitForMultipleObjects(4, t, TRUE, INFINITE);
    for (int i = 0; i < 4; i++)
        CloseHandle(t[i]);
    std::printf("threads done: 4\n");
    return 0;
}
