/*
 * tests/bench/workload.c — the workloads `make bench` times, one function per
 * kind of code an emulator may be good or bad at. The same source runs as a
 * Glass guest, as a QEMU guest and natively on the host (see workload.h), so
 * no libc: only what freestanding gcc gives (stdint.h, builtins that become
 * instructions).
 *
 * Rules that keep the checksums equal between the 32-bit guest and the
 * 64-bit host build: only fixed-width integer types in the results, arrays of
 * 32-bit indices instead of pointers (same memory footprint too), and double
 * arithmetic that rounds the same way (the guest sets the x87 to 53-bit
 * precision; values stay far from overflow and underflow).
 *
 * Every round is the same amount of work; a workload's pseudo-random data
 * comes from its own generator, so every run of it computes the same thing.
 */
#include "tests/bench/workload.h"

#include <stddef.h>

/* Numerical Recipes' LCG: the full 2^32 period, cheap everywhere. */
static inline uint32_t lcg(uint32_t x)
{
    return x * 1664525u + 1013904223u;
}

static inline uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << (n & 31)) | (x >> ((32 - n) & 31));
}

/* Folds a value into a running checksum (order matters, so a result in the
 * wrong place shows). */
static inline uint32_t mix(uint32_t sum, uint32_t v)
{
    return (rotl(sum, 5) ^ v) * 0x9e3779b1u;
}

/* ------------------------------------------------------------- integer */

/* Integer arithmetic: multiply, unsigned and signed divide and remainder,
 * shifts and rotates on values no compiler can precompute. */
static uint32_t w_integer(unsigned rounds)
{
    uint32_t x = 0x12345678u, acc = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < 50000; i++) {
            x = lcg(x);
            uint32_t d = (x >> 24) | 1;
            uint32_t q = x / d, m = x % d;
            int32_t s = (int32_t)(x ^ acc) / (int32_t)((x & 0xfff) + 3);
            acc += (q << (i & 7)) ^ (m * 40503u);
            acc = rotl(acc, 3) - (uint32_t)((int32_t)x >> (x & 15));
            acc ^= (uint32_t)s * 0x2545f491u;
        }
    }
    return acc;
}

/* ------------------------------------------------------------- branch */

#define BRANCH_BYTES 16384
static uint8_t branch_data[BRANCH_BYTES];

/* Data-dependent branches: a classifier over random bytes whose arms store
 * to different places, so that compilers keep real branches (not CMOV) and
 * a predictor can only guess. */
static uint32_t w_branch(unsigned rounds)
{
    uint32_t hist_hi[16] = { 0 }, hist_mid[8] = { 0 };
    uint32_t s = 1, seed = 0xb5ad4eceu;
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < BRANCH_BYTES; i++) {
            seed = lcg(seed);
            branch_data[i] = (uint8_t)(seed >> 24);
        }
        for (unsigned pass = 0; pass < 4; pass++) {
            for (unsigned i = 0; i < BRANCH_BYTES; i++) {
                uint32_t b = branch_data[i] ^ (pass * 0x35u);
                if (b & 0x80) {
                    hist_hi[b & 15]++;
                    if (b & 0x40)
                        s += b * 3;
                    else
                        s ^= b << 5;
                } else if (b & 0x20) {
                    hist_mid[b & 7] += s & 0xff;
                } else if (b & 0x10) {
                    branch_data[i] = (uint8_t)(b + s);
                } else {
                    s = (s << 1) | (b & 1);
                    if (s & 0x100000)
                        s ^= 0x8005;
                }
            }
        }
    }
    for (unsigned i = 0; i < 16; i++)
        s = mix(s, hist_hi[i]);
    for (unsigned i = 0; i < 8; i++)
        s = mix(s, hist_mid[i]);
    return s;
}

/* ------------------------------------------------------------- indirect */

/* A little register machine run by a switch (a jump table), the way
 * bytecode interpreters spend their time, then calls through a table of
 * function pointers picked by data. */
