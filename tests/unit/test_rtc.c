/*
 * test_rtc.c — hw/rtc.c through ports 0x70/0x71 on a bare io_space with a
 * manual clock: time keeping in BCD/binary and 12/24-hour modes, SET,
 * divider reset, update/alarm/periodic interrupts and register C, UIP,
 * the NMI mask bit and the CMOS checksum helper.
 */
#include <criterion/criterion.h>

#include "hw/rtc.h"

struct line {
    int level;
    int rises;
};

static void on_irq(void *opaque, int n, int level)
{
    struct line *l = opaque;
    (void)n;
    if (level && !l->level)
        l->rises++;
    l->level = level;
}

struct fx {
    struct io_space *io;
    struct vclock *clk;
    struct rtc *rtc;
    struct line irq;
};

/* 2024-02-28 23:59:58, a Wednesday. */
static void setup(struct fx *f)
{
    struct tm t = { .tm_year = 124, .tm_mon = 1, .tm_mday = 28, .tm_hour = 23,
                    .tm_min = 59, .tm_sec = 58, .tm_wday = 3 };
    f->io = io_new();
    f->clk = vclock_new_manual();
    f->irq = (struct line){ 0, 0 };
    struct irq_line l;
    irq_connect(&l, on_irq, &f->irq, 8);
    f->rtc = rtc_new(f->io, f->clk, l, &t);
    cr_assert_not_null(f->rtc);
}

static void teardown(struct fx *f)
{
    rtc_free(f->rtc);
    vclock_free(f->clk);
    io_free(f->io);
}

static uint8_t rd(struct fx *f, uint8_t idx)
{
    io_write(f->io, 0x70, idx, 1);
    return (uint8_t)io_read(f->io, 0x71, 1);
}

static void wr(struct fx *f, uint8_t idx, uint8_t v)
{
    io_write(f->io, 0x70, idx, 1);
    io_write(f->io, 0x71, v, 1);
}

#define MS 1000000ull

Test(rtc, base_time_in_bcd_and_seconds_advance_into_leap_day)
{
    struct fx f;
    setup(&f);
    cr_assert_eq(rd(&f, RTC_SEC), 0x58);
    cr_assert_eq(rd(&f, RTC_MIN), 0x59);
    cr_assert_eq(rd(&f, RTC_HOUR), 0x23);
    cr_assert_eq(rd(&f, RTC_WDAY), 4);
    cr_assert_eq(rd(&f, RTC_MDAY), 0x28);
    cr_assert_eq(rd(&f, RTC_MONTH), 0x02);
    cr_assert_eq(rd(&f, RTC_YEAR), 0x24);
    cr_assert_eq(rd(&f, RTC_CENTURY), 0x20);
    cr_assert_eq(rd(&f, RTC_REG_A), 0x26);
    cr_assert_eq(rd(&f, RTC_REG_B), 0x02);
    cr_assert_eq(rd(&f, RTC_REG_D), 0x80);
    vclock_advance(f.clk, 999 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x58);
    vclock_advance(f.clk, 1 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x59);
    vclock_advance(f.clk, 1000 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x00);
    cr_assert_eq(rd(&f, RTC_HOUR), 0x00);
    cr_assert_eq(rd(&f, RTC_MDAY), 0x29, "2024 is a leap year");
    cr_assert_eq(rd(&f, RTC_MONTH), 0x02);
    cr_assert_eq(rd(&f, RTC_WDAY), 5);
    cr_assert_eq(f.irq.rises, 0, "no interrupt enabled");
    teardown(&f);
}

Test(rtc, uip_is_set_244us_before_each_update)
{
    struct fx f;
    setup(&f);
    vclock_advance(f.clk, 1000 * MS - 245000);
    cr_assert_eq(rd(&f, RTC_REG_A) & 0x80, 0);
    vclock_advance(f.clk, 2000);
    cr_assert_eq(rd(&f, RTC_REG_A) & 0x80, 0x80);
    cr_assert_eq(rd(&f, RTC_SEC), 0x58);
    vclock_advance(f.clk, 243000);
    cr_assert_eq(rd(&f, RTC_REG_A) & 0x80, 0);
    cr_assert_eq(rd(&f, RTC_SEC), 0x59);
    teardown(&f);
}

