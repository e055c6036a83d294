/* The generator's pseudo-random numbers: splitmix64 to derive a stream per
 * entity from (seed, kind, index), xoshiro256** within the stream. Our own,
 * not rand(): the output must be the same bytes for the same seed on every
 * libc, and each entity's stream must not depend on how many numbers the
 * entities before it drew (so the code can change one resource's details
 * without reshuffling everything else). */
#ifndef EDHUB_GEN_RNG_H
#define EDHUB_GEN_RNG_H
#include <stdint.h>

typedef struct rng { uint64_t s[4]; } rng;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The stream of entity (kind, index) under seed. */
static inline void rng_seed(rng *r, uint64_t seed, uint64_t kind, uint64_t index)
{
    uint64_t x = seed;
    uint64_t a = splitmix64(&x) ^ (kind * 0xd1342543de82ef95ULL);
    x = a;
    uint64_t b = splitmix64(&x) ^ index;
    x = b;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform in [0, n) (n > 0); Lemire's multiply-shift, unbiased enough for
 * synthetic data (bias < n / 2^64). */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static inline int rng_range(rng *r, int lo, int hi) { return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1)); }

/* True with probability p. */
static inline int rng_chance(rng *r, double p) { return rng_unit(r) < p; }

#endif
