// SPDX-License-Identifier: MIT
// Lots of correct frees at exit: atexit handlers, static containers,
// function-local statics, thread_local objects in many threads, and a
// detached thread still allocating while the process exits. Must be clean
// and exit 0: crossfree may not tear down what late frees still need.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: main returns
// clang-format on

static std::vector<std::string> g_strings(5000, std::string(100, 's'));
static std::map<int, std::unique_ptr<int[]>> g_arrays;
static std::vector<void *> g_malloced;

struct Tls {
    std::vector<std::string> v;
    char *raw = new char[64];
    ~Tls() { delete[] raw; }
};
static thread_local Tls tls;

static std::map<std::string, std::string> &registry() {
    static std::map<std::string, std::string> r;
    return r;
}

static void free_malloced() {
    for (void *p : g_malloced)
        free(p);
    g_malloced.clear();
}

static void free_registry_late() { registry().clear(); }

int main() {
    for (int i = 0; i < 1000; i++) {
        g_arrays[i].reset(new int[i + 1]);
        g_malloced.push_back(malloc(i + 1));
        registry()[std::to_string(i)] = std::string(i % 80, 'r');
    }
    for (int i = 0; i < 32; i++)
        std::atexit(i == 0 ? free_malloced : free_registry_late);

    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++)
        threads.emplace_back([t] {
            for (int i = 0; i < 1000; i++)
                tls.v.push_back(std::to_string(t * i));
        });
    for (auto &t : threads)
        t.join();
    tls.v.assign(100, "main");

    // Still allocating and freeing while main returns and exit runs.
    std::thread([] {
        for (;;) {
            void *p = malloc(100);
            char *q = new char[50];
            delete[] q;
            free(p);
        }
    }).detach();

    std::printf("main returns\n");
    std::fflush(stdout);
    return 0;
}