enum vm_op {
    VM_LI,   /* r[a] = imm */
    VM_ADD,  /* r[a] += r[b] */
    VM_SUB,  /* r[a] -= r[b] */
    VM_MUL,  /* r[a] *= r[b] */
    VM_XOR,  /* r[a] ^= r[b] */
    VM_AND,  /* r[a] &= r[b] */
    VM_SHL,  /* r[a] <<= imm */
    VM_SHR,  /* r[a] >>= imm */
    VM_ADDI, /* r[a] += imm */
    VM_MOV,  /* r[a] = r[b] */
    VM_JNZ,  /* if r[a] goto imm */
    VM_JZ,   /* if !r[a] goto imm */
    VM_LOAD, /* r[a] = mem[r[b] & 63] */
    VM_STORE,/* mem[r[b] & 63] = r[a] */
    VM_ROL,  /* r[a] = rotl(r[a], imm) */
    VM_HALT,
};

struct vm_insn {
    uint8_t op, a, b, imm;
};

/* r0 counts down from 255 * 4 + 3 (r0 = 0xff << 2 | 3); r1 and r2 hash;
 * mem is a 64-word ring. About 14 dispatches per iteration. */
static const struct vm_insn vm_prog[] = {
    { VM_LI, 0, 0, 0xff },   /* 0 */
    { VM_SHL, 0, 0, 2 },     /* 1 */
    { VM_ADDI, 0, 0, 3 },    /* 2 */
    { VM_LI, 3, 0, 1 },      /* 3: r3 = 1 */
    { VM_MOV, 4, 1, 0 },     /* 4: loop: r4 = r1 */
    { VM_SHR, 4, 0, 7 },     /* 5 */
    { VM_XOR, 1, 4, 0 },     /* 6 */
    { VM_ADD, 1, 0, 0 },     /* 7 */
    { VM_LOAD, 5, 1, 0 },    /* 8 */
    { VM_ADD, 2, 5, 0 },     /* 9 */
    { VM_ROL, 2, 0, 9 },     /* 10 */
    { VM_MUL, 1, 6, 0 },     /* 11: r6 holds an odd multiplier */
    { VM_STORE, 2, 0, 0 },   /* 12 */
    { VM_AND, 4, 3, 0 },     /* 13 */
    { VM_JZ, 4, 0, 16 },     /* 14 */
    { VM_SUB, 2, 1, 0 },     /* 15 */
    { VM_ADDI, 1, 0, 1 },    /* 16 */
    { VM_SUB, 0, 3, 0 },     /* 17 */
    { VM_JNZ, 0, 0, 4 },     /* 18 */
    { VM_HALT, 0, 0, 0 },    /* 19 */
};

static uint32_t vm_run(const struct vm_insn *prog, uint32_t *r, uint32_t *mem)
{
    unsigned pc = 0;
    for (;;) {
        const struct vm_insn *in = &prog[pc++];
        switch (in->op) {
        case VM_LI: r[in->a] = in->imm; break;
        case VM_ADD: r[in->a] += r[in->b]; break;
        case VM_SUB: r[in->a] -= r[in->b]; break;
        case VM_MUL: r[in->a] *= r[in->b]; break;
        case VM_XOR: r[in->a] ^= r[in->b]; break;
        case VM_AND: r[in->a] &= r[in->b]; break;
        case VM_SHL: r[in->a] <<= in->imm; break;
        case VM_SHR: r[in->a] >>= in->imm; break;
        case VM_ADDI: r[in->a] += in->imm; break;
        case VM_MOV: r[in->a] = r[in->b]; break;
        case VM_JNZ: if (r[in->a]) pc = in->imm; break;
        case VM_JZ: if (!r[in->a]) pc = in->imm; break;
        case VM_LOAD: r[in->a] = mem[r[in->b] & 63]; break;
        case VM_STORE: mem[r[in->b] & 63] = r[in->a]; break;
        case VM_ROL: r[in->a] = rotl(r[in->a], in->imm); break;
        case VM_HALT: return r[1] ^ r[2];
        }
    }
}