Test(rtc, set_binary_12_hour_mode_and_year_wrap)
{
    struct fx f;
    setup(&f);
    /* SET, binary, 12-hour: 1999-12-31 11:59:59 PM, Friday. */
    wr(&f, RTC_REG_B, RTC_B_SET | RTC_B_DM);
    wr(&f, RTC_SEC, 59);
    wr(&f, RTC_MIN, 59);
    wr(&f, RTC_HOUR, 0x80 | 11);
    wr(&f, RTC_WDAY, 6);
    wr(&f, RTC_MDAY, 31);
    wr(&f, RTC_MONTH, 12);
    wr(&f, RTC_YEAR, 99);
    wr(&f, RTC_CENTURY, 0x19);
    vclock_advance(f.clk, 5000 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 59, "SET holds the time");
    cr_assert_eq(rd(&f, RTC_REG_A) & 0x80, 0, "no UIP while SET");
    wr(&f, RTC_REG_B, RTC_B_DM);
    vclock_advance(f.clk, 1000 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0);
    cr_assert_eq(rd(&f, RTC_MIN), 0);
    cr_assert_eq(rd(&f, RTC_HOUR), 12, "midnight is 12 AM");
    cr_assert_eq(rd(&f, RTC_WDAY), 7);
    cr_assert_eq(rd(&f, RTC_MDAY), 1);
    cr_assert_eq(rd(&f, RTC_MONTH), 1);
    cr_assert_eq(rd(&f, RTC_YEAR), 0);
    cr_assert_eq(rd(&f, RTC_CENTURY), 0x20);
    /* 11:59:59 AM -> 12:00:00 PM. */
    wr(&f, RTC_REG_B, RTC_B_SET | RTC_B_DM);
    wr(&f, RTC_HOUR, 11);
    wr(&f, RTC_MIN, 59);
    wr(&f, RTC_SEC, 59);
    wr(&f, RTC_REG_B, RTC_B_DM);
    vclock_advance(f.clk, 1000 * MS);
    cr_assert_eq(rd(&f, RTC_HOUR), 0x80 | 12);
    teardown(&f);
}

Test(rtc, update_ended_interrupt_and_register_c)
{
    struct fx f;
    setup(&f);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    vclock_advance(f.clk, 1000 * MS);
    cr_assert_eq(f.irq.level, 1);
    cr_assert_eq(f.irq.rises, 1);
    cr_assert_eq(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_PF,
                 "PF is set by the 1024 Hz rate even without PIE");
    cr_assert_eq(f.irq.level, 0, "reading C lowers IRQ 8");
    cr_assert_eq(rd(&f, RTC_REG_C), 0);
    /* SET clears UIE. */
    wr(&f, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE);
    cr_assert_eq(rd(&f, RTC_REG_B) & RTC_B_UIE, 0);
    teardown(&f);
}

