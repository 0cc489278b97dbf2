// SPDX-License-Identifier: MIT
// fork() while other threads are allocating: the child must inherit a
// consistent owner table (no deadlock on a lock held at fork time, no false
// report for blocks the parent allocated) and exit 0; the parent waits.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: forks: 200, children ok: 200
// clang-format on

static std::atomic<bool> stop{false};

static void churn(int seed) {
    std::vector<void *> live(64, nullptr);
    unsigned x = 12345u + seed;
    while (!stop.load(std::memory_order_relaxed)) {
        x = x * 1103515245u + 12345u;
        size_t i = (x >> 8) % live.size();
        switch (x % 3) {
        case 0:
            free(live[i]);
            live[i] = malloc(1 + (x >> 16) % 2000);
            break;
        case 1: {
            // The slots hold malloc-family blocks only; new[] blocks live briefly.
            char *a = new char[1 + (x >> 16) % 300];
            a[0] = 1;
            delete[] a;
            break;
        }
        default:
            live[i] = realloc(live[i], 1 + (x >> 12) % 4000);
            break;
        }
    }
    for (void *p : live)
        free(p);
}

int main() {
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; t++)
        threads.emplace_back(churn, t);

    // Blocks the children free: made by the parent before each fork.
    int ok = 0;
    const int kForks = 200;
    for (int f = 0; f < kForks; f++) {
        char *m = static_cast<char *>(malloc(100));
        char *a = new char[100];
        std::string *s = new std::string(200, 'x');
        pid_t pid = fork();
        if (pid == 0) {
            // Child: only this thread exists now.
            free(m);
            delete[] a;
            delete s;
            std::vector<std::string> v;
            for (int i = 0; i < 2000; i++)
                v.push_back(std::to_string(i) + std::string(i % 50, 'y'));
            std::thread t([] {
                for (int i = 0; i < 1000; i++)
                    delete[] new int[i + 1];
            });
            t.join();
            exit(v.size() == 2000 ? 0 : 1);
        }
        free(m);
        delete[] a;
        delete s;
        int st = 0;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
        else
            std::fprintf(stderr, "child %d: status %#x\n", (int)pid, st);
    }
    stop = true;
    for (auto &t : threads)
        t.join();
    std::printf("forks: %d, children ok: %d\n", kForks, ok);
    return 0;
}
