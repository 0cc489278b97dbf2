// SPDX-License-Identifier: MIT
// STL-heavy C++ with exceptions: containers grow and shrink, exceptions are
// thrown and caught in loops (their objects come from
// __cxa_allocate_exception), and std::bad_alloc from a huge new passes
// through crossfree's operator new wrapper. All of it must be clean.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: map: 20000 entries, checksum 199990000
// EXPECT-STDOUT: exceptions caught: 100000
// EXPECT-STDOUT: bad_alloc caught: 1000
// EXPECT-STDOUT: threads: 2, words: 200000
// EXPECT-STDOUT: done
// clang-format on

struct Error : std::runtime_error {
    std::string detail;
    explicit Error(int i)
        : std::runtime_error("error " + std::to_string(i)), detail(std::string(i % 64, 'd')) {}
};

static void may_throw(int i) {
    std::vector<std::string> local(i % 7, std::string(i % 40, 'z'));
    if (i % 3 != 0)
        throw Error(i);
}

static long words_in(int seed) {
    std::unordered_map<std::string, int> counts;
    std::ostringstream text;
    for (int i = 0; i < 100000; i++)
        text << "w" << (i * seed) % 997 << ' ';
    std::istringstream in(text.str());
    std::string w;
    long n = 0;
    while (in >> w) {
        counts[w]++;
        n++;
    }
    return n;
}

int main() {
    std::map<int, std::string> m;
    for (int i = 0; i < 20000; i++)
        m[i] = std::to_string(i) + std::string(i % 100, 'v');
    long sum = 0;
    for (auto &kv : m)
        sum += kv.first;
    for (int i = 0; i < 20000; i += 2)
        m.erase(i);
    for (int i = 0; i < 20000; i += 2)
        m.emplace(i, std::string(i % 33, 'w'));
    std::printf("map: %zu entries, checksum %ld\n", m.size(), sum);

    int caught = 0;
    for (int i = 0; i < 150000; i++) {
        try {
            may_throw(i);
        } catch (const Error &e) {
            caught += e.detail.size() == size_t(i % 64);
        }
    }
    std::printf("exceptions caught: %d\n", caught);

    int bad = 0;
    volatile size_t huge = size_t(1) << 62;
    for (int i = 0; i < 1000; i++) {
        try {
            std::unique_ptr<char[]> p(new char[huge]);
            p[0] = 1;
        } catch (const std::bad_alloc &) {
            bad++;
        }
    }
    std::printf("bad_alloc caught: %d\n", bad);

    long w1 = 0, w2 = 0;
    std::thread t1([&] { w1 = words_in(3); });
    std::thread t2([&] { w2 = words_in(7); });
    t1.join();
    t2.join();
    std::printf("threads: 2, words: %ld\n", w1 + w2);

    std::vector<std::function<std::string()>> fns;
    for (int i = 0; i < 10000; i++)
        fns.emplace_back([s = std::string(i % 50, 'f')] { return s + "!"; });
    size_t total = 0;
    for (auto &f : fns)
        total += f().size();
    std::printf("%s\n", total == 10000 + 245000 ? "done" : "WRONG");
    return 0;
}