/* noinline: each must stay a real call target. */
__attribute__((noinline)) static uint32_t fp_a(uint32_t x) { return x * 3 + 1; }
__attribute__((noinline)) static uint32_t fp_b(uint32_t x) { return x ^ (x >> 3); }
__attribute__((noinline)) static uint32_t fp_c(uint32_t x) { return rotl(x, 11) + 7; }
__attribute__((noinline)) static uint32_t fp_d(uint32_t x) { return x - (x << 2); }
__attribute__((noinline)) static uint32_t fp_e(uint32_t x) { return ~x + 0x1234; }
__attribute__((noinline)) static uint32_t fp_f(uint32_t x) { return x * 0x01000193u; }
__attribute__((noinline)) static uint32_t fp_g(uint32_t x) { return (x >> 16) | (x << 16); }
__attribute__((noinline)) static uint32_t fp_h(uint32_t x) { return x + (x >> 7) + 99; }

static uint32_t (*const fp_table[8])(uint32_t) = {
    fp_a, fp_b, fp_c, fp_d, fp_e, fp_f, fp_g, fp_h,
};

static uint32_t w_indirect(unsigned rounds)
{
    uint32_t r[8] = { 0 }, mem[64] = { 0 }, sum = 0, x = 0x2468aceu;
    r[6] = 0x01000193u;
    for (unsigned round = 0; round < rounds; round++) {
        r[1] = round;
        sum = mix(sum, vm_run(vm_prog, r, mem));
        for (unsigned i = 0; i < 4000; i++) {
            x = fp_table[(x >> 13) & 7](x) + i;
            sum += x;
        }
    }
    return sum;
}

/* ------------------------------------------------------------- call */

/* Calls and returns: naive Fibonacci and Takeuchi's function. noinline (and
 * noclone) keep each level a real call in both builds. */
__attribute__((noinline, noclone)) static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline, noclone)) static int32_t tak(int32_t x, int32_t y, int32_t z)
{
    if (y >= x)
        return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

static uint32_t w_call(unsigned rounds)
{
    uint32_t sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        sum = mix(sum, fib(20 + (r & 1)));
        sum = mix(sum, (uint32_t)tak(14 + (int32_t)(r & 1), 8, 2));
    }
    return sum;
}

/* ------------------------------------------------------------- memory */

/* 16 MiB: 4096 pages of 4 KiB, far more than a 256-entry TLB (or a host's
 * first-level data TLB) maps. */
#define MEM_WORDS (4u << 20)
/* An odd stride of a little over a page (4124 bytes): every access is on
 * another page and another cache line, and the walk visits every word of
 * the array before repeating. */
#define MEM_STRIDE 1031u
static uint32_t mem_array[MEM_WORDS];

static uint32_t w_memory(unsigned rounds)
{
    uint32_t idx = 0, sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (uint32_t k = 0; k < 65536; k++) {
            uint32_t v = mem_array[idx] + k;
            mem_array[idx] = v;
            sum += v;
            idx = (idx + MEM_STRIDE) & (MEM_WORDS - 1);
        }
    }
    for (uint32_t i = 0; i < MEM_WORDS; i += MEM_WORDS / 8 + 1)
        sum = mix(sum, mem_array[i]);
    return sum;
}

/* ------------------------------------------------------------- chase */

/* A random single-cycle linked list of 1M nodes (8 MiB): each load's
 * address depends on the one before. Indices, not pointers, so the 32-bit
 * and 64-bit builds have the same node size. */
#define CHASE_NODES (1u << 20)
struct chase_node {
    uint32_t next, val;
};
static struct chase_node chase_nodes[CHASE_NODES];

/* Sattolo's shuffle makes one cycle through every node. */
static void chase_build(void)
{
    uint32_t seed = 0x1badf00du;
    for (uint32_t i = 0; i < CHASE_NODES; i++) {
        chase_nodes[i].next = i;
        chase_nodes[i].val = i * 2654435761u;
    }
    for (uint32_t i = CHASE_NODES - 1; i > 0; i--) {
        seed = lcg(seed);
        uint32_t j = (seed >> 8) % i;
        uint32_t t = chase_nodes[i].next;
        chase_nodes[i].next = chase_nodes[j].next;
        chase_nodes[j].next = t;
    }
}

