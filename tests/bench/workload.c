/*
 * tests/bench/workload.c — the loop-heavy work `make bench` times. The same
 * source runs as a Glass guest, as a QEMU guest and natively on the host,
 * so the three times compare the engines, not the programs. No libc: it is
 * built freestanding for the guest.
 *
 * The mix is what an OS kernel and its programs spend time on: array
 * loops (sieve), byte-wise table-free bit twiddling (CRC-32), calls and
 * returns (recursive Fibonacci), data-dependent branches (insertion sort)
 * and byte copies.
 */
#include "tests/bench/workload.h"

#define SIEVE_SIZE 8192
#define SORT_SIZE 256
#define COPY_SIZE 4096

static unsigned char sieve_flags[SIEVE_SIZE];
static unsigned sort_buf[SORT_SIZE];
static unsigned char copy_a[COPY_SIZE], copy_b[COPY_SIZE];

static unsigned sieve(void)
{
    unsigned count = 0;
    for (unsigned i = 0; i < SIEVE_SIZE; i++)
        sieve_flags[i] = 1;
    for (unsigned i = 2; i < SIEVE_SIZE; i++) {
        if (!sieve_flags[i])
            continue;
        count++;
        for (unsigned k = i + i; k < SIEVE_SIZE; k += i)
            sieve_flags[k] = 0;
    }
    return count;
}

static unsigned crc32(const unsigned char *p, unsigned n)
{
    unsigned crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static unsigned fib(unsigned n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned sort(unsigned seed)
{
    for (unsigned i = 0; i < SORT_SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        sort_buf[i] = seed >> 8;
    }
    for (unsigned i = 1; i < SORT_SIZE; i++) {
        unsigned v = sort_buf[i], j = i;
        while (j > 0 && sort_buf[j - 1] > v) {
            sort_buf[j] = sort_buf[j - 1];
            j--;
        }
        sort_buf[j] = v;
    }
    return sort_buf[SORT_SIZE / 2];
}

static unsigned copy(unsigned round)
{
    for (unsigned i = 0; i < COPY_SIZE; i++)
        copy_a[i] = (unsigned char)(i * 7 + round);
    /* volatile: keep the byte loop a loop (not a call to memcpy). */
    for (unsigned i = 0; i < COPY_SIZE; i++)
        ((volatile unsigned char *)copy_b)[i] = copy_a[i];
    return crc32(copy_b, 64);
}

unsigned workload(unsigned rounds)
{
    unsigned sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        sum += sieve();
        sum ^= crc32(sieve_flags, 1024);
        sum += fib(18);
        sum ^= sort(r);
        sum += copy(r);
    }
    return sum;
}
