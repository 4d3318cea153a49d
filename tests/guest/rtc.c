/*
 * rtc.c — the MC146818A real-time clock and CMOS RAM from inside a guest,
 * the way a PC BIOS and Linux's drivers/rtc and arch/x86 mach_get_cmos_time
 * use it: time and date in BCD with the century at 0x32, the update-in-
 * progress protocol, the SET bit, the periodic interrupt on IRQ 8 through
 * the slave 8259A, register C's read-to-clear flags, and the memory-size
 * bytes a BIOS keeps in CMOS.
 */
#include "lib/guest.h"

/* Register numbers and bits (MC146818A datasheet, "Address map" and the
 * register A-D descriptions). */
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_UIE 0x10
#define B_DM 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_UF 0x10
#define D_VRT 0x80

/* Bounded polls: a register read costs well under a microsecond in Glass
 * and in QEMU, so this is many seconds. */
#define SPIN_MAX 200000000u

static volatile unsigned rtc_ticks, pit_ticks; /* counted by on_irq */
static volatile unsigned bad_c;

static uint8_t cmos_read(uint8_t idx)
{
    outb(0x70, idx); /* bit 7 clear: NMI stays enabled, as Linux leaves it */
    return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

static int bcd_ok(uint8_t v)
{
    return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

/*
 * Waits with interrupts on until *count reaches `want` or `limit` of the
 * clock's seconds have gone by. Bounded by the clock, not by a number of
 * loop turns: how long a spin lasts depends on the engine (the JIT turns
 * a loop of this kind hundreds of millions of times a second). Reading
 * the seconds register with interrupts off keeps a handler's own CMOS
 * accesses from changing the index in between. Returns with interrupts
 * off.
 *
 * The window: STI holds interrupts off until the instruction after it
 * has run (SDM Vol. 2, STI), so NOP; interrupts are taken before the JMP
 * or the CLI. The JMP is for emulators that look for interrupts only
 * between their translated blocks: QEMU's TCG never took one in a plain
 * "sti; pause; cli" (uf_seen 0 after 6 s under make check-guest-qemu).
 */
static void wait_count(volatile unsigned *count, unsigned want, unsigned limit)
{
    unsigned last = cmos_read(0x00), seconds = 0;
    while (*count < want && seconds < limit) {
        __asm__ volatile("sti; nop; jmp 1f; 1: cli");
        unsigned s = cmos_read(0x00);
        if (s != last) {
            last = s;
            seconds++;
        }
    }
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0x0f);
}

/* Waits for the leading edge of UIP, then for its fall: an update cycle
 * has just finished and the time registers are stable for almost a second
 * (datasheet, "Update cycle": UIP rises 244 us before the update, which
 * takes at most 1984 us). */
static void wait_update_done(void)
{
    /* A poll may miss the short UIP pulse (a host may deschedule the
     * emulator for longer than 244 us): a changed seconds register also
     * means that an update went by. */
    uint8_t sec = cmos_read(0x00);
    unsigned n = 0;
    while (!(cmos_read(REG_A) & A_UIP) && ++n < SPIN_MAX)
        if (cmos_read(0x00) != sec && !(cmos_read(REG_A) & A_UIP))
            return;
    CHECK(n < SPIN_MAX); /* UIP rises once a second */
    n = 0;
    while ((cmos_read(REG_A) & A_UIP) && ++n < SPIN_MAX)
        ;
    CHECK(n < SPIN_MAX);
}

static void test_time(void)
{
    CHECK(cmos_read(REG_D) & D_VRT);                 /* the battery is good */
    CHECK_EQ(cmos_read(REG_B) & (B_DM | B_24H), B_24H); /* BCD, 24-hour */
    CHECK_EQ(cmos_read(REG_A) & 0x7f, 0x26); /* 32.768 kHz, 1024 Hz, as a BIOS sets it */
    wait_update_done();
    uint8_t sec = cmos_read(0x00), min = cmos_read(0x02), hour = cmos_read(0x04);
    uint8_t wday = cmos_read(0x06), mday = cmos_read(0x07), mon = cmos_read(0x08);
    uint8_t year = cmos_read(0x09), cent = cmos_read(0x32);
    printf("rtc: %u%u-%u-%u %u:%u:%u weekday %u\n", bcd(cent), bcd(year), bcd(mon), bcd(mday),
           bcd(hour), bcd(min), bcd(sec), bcd(wday));
    CHECK(bcd_ok(sec) && bcd(sec) < 60);
    CHECK(bcd_ok(min) && bcd(min) < 60);
    CHECK(bcd_ok(hour) && bcd(hour) < 24);
    CHECK(bcd_ok(wday) && bcd(wday) >= 1 && bcd(wday) <= 7);
    CHECK(bcd_ok(mday) && bcd(mday) >= 1 && bcd(mday) <= 31);
    CHECK(bcd_ok(mon) && bcd(mon) >= 1 && bcd(mon) <= 12);
    CHECK(bcd_ok(year) && bcd_ok(cent));
    CHECK(bcd(cent) * 100 + bcd(year) >= 2024);

    /* Right after an update, the next one is a second away: the seconds
     * register moves by exactly one across the next UIP pulse. */
    uint8_t s0 = cmos_read(0x00);
    wait_update_done();
    uint8_t s1 = cmos_read(0x00);
    CHECK_EQ(bcd(s1), (bcd(s0) + 1) % 60);
}

/* SET = 1 stops the update cycles so that the time can be written; the
 * clock runs on from the written time when SET goes back to 0 (datasheet,
 * register B bit 7). 2025-12-31 23:59:59, a Wednesday (4), rolls over to
 * 2026-01-01 00:00:00, a Thursday. */
static void test_set_and_rollover(void)
{
    uint8_t b = cmos_read(REG_B);
    cmos_write(REG_B, b | B_SET);
    CHECK_EQ(cmos_read(REG_A) & A_UIP, 0); /* SET clears UIP */
    cmos_write(0x00, 0x59);
    cmos_write(0x02, 0x59);
    cmos_write(0x04, 0x23);
    cmos_write(0x06, 0x04);
    cmos_write(0x07, 0x31);
    cmos_write(0x08, 0x12);
    cmos_write(0x09, 0x25);
    cmos_write(0x32, 0x20);
    /* While SET holds, no update happens: the seconds stay at 59 through
     * 1.2 s of the PIT (100 Hz since test_periodic). */
    pic_unmask(0);
    __asm__ volatile("sti");
    unsigned p0 = pit_ticks;
    while (pit_ticks - p0 < 120) {
        CHECK_EQ(cmos_read(REG_A) & A_UIP, 0);
        CHECK_EQ(cmos_read(0x00), 0x59);
    }
    __asm__ volatile("cli");
    pic_mask(0);
    cmos_write(REG_B, b & ~B_SET);
    wait_update_done();
    CHECK_EQ(cmos_read(0x00), 0x00);
    CHECK_EQ(cmos_read(0x02), 0x00);
    CHECK_EQ(cmos_read(0x04), 0x00);
    CHECK_EQ(cmos_read(0x06), 0x05);
    CHECK_EQ(cmos_read(0x07), 0x01);
    CHECK_EQ(cmos_read(0x08), 0x01);
    CHECK_EQ(cmos_read(0x09), 0x26);
    CHECK_EQ(cmos_read(0x32), 0x20);
    puts("rtc: SET and the year rollover ok\n");
}

/* Register C: reading it returns the flags and clears them all. */
static void test_reg_c(void)
{
    cmos_read(REG_C);
    wait_update_done();
    /* The update that just ended set UF (UIE is clear: no IRQF). */
    uint8_t c = cmos_read(REG_C);
    CHECK_EQ(c & (C_UF | C_IRQF), C_UF);
#ifndef QEMU_VALIDATE
    /* PF is set at the periodic rate whether PIE is set or not (datasheet,
     * register C bit 6: "PF ... is set to a 1 when an edge is detected on
     * the selected tap of the divider chain", independent of PIE). More
     * than 976 us went by since the read above. QEMU runs the periodic
     * timer only while PIE (or SQWE with a square-wave output) is set. */
    CHECK(c & C_PF);
#endif
    /* Read back to back, nothing new has happened. */
    CHECK_EQ(cmos_read(REG_C) & (C_UF | C_IRQF), 0);
    puts("rtc: register C ok\n");
}


/* PIT channel 0 runs mode 2 at 100 Hz as the time base. */
#define PIT_RELOAD 11932u
#define PIT_HZ 1193182u
#define MAX_SAMPLES 128

static volatile unsigned n_samples, want_samples;
static uint32_t stamps[MAX_SAMPLES + 1];

/* Now, in PIT input clocks, with interrupts off: the ticks counted so far
 * plus the part of the current period gone (a wrap not yet serviced shows
 * in the master's IRR). */
static uint32_t pit_now(void)
{
    outb(0x43, 0x00); /* latch channel 0 */
    uint32_t c = inb(0x40);
    c |= (uint32_t)inb(0x40) << 8;
    uint32_t t = pit_ticks;
    outb(0x20, 0x0a); /* OCW3: read IRR */
    if ((inb(0x20) & 1) && c > PIT_RELOAD / 2)
        t++;
    return t * PIT_RELOAD + (PIT_RELOAD - c);
}

static int on_irq(struct trapframe *tf)
{
    if (tf->vector == 0x28) {
        /* Linux's rtc_interrupt: read C to learn why and to release IRQ 8
         * (the next periodic interrupt needs the flag cleared). */
        uint8_t c = cmos_read(REG_C);
        if ((c & (C_IRQF | C_PF)) != (C_IRQF | C_PF))
            bad_c = c;
        rtc_ticks++;
        if (n_samples <= want_samples && n_samples <= MAX_SAMPLES)
            stamps[n_samples++] = pit_now();
        pic_eoi(8);
        return 1;
    }
    if (tf->vector == 0x20) {
        pit_ticks++;
        pic_eoi(0);
        return 1;
    }
    return 0;
}

static volatile unsigned pf_seen, uf_seen;
static unsigned pf_at_uf[3];

static int on_slow_irq(struct trapframe *tf)
{
    if (tf->vector != 0x28)
        return 0;
    uint8_t c = cmos_read(REG_C);
    if (c & C_PF)
        pf_seen++;
    if ((c & C_UF) && uf_seen < 3)
        pf_at_uf[uf_seen++] = pf_seen;
    pic_eoi(8);
    return 1;
}

/* The median interval between periodic interrupts, in PIT clocks, over
 * `count` intervals. The median, not the mean: the emulators' clocks
 * follow the host's, and a host that does not schedule them in time
 * makes them skip periodic ticks (the MC146818 keeps no backlog: PF is
 * one bit), which stretches a few intervals to two or more periods. */
static uint32_t median_interval(unsigned count)
{
    n_samples = 0;
    want_samples = count;
    unsigned p0 = pit_ticks;
    __asm__ volatile("sti");
    while (n_samples <= count && pit_ticks - p0 < 500) /* 5 s at most */
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    CHECK_EQ(n_samples, count + 1);
    uint32_t d[MAX_SAMPLES];
    for (unsigned i = 0; i < count; i++) {
        uint32_t v = stamps[i + 1] - stamps[i];
        unsigned j = i;
        for (; j > 0 && d[j - 1] > v; j--)
            d[j] = d[j - 1];
        d[j] = v;
    }
    return d[count / 2];
}

/* The periodic interrupt at 1024 Hz and at 8 Hz, timed with the 8254. */
static void test_periodic(void)
{
    trap_hook = on_irq;
    idt_set_stub(0x20, 0x8e, 0);
    idt_set_stub(0x28, 0x8e, 0);
    pic_remap();
    outb(0x43, 0x34); /* channel 0, LSB then MSB, mode 2 */
    outb(0x40, PIT_RELOAD & 0xff);
    outb(0x40, PIT_RELOAD >> 8);
    cmos_read(REG_C);
    cmos_write(REG_A, 0x26); /* rate 6: 1024 Hz */
    cmos_write(REG_B, (uint8_t)(cmos_read(REG_B) | B_PIE));
    pic_unmask(0);
    pic_unmask(8);
    uint32_t fast = median_interval(MAX_SAMPLES);
    /* 1024 Hz: 1165.2 PIT clocks; within 5 %. */
    printf("rtc: 1024 Hz periodic interrupt every %u PIT clocks (median)\n", fast);
    CHECK(fast >= PIT_HZ / 1024 * 95 / 100 && fast <= PIT_HZ / 1024 * 105 / 100);
    CHECK_EQ(bad_c, 0);

    /* PIE off: IRQ 8 stops. */
    cmos_write(REG_B, (uint8_t)(cmos_read(REG_B) & ~B_PIE));
    cmos_read(REG_C);
    __asm__ volatile("sti");
    unsigned r1 = rtc_ticks, p0 = pit_ticks;
    while (pit_ticks - p0 < 5)
        __asm__ volatile("hlt");
    __asm__ volatile("cli");
    CHECK(rtc_ticks - r1 <= 1);

    /* Rate 13, 8 Hz, timed by the clock's own once-a-second update
     * (UIE): 8 periodic flags per second. Long intervals against the PIT
     * would suffer from its dropped ticks on a loaded host. */
    cmos_write(REG_A, 0x2d);
    trap_hook = on_slow_irq;
    pic_mask(0);
    cmos_read(REG_C);
    cmos_write(REG_B, (uint8_t)(cmos_read(REG_B) | B_PIE | B_UIE));
    wait_count(&uf_seen, 3, 6);
    CHECK_EQ(uf_seen, 3);
    unsigned s1 = pf_at_uf[1] - pf_at_uf[0], s2 = pf_at_uf[2] - pf_at_uf[1];
    printf("rtc: 8 Hz periodic interrupt: %u and %u per second\n", s1, s2);
    CHECK(s1 >= 7 && s1 <= 9 && s2 >= 7 && s2 <= 9 && s1 + s2 >= 15 && s1 + s2 <= 17);
    trap_hook = on_irq;
    cmos_write(REG_B, (uint8_t)(cmos_read(REG_B) & ~B_UIE));
    cmos_write(REG_B, (uint8_t)(cmos_read(REG_B) & ~B_PIE));
    cmos_write(REG_A, 0x26);
    cmos_read(REG_C);
    pic_mask(0);
    pic_mask(8);
}

/* Memory size bytes (IBM PC/AT BIOS convention, as SeaBIOS reads them):
 * 0x30/0x31 KiB above 1 MiB (also at 0x17/0x18), 0x34/0x35 64 KiB blocks
 * above 16 MiB, and the standard checksum over 0x10-0x2D at 0x2E/0x2F. */
static void test_memory_bytes(void)
{
    const volatile uint32_t *mbi = (const volatile uint32_t *)multiboot_info_addr;
    CHECK(mbi[0] & 1); /* mem_lower / mem_upper present */
    uint32_t upper = mbi[2];
    uint32_t ext = cmos_read(0x30) | (uint32_t)cmos_read(0x31) << 8;
    uint32_t ext2 = cmos_read(0x17) | (uint32_t)cmos_read(0x18) << 8;
    uint32_t hi = cmos_read(0x34) | (uint32_t)cmos_read(0x35) << 8;
    printf("rtc: mem_upper %u KiB, CMOS 30h %u KiB, 34h %u x 64 KiB\n", upper, ext, hi);
#ifndef QEMU_VALIDATE
    /* Glass's loader reports all RAM above 1 MiB, as the CMOS does. */
    CHECK_EQ(ext, upper > 0xffff ? 0xffff : upper);
#else
    /* The multiboot specification (3.3, mem_upper) does not promise the
     * whole RAM: QEMU's loader leaves out the top 128 KiB SeaBIOS keeps
     * for itself, while the CMOS counts all of it. */
    CHECK(ext >= upper && ext - upper < 1024);
    upper = ext;
#endif
    CHECK_EQ(ext2, ext);
    uint32_t above16 = upper > 15 * 1024 ? (upper - 15 * 1024) / 64 : 0;
    CHECK_EQ(hi, above16);
    CHECK_EQ(cmos_read(0x15) | (uint32_t)cmos_read(0x16) << 8, 640);
#ifndef QEMU_VALIDATE
    /* IBM PC/AT Technical Reference, CMOS map: 0x2E/0x2F hold the sum of
     * 0x10-0x2D (big endian), which AT BIOSes check at POST. QEMU leaves
     * both bytes 0 (SeaBIOS never checks them). */
    uint32_t sum = 0;
    for (uint8_t i = 0x10; i <= 0x2d; i++)
        sum += cmos_read(i);
    CHECK_EQ((uint32_t)cmos_read(0x2e) << 8 | cmos_read(0x2f), sum & 0xffff);
#endif
    /* Plain CMOS RAM holds what is written (0x40-0x7F are free bytes). */
    cmos_write(0x7e, 0xa5);
    CHECK_EQ(cmos_read(0x7e), 0xa5);
    cmos_write(0x7e, 0x00);
}

static volatile unsigned uf_ticks, af_ticks;

static int on_update_irq(struct trapframe *tf)
{
    if (tf->vector != 0x28)
        return 0;
    uint8_t c = cmos_read(REG_C);
    if (c & C_UF)
        uf_ticks++;
    if (c & 0x20) /* AF */
        af_ticks++;
    /* IRQF is set exactly when an enabled flag is (UIE and AIE here:
     * datasheet, register C). An IRQ 8 that finds neither (the PIC had
     * latched an edge before the main code's read of C cleared it, as on
     * a real PC) proves nothing. */
    if ((c & (C_UF | 0x20)) && !(c & C_IRQF))
        bad_c = c;
    pic_eoi(8);
    return 1;
}

/* The update-ended interrupt (UIE), once a second, as hwclock waits for
 * it; then the alarm (AIE) with "don't care" minutes and hours (alarm
 * bytes 11xxxxxx, datasheet "Alarm"): it fires when the seconds match. */
static void test_update_and_alarm(void)
{
    trap_hook = on_update_irq;
    idt_set_stub(0x28, 0x8e, 0);
    pic_remap();
    cmos_read(REG_C);
    uint8_t b = cmos_read(REG_B);
    cmos_write(REG_B, (uint8_t)(b | B_UIE));
    pic_unmask(8);
    wait_count(&uf_ticks, 2, 5);
    CHECK_EQ(uf_ticks, 2);
    CHECK_EQ(af_ticks, 0);
    CHECK_EQ(bad_c, 0);
    cmos_write(REG_B, b);
    cmos_read(REG_C);

    wait_update_done();
    unsigned sec = bcd(cmos_read(0x00));
    uint8_t when = (uint8_t)(((sec + 2) % 60 / 10) << 4 | (sec + 2) % 60 % 10);
    cmos_write(0x01, when); /* seconds alarm */
    cmos_write(0x03, 0xc0); /* any minute */
    cmos_write(0x05, 0xc0); /* any hour */
    cmos_read(REG_C);
    cmos_write(REG_B, (uint8_t)(b | 0x20)); /* AIE */
    wait_count(&af_ticks, 1, 5);
    CHECK_EQ(af_ticks, 1);
    CHECK_EQ(cmos_read(0x00), when); /* at the alarm's second */
    cmos_write(REG_B, b);
    cmos_read(REG_C);
    pic_mask(8);
    puts("rtc: update-ended and alarm interrupts ok\n");
}

/* Binary data mode (DM = 1): the registers hold binary values, written and
 * counted so (datasheet register B bit 2). The time is set with SET held,
 * as the datasheet asks for a mode change. */
static void test_binary_mode(void)
{
    uint8_t b = cmos_read(REG_B);
    cmos_write(REG_B, (uint8_t)(b | B_SET | B_DM));
    cmos_write(0x00, 58);
    cmos_write(0x02, 59);
    cmos_write(0x04, 23);
    cmos_write(0x06, 2); /* 2028-02-28 is a Monday */
    cmos_write(0x07, 28);
    cmos_write(0x08, 2);
    cmos_write(0x09, 28); /* 2028: a leap year (xx28 is, in any century) */
    /* The century byte: the IBM AT keeps it in BCD whatever register B
     * says (Glass does too), Linux and QEMU read and write it in the data
     * mode. 20 in binary: Glass ignores a byte that is not BCD, and QEMU
     * does not read 0x20 as century 32 (a date its nanosecond clock
     * overflows on). */
    cmos_write(0x32, 20);
    cmos_write(REG_B, (uint8_t)((b | B_DM) & ~B_SET));
    wait_update_done();
    wait_update_done();
    CHECK_EQ(cmos_read(0x00), 0);
    CHECK_EQ(cmos_read(0x02), 0);
    CHECK_EQ(cmos_read(0x04), 0);
    CHECK_EQ(cmos_read(0x06), 3);
    CHECK_EQ(cmos_read(0x07), 29); /* February 29th */
    CHECK_EQ(cmos_read(0x08), 2);
    CHECK_EQ(cmos_read(0x09), 28);
    cmos_write(REG_B, (uint8_t)(b | B_SET));
    cmos_write(REG_B, b);
    cmos_write(0x32, 0x20);
    puts("rtc: binary mode and the leap day ok\n");
}

void test_main(void)
{
    test_memory_bytes();
    test_time();
    test_reg_c();
    test_periodic();
    test_set_and_rollover();
    test_update_and_alarm();
    test_binary_mode();
}