static uint32_t w_chase(unsigned rounds)
{
    if (!rounds)
        return 0;
    chase_build();
    uint32_t i = 0, sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (uint32_t k = 0; k < CHASE_NODES; k++) {
            sum += chase_nodes[i].val;
            i = chase_nodes[i].next;
        }
        sum = mix(sum, i);
    }
    return sum;
}

/* ------------------------------------------------------------- sort */

#define SORT_N 20000
static uint32_t sort_buf[SORT_N];

static void insertion_sort(uint32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Quicksort with a median-of-three pivot; short ranges by insertion. */
static void quicksort(uint32_t *a, int n)
{
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* Recurse into the smaller side, loop on the larger. */
        if (j + 1 < n - j - 1) {
            quicksort(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            quicksort(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion_sort(a, n);
}

static uint32_t w_sort(unsigned rounds)
{
    uint32_t seed = 42, sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < SORT_N; i++) {
            seed = lcg(seed);
            sort_buf[i] = seed >> 4;
        }
        quicksort(sort_buf, SORT_N);
        uint32_t unsorted = 0;
        for (unsigned i = 1; i < SORT_N; i++)
            unsorted += sort_buf[i - 1] > sort_buf[i];
        sum = mix(sum, sort_buf[r % SORT_N] + sort_buf[SORT_N / 2] + unsorted);
    }
    return sum;
}

/* ------------------------------------------------------------- x87 */

static uint32_t double_bits(double d)
{
    union {
        double d;
        uint32_t w[2];
    } u = { .d = d };
    return u.w[0] ^ u.w[1];
}

/* Double arithmetic: the Mandelbrot set on a small grid (multiply, add,
 * compare) and a damped spring-mass system (divide, square root). The
 * guest build uses the x87 (-mfpmath=387), the host's SSE2; both round
 * every operation to double. */
static uint32_t w_x87(unsigned rounds)
{
    uint32_t sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        double shift = (double)(r & 7) * 0.01;
        uint32_t iters = 0;
        for (int py = 0; py < 24; py++) {
            for (int px = 0; px < 32; px++) {
                double cr = -2.0 + shift + px * (2.6 / 32), ci = -1.2 + py * (2.4 / 24);
                double zr = 0, zi = 0;
                int n = 0;
                while (n < 64 && zr * zr + zi * zi <= 4.0) {
                    double t = zr * zr - zi * zi + cr;
                    zi = 2.0 * zr * zi + ci;
                    zr = t;
                    n++;
                }
                iters += (uint32_t)n;
            }
        }
        double x = 1.0 + shift, v = 0.0, e = 0.0;
        for (int i = 0; i < 400; i++) {
            double a = -x / (1.0 + 0.25 * x * x) - 0.05 * v;
            v += a * 0.01;
            x += v * 0.01;
            e += __builtin_sqrt(x * x + v * v + 1.0);
        }
        sum = mix(sum, iters);
        sum = mix(sum, double_bits(x));
        sum = mix(sum, double_bits(e));
        sum = mix(sum, (uint32_t)(int32_t)(e * 1000.0));
    }
    return sum;
}

/* ------------------------------------------------------------- string */

/* REP string instructions, as memcpy and memset implementations use them.
 * The same AT&T mnemonics work in both builds (RSI/RDI/RCX on the host). */
static inline void rep_movsd(void *dst, const void *src, size_t dwords)
{
    __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(dwords) : : "memory");
}
static inline void rep_movsb(void *dst, const void *src, size_t bytes)
{
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(bytes) : : "memory");
}
static inline void rep_stosd(void *dst, uint32_t v, size_t dwords)
{
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(dwords) : "a"(v) : "memory");
}

#define STR_BYTES 65536
static uint8_t str_src[STR_BYTES] __attribute__((aligned(64)));
static uint8_t str_dst[STR_BYTES] __attribute__((aligned(64)));

