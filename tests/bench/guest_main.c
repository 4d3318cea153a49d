/*
 * tests/bench/guest_main.c — the workloads as a multiboot kernel (entry,
 * GDT/IDT and output from tests/guest/lib), run under Glass and QEMU. The
 * multiboot command line picks the work: "work=NAME rounds=N" (rounds
 * default to the workload's own). The kernel prints
 *   bench NAME: N rounds, checksum XXXXXXXX
 * to port 0xE9 and exits through port 0xF4.
 *
 * Every workload runs as a program under an OS would: with 4 KiB paging on
 * (identity-mapped, so the addresses the code uses do not change) and with
 * the FPU enabled.
 */
#include "lib/guest.h"
#include "tests/bench/workload.h"

/* What the page tables map: all of the -m 64 the runner gives, which holds
 * the kernel and its 25 MiB of arrays. */
#define MAPPED_MIB 64
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_tables[MAPPED_MIB / 4][1024] __attribute__((aligned(4096)));

static uint8_t code_page[BENCH_CODE_SIZE] __attribute__((aligned(4096)));

void *bench_code_buffer(void)
{
    /* A page of its own in .bss: without PAE there is no NX bit, so data
     * pages are executable; the kernel's code is elsewhere, so only the
     * workload's own function is on the page it rewrites. */
    return code_page;
}

/* Present, writable, supervisor, 4 KiB pages (no PSE): the memory workload
 * needs one TLB entry per page it touches. */
static void paging_on(void)
{
    for (uint32_t t = 0; t < MAPPED_MIB / 4; t++) {
        for (uint32_t i = 0; i < 1024; i++)
            page_tables[t][i] = ((t << 22) | (i << 12)) | 0x3;
        page_dir[t] = (uint32_t)page_tables[t] | 0x3;
    }
    write_cr3((uint32_t)page_dir);
    write_cr0(read_cr0() | 0x80000000u);
}

/* CR0: MP and NE on, EM and TS off, as an OS that uses the FPU sets it;
 * then 53-bit precision (control word 0x027F: all exceptions masked, round
 * to nearest), so every x87 operation rounds to double as the host's SSE2
 * does and the checksums agree. */
static void fpu_on(void)
{
    write_cr0((read_cr0() | 0x22) & ~0xcu);
    uint16_t cw = 0x027f;
    __asm__ volatile("fninit\n fldcw %0" : : "m"(cw));
}

/* The value of `key` (e.g. "work=") on the command line, copied into buf;
 * 0 if absent. */
static const char *cmdline_value(const char *cmd, const char *key, char *buf, unsigned size)
{
    for (const char *p = cmd; *p; p++) {
        if (p != cmd && p[-1] != ' ')
            continue;
        const char *k = key, *q = p;
        while (*k && *q == *k)
            k++, q++;
        if (*k)
            continue;
        unsigned n = 0;
        while (*q && *q != ' ' && n + 1 < size)
            buf[n++] = *q++;
        buf[n] = 0;
        return buf;
    }
    return 0;
}

void test_main(void)
{
    const uint32_t *info = (const uint32_t *)multiboot_info_addr;
    const char *cmd = info && (info[0] & (1u << 2)) ? (const char *)info[4] : "";
    char name[32], num[16];
    if (!cmdline_value(cmd, "work=", name, sizeof(name))) {
        printf("bench: no work=NAME on the command line\n");
        guest_exit(2);
    }
    const struct workload *w = workload_find(name);
    if (!w) {
        printf("bench: unknown workload %s\n", name);
        guest_exit(2);
    }
    unsigned rounds = w->rounds;
    if (cmdline_value(cmd, "rounds=", num, sizeof(num))) {
        rounds = 0;
        for (const char *p = num; *p >= '0' && *p <= '9'; p++)
            rounds = rounds * 10 + (unsigned)(*p - '0');
    }
    fpu_on();
    paging_on();
    uint32_t sum = w->run(rounds);
    printf("bench %s: %u rounds, checksum %x\n", w->name, rounds, sum);
}
