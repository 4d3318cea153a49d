/*
 * pit61.c — 8254 channel 2 behind port 61h (PC/AT "Port B"), the way
 * Linux's TSC calibration (pit_calibrate_tsc, pit_hpet_ptimer_calibrate)
 * and BIOS delay loops use it: the gate (bit 0), OUT2 read at bit 5,
 * the refresh toggle at bit 4, mode 0 and mode 3 on channel 2, the
 * read-back command (8254 datasheet, "Read-Back Command").
 */
#include "lib/guest.h"

#define SPIN_MAX 50000000u

static uint16_t ch2_count(void)
{
    outb(0x43, 0x80); /* counter latch, channel 2 */
    uint16_t c = inb(0x42);
    return (uint16_t)(c | inb(0x42) << 8);
}

static uint8_t ch2_status(void)
{
    outb(0x43, 0xe8); /* read-back: status only, channel 2 */
    return inb(0x42);
}

static void test_refresh(void)
{
    /* Bit 4 toggles every 15 us (the DRAM refresh request). */
    uint8_t first = inb(0x61) & 0x10;
    unsigned n = 0;
    while ((inb(0x61) & 0x10) == first && ++n < SPIN_MAX)
        ;
    CHECK(n < SPIN_MAX);
    puts("pit61: refresh toggle ok\n");
}

static void test_oneshot(void)
{
    /* Linux: gate high, speaker off, channel 2 mode 0, 10 ms. */
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb0); /* channel 2, LSB then MSB, mode 0, binary */
    CHECK_EQ(ch2_status() & 0xbf, 0x30); /* OUT low after the control word; mode 0 */
    outb(0x42, 11932 & 0xff);
    outb(0x42, 11932 >> 8);
    CHECK_EQ(inb(0x61) & 0x20, 0); /* counting: OUT2 low */
    uint16_t a = ch2_count();
    unsigned n = 0;
    while (!(inb(0x61) & 0x20) && ++n < SPIN_MAX)
        ;
    CHECK(n < SPIN_MAX);      /* terminal count: OUT2 high */
    CHECK(a <= 11932);
    CHECK(ch2_status() & 0x80); /* the read-back status shows OUT too */

#ifndef QEMU_VALIDATE
    /* Gate low: the count holds (8254 datasheet, mode 0: "GATE = 1
     * enables counting; GATE = 0 disables counting"). QEMU leaves mode 0
     * and 4 counting whatever the gate. */
    outb(0x43, 0xb0);
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    outb(0x61, (uint8_t)(inb(0x61) & ~0x03));
    uint16_t h1 = ch2_count();
    for (volatile int i = 0; i < 200000; i++)
        ;
    uint16_t h2 = ch2_count();
    CHECK_EQ(h1, h2);
    /* Gate high again: it counts on (mode 0 resumes, 8254 table "Gate
     * pin operations"). */
    outb(0x61, (uint8_t)(inb(0x61) | 0x01));
    n = 0;
    while (ch2_count() == h2 && ++n < SPIN_MAX)
        ;
    CHECK(n < SPIN_MAX);
    CHECK(ch2_count() < h2);
#endif
    puts("pit61: channel 2 one-shot and gate ok\n");
}

static void test_square(void)
{
    /* Mode 3 (the speaker's square wave) at ~1 kHz: OUT2 toggles. */
    outb(0x43, 0xb6);
    outb(0x42, 1193 & 0xff);
    outb(0x42, 1193 >> 8);
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    unsigned seen[2] = { 0, 0 };
    for (unsigned n = 0; n < SPIN_MAX && (seen[0] < 3 || seen[1] < 3); n++) {
        unsigned v = (inb(0x61) >> 5) & 1;
        static unsigned last = 2;
        if (v != last) {
            seen[v]++;
            last = v;
        }
    }
    CHECK(seen[0] >= 3 && seen[1] >= 3);
    outb(0x61, (uint8_t)(inb(0x61) & ~0x03));
    puts("pit61: channel 2 square wave ok\n");
}

/* Linux's quick TSC calibration: gate high, channel 2 mode 0, FFFFh,
 * one read-back of the counter as the delay for the load, then the MSB
 * must read FFh. The 8254 loads a count on the next CLK pulse (838 ns);
 * a PC's ISA OUT outlasts that, and so must Glass's. The counter runs
 * from 8000h before each try, so old contents show as MSB 7Fh. */
static void test_load_before_next_access(void)
{
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    for (int i = 0; i < 200; i++) {
        outb(0x43, 0xb0);
        outb(0x42, 0x00);
        outb(0x42, 0x80);
        for (volatile int k = 0; k < 200; k++)
            ;
        outb(0x43, 0xb0);
        outb(0x42, 0xff);
        outb(0x42, 0xff);
        inb(0x42); /* the delay read, as Linux does it */
        inb(0x42);
        inb(0x42);
        uint8_t msb = inb(0x42);
        if (msb != 0xff) {
            printf("pit61: try %u: MSB %x right after writing FFFFh\n", (unsigned)i, msb);
            CHECK_EQ(msb, 0xff);
        }
    }
    outb(0x61, (uint8_t)(inb(0x61) & ~0x03));
    puts("pit61: a count is loaded before the next access\n");
}

void test_main(void)
{
    test_refresh();
    test_oneshot();
    test_square();
    test_load_before_next_access();
}
