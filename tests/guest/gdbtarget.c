/*
 * gdbtarget.c — the kernel tests/gdb/guest.gdb debugs (make check-gdb):
 * a loop that calls tick() with 1 to 5, each call writing `watched`,
 * then a report of `poked`, which the debugger sets while the guest is
 * stopped. Alone (make check-guest) it runs through and says it was not
 * poked; under gdb the script breaks at tick, steps, watches `watched`
 * and writes `poked`, and the output shows that the guest saw it.
 */
#include "lib/guest.h"

#define POKE_MAGIC 0x1234abcdu

volatile uint32_t watched;
volatile uint32_t poked;

/* noinline: gdb breaks at it by its symbol. */
__attribute__((noinline)) void tick(uint32_t i)
{
    watched = i;
}

void test_main(void)
{
    for (uint32_t i = 1; i <= 5; i++)
        tick(i);
    if (watched != 5)
        printf("FAIL: watched = %u\n", watched);
    if (poked == POKE_MAGIC)
        puts("gdbtarget: poked by the debugger\n");
    else
        printf("gdbtarget: not poked (%x)\n", poked);
}
