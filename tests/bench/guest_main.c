/*
 * tests/bench/guest_main.c — the benchmark as a multiboot kernel (uses
 * tests/guest/lib for its entry): runs the workload, prints the checksum
 * to port 0xE9, exits through port 0xF4. The number of rounds comes from
 * the multiboot command line ("rounds=N"), so one image serves every run.
 */
#include "lib/guest.h"
#include "tests/bench/workload.h"

static unsigned parse_rounds(void)
{
    const uint32_t *info = (const uint32_t *)multiboot_info_addr;
    unsigned rounds = 20;
    if (!info || !(info[0] & (1u << 2)))
        return rounds;
    const char *cmd = (const char *)info[4];
    for (const char *p = cmd; *p; p++) {
        if (p[0] == 'r' && p[1] == 'o' && p[2] == 'u' && p[3] == 'n' && p[4] == 'd' &&
            p[5] == 's' && p[6] == '=') {
            rounds = 0;
            for (p += 7; *p >= '0' && *p <= '9'; p++)
                rounds = rounds * 10 + (unsigned)(*p - '0');
            break;
        }
    }
    return rounds;
}

void test_main(void)
{
    unsigned rounds = parse_rounds();
    printf("bench: %u rounds, checksum %x\n", rounds, workload(rounds));
}
