/*
 * A deterministic uniform double in [0, 1) from *state (splitmix64): the
 * backoff jitter, and the fault plans of the test adapters, replay the
 * same draws from the same seed. Internal.
 */
#ifndef ORDERLY_BASE_RAND_H
#define ORDERLY_BASE_RAND_H

#include <stdint.h>

static inline double orderly__rand01(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

#endif