Test(rtc, periodic_interrupt_rate_from_register_a)
{
    struct fx f;
    setup(&f);
    wr(&f, RTC_REG_A, 0x2f); /* rate 15: 2 Hz */
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    vclock_advance(f.clk, 499 * MS);
    cr_assert_eq(f.irq.level, 0);
    vclock_advance(f.clk, 1 * MS);
    cr_assert_eq(f.irq.level, 1);
    cr_assert_eq(rd(&f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
    /* 1024 Hz: count the interrupts of one second, acknowledging each. */
    wr(&f, RTC_REG_A, 0x26);
    rd(&f, RTC_REG_C);
    int n = 0;
    for (int i = 0; i < 4096; i++) {
        vclock_advance(f.clk, NS_PER_SEC / 4096);
        if (f.irq.level) {
            n++;
            cr_assert_eq(rd(&f, RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
        }
    }
    cr_assert(n >= 1023 && n <= 1025, "%d periodic interrupts in a second", n);
    /* Rate 0 stops it. */
    wr(&f, RTC_REG_A, 0x20);
    rd(&f, RTC_REG_C);
    vclock_advance(f.clk, 100 * MS);
    cr_assert_eq(f.irq.level, 0);
    cr_assert_eq(rd(&f, RTC_REG_C) & RTC_C_PF, 0);
    teardown(&f);
}

Test(rtc, enabling_pie_with_pf_pending_raises_irq)
{
    struct fx f;
    setup(&f);
    vclock_advance(f.clk, 2 * MS);
    cr_assert_eq(f.irq.level, 0);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    cr_assert_eq(f.irq.level, 1);
    teardown(&f);
}

Test(rtc, alarm_with_dont_care_bytes)
{
    struct fx f;
    setup(&f);
    wr(&f, RTC_SEC_ALARM, 0x01);
    wr(&f, RTC_MIN_ALARM, 0xc0);
    wr(&f, RTC_HOUR_ALARM, 0xff);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    vclock_advance(f.clk, 2000 * MS); /* 23:59:58 -> 00:00:00 */
    cr_assert_eq(f.irq.level, 0);
    vclock_advance(f.clk, 1000 * MS); /* 00:00:01 */
    cr_assert_eq(f.irq.level, 1);
    cr_assert_eq(rd(&f, RTC_REG_C) & (RTC_C_AF | RTC_C_IRQF), RTC_C_AF | RTC_C_IRQF);
    /* A fixed hour that does not match: no alarm. */
    wr(&f, RTC_HOUR_ALARM, 0x05);
    vclock_advance(f.clk, 60000 * MS);
    cr_assert_eq(f.irq.level, 0);
    teardown(&f);
}

Test(rtc, divider_reset_holds_time_and_first_update_is_half_a_second_later)
{
    struct fx f;
    setup(&f);
    wr(&f, RTC_REG_A, 0x66);
    vclock_advance(f.clk, 3000 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x58);
    wr(&f, RTC_REG_A, 0x26);
    vclock_advance(f.clk, 499 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x58);
    vclock_advance(f.clk, 1 * MS);
    cr_assert_eq(rd(&f, RTC_SEC), 0x59);
    teardown(&f);
}

Test(rtc, index_port_nmi_mask_and_nvram)
{
    struct fx f;
    setup(&f);
    cr_assert(!rtc_nmi_masked(f.rtc));
    io_write(f.io, 0x70, 0x80 | 0x40, 1);
    cr_assert(rtc_nmi_masked(f.rtc));
    io_write(f.io, 0x71, 0x5a, 1);
    cr_assert_eq(rtc_cmos_get(f.rtc, 0x40), 0x5a);
    io_write(f.io, 0x70, 0x40, 1);
    cr_assert(!rtc_nmi_masked(f.rtc));
    cr_assert_eq(io_read(f.io, 0x71, 1), 0x5a);
    /* Registers C and D are read-only. */
    wr(&f, RTC_REG_D, 0);
    cr_assert_eq(rd(&f, RTC_REG_D), 0x80);
    rtc_cmos_set(f.rtc, 0x10, 0x40);
    rtc_cmos_set(f.rtc, 0x2d, 0xff);
    rtc_cmos_set(f.rtc, 0x15, 0x80);
    rtc_cmos_update_checksum(f.rtc);
    uint16_t sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum = (uint16_t)(sum + rtc_cmos_get(f.rtc, (uint8_t)i));
    cr_assert_eq(sum, 0x1bf);
    cr_assert_eq(rd(&f, 0x2e), 0x01);
    cr_assert_eq(rd(&f, 0x2f), 0xbf);
    cr_assert_eq(rtc_cmos_get(f.rtc, 200), 0, "out of range reads 0");
    rtc_cmos_set(f.rtc, 200, 1); /* ignored, no crash */
    teardown(&f);
}

Test(rtc, daylight_saving_spring_forward)
{
    struct fx f;
    setup(&f);
    /* Sunday 2024-04-28 (the last in April) 01:59:59 with DSE. */
    wr(&f, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_DSE);
    wr(&f, RTC_HOUR, 0x01);
    wr(&f, RTC_MIN, 0x59);
    wr(&f, RTC_SEC, 0x59);
    wr(&f, RTC_WDAY, 1);
    wr(&f, RTC_MDAY, 0x28);
    wr(&f, RTC_MONTH, 0x04);
    wr(&f, RTC_REG_B, RTC_B_24H | RTC_B_DSE);
    vclock_advance(f.clk, 1000 * MS);
    cr_assert_eq(rd(&f, RTC_HOUR), 0x03);
    cr_assert_eq(rd(&f, RTC_MIN), 0x00);
    teardown(&f);
}

Test(rtc, memory_size_bytes)
{
    struct fx f;
    setup(&f);
    rtc_cmos_set_memory(f.rtc, 32ull << 20, 1ull << 30);
    cr_assert_eq(rd(&f, 0x15) | rd(&f, 0x16) << 8, 640);
    cr_assert_eq(rd(&f, 0x17) | rd(&f, 0x18) << 8, 31 * 1024);
    cr_assert_eq(rd(&f, 0x30) | rd(&f, 0x31) << 8, 31 * 1024);
    cr_assert_eq(rd(&f, 0x34) | rd(&f, 0x35) << 8, 256);
    cr_assert_eq(rd(&f, 0x5b) | rd(&f, 0x5c) << 8 | rd(&f, 0x5d) << 16, 0x4000);
    uint16_t sum = 0;
    for (int i = 0x10; i <= 0x2d; i++)
        sum = (uint16_t)(sum + rtc_cmos_get(f.rtc, (uint8_t)i));
    cr_assert_eq(rd(&f, 0x2e) << 8 | rd(&f, 0x2f), sum);
    /* 3 GiB: the KiB counts saturate. */
    rtc_cmos_set_memory(f.rtc, 3ull << 30, 0);
    cr_assert_eq(rd(&f, 0x17) | rd(&f, 0x18) << 8, 0xffff);
    cr_assert_eq(rd(&f, 0x34) | rd(&f, 0x35) << 8, ((3ull << 30) - (16 << 20)) >> 16);
    teardown(&f);
}
