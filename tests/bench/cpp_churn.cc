// SPDX-License-Identifier: MIT
// Benchmark workload: the allocation pattern of ordinary C++ code, through
// operator new and delete only: a std::map<std::string, std::vector<int>>
// built, searched and pruned, strings built piece by piece, vectors grown
// one element at a time. Deterministic; prints one checksum line.
//
// Usage: bench_cpp_churn [SCALE]   (SCALE 1.0 = a few seconds natively)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Rng {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    unsigned below(unsigned n) { return (unsigned)(next() % n); }
};

struct Hash {
    uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a
    void bytes(const void *p, size_t n) {
        const unsigned char *c = static_cast<const unsigned char *>(p);
        for (size_t i = 0; i < n; i++)
            h = (h ^ c[i]) * 0x100000001b3ULL;
    }
    void str(const std::string &s) { bytes(s.data(), s.size()); }
    void num(uint64_t v) { bytes(&v, sizeof v); }
};

const char *const words[] = {"alpha", "bravo", "charlie", "delta",  "echo",   "foxtrot",
                             "golf",  "hotel", "india",   "juliet", "kilo",   "lima",
                             "mike",  "novem", "oscar",   "papa",   "quebec", "romeo"};
const unsigned nwords = sizeof words / sizeof words[0];

// Keys longer than the small-string buffer, so every key is a heap block.
std::string make_key(Rng &rng) {
    std::string k = "customer/";
    k += words[rng.below(nwords)];
    k += '/';
    k += std::to_string(rng.below(4000));
    return k;
}

// One round: a map of a few thousand keys with vectors that grow, lookups,
// erasures, a rebuilt copy, and a text report assembled piece by piece.
void round(Rng &rng, Hash &hash) {
    std::map<std::string, std::vector<int>> index;
    for (int i = 0; i < 20000; i++) {
        std::vector<int> &v = index[make_key(rng)];
        unsigned n = 1 + rng.below(12);
        for (unsigned j = 0; j < n; j++)
            v.push_back((int)rng.below(1000));
    }
    for (int i = 0; i < 8000; i++) {
        auto it = index.find(make_key(rng));
        if (it == index.end())
            continue;
        if (it->second.size() > 8)
            index.erase(it);
        else
            it->second.insert(it->second.begin(), i);
    }

    std::vector<std::unique_ptr<std::string>> lines;
    std::string report;
    for (const auto &kv : index) {
        auto line = std::make_unique<std::string>(kv.first);
        *line += ':';
        for (int x : kv.second) {
            *line += ' ';
            *line += std::to_string(x);
        }
        if (line->size() % 3 == 0)
            report += *line + '\n';
        lines.push_back(std::move(line));
    }

    std::map<std::string, std::vector<int>> shadow(index);
    for (auto it = shadow.begin(); it != shadow.end();) {
        if (it->second.empty() || it->second.front() % 2 != 0)
            it = shadow.erase(it);
        else
            ++it;
    }

    hash.num(index.size());
    hash.num(shadow.size());
    hash.num(lines.size());
    hash.str(report);
    for (const auto &kv : shadow)
        hash.str(kv.first);
}

} // namespace

int main(int argc, char **argv) {
    double scale = argc > 1 ? std::strtod(argv[1], nullptr) : 1.0;
    if (!(scale > 0)) {
        std::fprintf(stderr, "usage: %s [SCALE > 0]\n", argv[0]);
        return 2;
    }
    int rounds = (int)(80 * scale);
    if (rounds < 1)
        rounds = 1;
    Rng rng{42};
    Hash hash;
    for (int r = 0; r < rounds; r++)
        round(rng, hash);
    std::printf("cpp_churn rounds=%d checksum=%016llx\n", rounds, (unsigned long long)hash.h);
    return 0;
}
