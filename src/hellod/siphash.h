/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash for tables indexed by client addresses. */
#ifndef HELLOD_SIPHASH_H
#define HELLOD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * SipHash-2-4 of len bytes under the 16-byte key k: what a flood cannot
 * aim at one bucket without the key.  libbsd has no keyed hash.
 */
uint64_t siphash24(const uint8_t k[16], const uint8_t *in, size_t len);

#endif