static uint32_t w_string(unsigned rounds)
{
    uint32_t sum = 0;
    rep_stosd(str_src, 0x5a5a5a5au, STR_BYTES / 4);
    for (unsigned i = 0; i < STR_BYTES; i += 61)
        str_src[i] = (uint8_t)i;
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned k = 0; k < 8; k++) {
            rep_stosd(str_dst, r * 0x01010101u + k, STR_BYTES / 16);
            rep_movsd(str_dst + 4096, str_src, (STR_BYTES - 4096) / 4);
            /* Unaligned byte copies of odd lengths, both ways. */
            unsigned off = (r + k) & 7, len = 3000 + ((r * 7 + k * 13) & 1023);
            rep_movsb(str_dst + 1 + off, str_src + 3 + k, len);
            rep_movsb(str_src + 40000 + off, str_dst + 17, len);
            sum = mix(sum, *(const uint32_t *)(str_dst + ((r * 4096 + k * 64) & (STR_BYTES - 4))));
        }
    }
    for (unsigned i = 0; i < STR_BYTES; i += 4)
        sum += *(const uint32_t *)(str_dst + i) ^ *(const uint32_t *)(str_src + i);
    return sum;
}

/* ------------------------------------------------------------- smc */

/* Self-modifying code: a small function is written into a buffer, called,
 * one of its immediates rewritten, called again, over and over. Every
 * rewrite invalidates what an emulator translated from that page. The
 * encodings mean the same in 32- and 64-bit mode:
 *   B8 imm32      mov eax, imm32
 *   05 imm32      add eax, imm32
 *   35 imm32      xor eax, imm32
 *   C1 C0 07      rol eax, 7
 *   C3            ret
 */
static const uint8_t smc_template[] = {
    0xb8, 0, 0, 0, 0,
    0x05, 0, 0, 0, 0,
    0x35, 0x5a, 0xa5, 0x3c, 0xc3,
    0xc1, 0xc0, 0x07,
    0xc3,
};
#define SMC_MOV_IMM 1
#define SMC_ADD_IMM 6

static void smc_put32(volatile uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t w_smc(unsigned rounds)
{
    volatile uint8_t *code = bench_code_buffer();
    for (unsigned i = 0; i < sizeof(smc_template); i++)
        code[i] = smc_template[i];
    uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)code;
    uint32_t sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < 200; i++) {
            smc_put32(code + SMC_MOV_IMM, sum);
            /* Most calls rewrite one immediate; every 8th runs unchanged
             * code again, which must not need a new translation. */
            if (i & 7)
                smc_put32(code + SMC_ADD_IMM, r * 1000 + i);
            __asm__ volatile("" : : : "memory");
            sum = fn() + i;
        }
    }
    return sum;
}

/* ------------------------------------------------------------- table */

static uint32_t w_none(unsigned rounds)
{
    (void)rounds;
    return 0;
}

const struct workload workloads[] = {
    { "integer", 800, "50000 steps of integer multiply, divide, shift and rotate", w_integer },
    { "branch", 400, "4 passes of a byte classifier over 16 KiB of random bytes", w_branch },
    { "indirect", 800, "a switch-dispatch VM program, 4000 function-pointer calls", w_indirect },
    { "call", 300, "recursive fib(20 or 21) and tak(14 or 15, 8, 2)", w_call },
    { "memory", 60, "65536 updates of a 16 MiB array, a page and a line apart", w_memory },
    { "chase", 3, "a walk of a random linked list of 1M nodes (8 MiB)", w_chase },
    { "sort", 200, "quicksort of 20000 random ints", w_sort },
    { "x87", 150, "x87 doubles: 32x24 Mandelbrot, 400 steps with div and sqrt", w_x87 },
    { "string", 10000, "8 times REP STOSD 16 KiB, MOVSD 60 KiB, 2 MOVSB ~3.5 KiB", w_string },
    { "smc", 1000, "200 rewrites of a function's immediates, each then called", w_smc },
    { "none", 0, "start-up baseline: no work", w_none },
};
const unsigned workload_count = sizeof(workloads) / sizeof(workloads[0]);

const struct workload *workload_find(const char *name)
{
    for (unsigned i = 0; i < workload_count; i++) {
        const char *a = workloads[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (!*a && !*b)
            return &workloads[i];
    }
    return 0;
}
