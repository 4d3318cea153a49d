/*
 * test_pit.c — the 8254 of hw/pit.c with a manual clock: every mode's
 * count and OUT, IRQ 0 edges at the exact CLK pulses, counter latch,
 * read-back, BCD, access modes, gates through port 61h, reload rules,
 * and the refresh toggle.
 */
#include <criterion/criterion.h>

#include "hw/pit.h"

#define F 1193182ull

/* The first nanosecond at which CLK pulse j has happened. */
static uint64_t pns(uint64_t j)
{
    return j / F * NS_PER_SEC + ((j % F) * NS_PER_SEC + F - 1) / F;
}

struct edges {
    struct vclock *clk;
    int level;
    int n;
    uint64_t t[64];
    int lv[64];
};

static void edge_fn(void *opaque, int n, int level)
{
    struct edges *e = opaque;
    (void)n;
    if (e->n < 64) {
        e->t[e->n] = vclock_ns(e->clk);
        e->lv[e->n] = level;
    }
    e->n++;
    e->level = level;
}

struct rig {
    struct vclock *clk;
    struct io_space *io;
    struct pit *pit;
    struct edges e;
};

static void rig_init(struct rig *r)
{
    r->clk = vclock_new_manual();
    r->io = io_new();
    r->e = (struct edges){ .clk = r->clk };
    struct irq_line l;
    irq_connect(&l, edge_fn, &r->e, 0);
    r->pit = pit_new(r->io, r->clk, &l);
    cr_assert_not_null(r->pit);
    r->e.n = 0; /* forget the reset's "line low" */
}

static void rig_fini(struct rig *r)
{
    pit_free(r->pit);
    io_free(r->io);
    vclock_free(r->clk);
}

/* Moves the clock to absolute time ns. */
static void at(struct rig *r, uint64_t ns)
{
    uint64_t now = vclock_ns(r->clk);
    cr_assert_geq(ns, now);
    vclock_advance(r->clk, ns - now);
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
    io_write(r->io, port, v, 1);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
    return (uint8_t)io_read(r->io, port, 1);
}

static void prog(struct rig *r, int ch, uint8_t ctrl, uint16_t count)
{
    out8(r, 0x43, (uint8_t)(ch << 6 | ctrl));
    out8(r, (uint16_t)(0x40 + ch), count & 0xff);
    out8(r, (uint16_t)(0x40 + ch), count >> 8);
}

static uint16_t latched(struct rig *r, int ch)
{
    out8(r, 0x43, (uint8_t)(ch << 6));
    uint16_t lo = in8(r, (uint16_t)(0x40 + ch));
    return (uint16_t)(lo | in8(r, (uint16_t)(0x40 + ch)) << 8);
}

TestSuite(pit);

Test(pit, mode2_rate_generator_edges_and_counts)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 100); /* ch0, LSB/MSB, mode 2 */
    /* OUT went high at the control word: one rising edge at t=0. */
    cr_assert_eq(r.e.n, 1);
    cr_assert_eq(r.e.lv[0], 1);
    /* Loaded by pulse 1; count 1 (OUT low) at pulse 100; reload at 101. */
    at(&r, pns(50));
    cr_assert_eq(latched(&r, 0), 51);
    at(&r, pns(301) + 5);
    cr_assert_eq(r.e.n, 7);
    uint64_t want[6] = { pns(100), pns(101), pns(200), pns(201), pns(300), pns(301) };
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(r.e.t[i + 1], want[i], "edge %d at %llu", i, (unsigned long long)r.e.t[i + 1]);
        cr_assert_eq(r.e.lv[i + 1], i & 1);
    }
    /* Counts: N..1, never 0. */
    cr_assert_eq(latched(&r, 0), 100);
    at(&r, pns(400));
    cr_assert_eq(latched(&r, 0), 1);
    cr_assert(!pit_out(r.pit, 0));
    rig_fini(&r);
}

Test(pit, mode2_new_count_at_end_of_cycle)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 100);
    at(&r, pns(30));
    out8(&r, 0x40, 50);
    out8(&r, 0x40, 0);
    /* The current cycle still ends at 101; then period 50. */
    at(&r, pns(202));
    cr_assert_eq(r.e.t[1], pns(100));
    cr_assert_eq(r.e.t[2], pns(101));
    cr_assert_eq(r.e.t[3], pns(150));
    cr_assert_eq(r.e.t[4], pns(151));
    cr_assert_eq(r.e.t[5], pns(200));
    cr_assert_eq(r.e.t[6], pns(201));
    rig_fini(&r);
}

Test(pit, mode2_no_drift_over_many_periods)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 1193); /* about 1 kHz */
    for (int i = 0; i < 1000; i++)
        vclock_advance(r.clk, 1000000);
    /* 1000 ms = 1193182 pulses: 1000 full periods end at pulse
     * 1 + 1000 * 1193 = 1193001 <= 1193182. */
    cr_assert_eq(r.e.n, 1 + 2 * 1000);
    cr_assert_eq(r.e.level, 1);
    at(&r, pns(1 + 1001 * 1193));
    cr_assert_eq(r.e.n, 1 + 2 * 1001);
    cr_assert_eq(r.e.t[0], 0);
    rig_fini(&r);
}

Test(pit, mode3_square_wave_even_and_odd)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x36, 10);
    cr_assert_eq(r.e.n, 1);
    at(&r, pns(3));
    cr_assert_eq(latched(&r, 0), 6); /* 10, 8, 6: decrements by two */
    at(&r, pns(25));
    /* high pulses 1-5, low 6-10, high 11-15, low 16-20, high 21- */
    cr_assert_eq(r.e.n, 5);
    cr_assert_eq(r.e.t[1], pns(6));
    cr_assert_eq(r.e.lv[1], 0);
    cr_assert_eq(r.e.t[2], pns(11));
    cr_assert_eq(r.e.t[3], pns(16));
    cr_assert_eq(r.e.t[4], pns(21));
    /* Odd count 5: high 3 pulses, low 2. */
    prog(&r, 0, 0x36, 5);
    uint64_t t0 = 25; /* tick of the write: load at 26 */
    cr_assert_eq(vclock_ns(r.clk), pns(25));
    r.e.n = 0;
    at(&r, pns(t0 + 1 + 10));
    cr_assert_eq(r.e.n, 4, "got %d", r.e.n);
    cr_assert_eq(r.e.t[0], pns(t0 + 1 + 3));
    cr_assert_eq(r.e.lv[0], 0);
    cr_assert_eq(r.e.t[1], pns(t0 + 1 + 5));
    cr_assert_eq(r.e.t[2], pns(t0 + 1 + 8));
    cr_assert_eq(r.e.t[3], pns(t0 + 1 + 10));
    /* Counts of the odd wave: 4, 2, 0 high; 4, 2 low. */
    at(&r, pns(t0 + 1 + 11));
    cr_assert_eq(latched(&r, 0), 2);
    at(&r, pns(t0 + 1 + 13));
    cr_assert_eq(latched(&r, 0), 4);
    cr_assert(!pit_out(r.pit, 0));
    rig_fini(&r);
}

Test(pit, mode3_new_count_at_half_cycle)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x36, 100);
    at(&r, pns(10));
    out8(&r, 0x40, 20);
    out8(&r, 0x40, 0);
    at(&r, pns(200));
    /* High half ends at 51 as programmed; then the new count: low 10,
     * high 10. */
    cr_assert_eq(r.e.t[1], pns(51));
    cr_assert_eq(r.e.t[2], pns(61));
    cr_assert_eq(r.e.t[3], pns(71));
    cr_assert_eq(r.e.t[4], pns(81));
    rig_fini(&r);
}

Test(pit, mode0_interrupt_on_terminal_count)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x30, 1000);
    cr_assert_eq(r.e.n, 0); /* OUT low from the start */
    at(&r, pns(501));
    cr_assert_eq(latched(&r, 0), 500);
    at(&r, pns(2000));
    cr_assert_eq(r.e.n, 1);
    cr_assert_eq(r.e.t[0], pns(1001));
    cr_assert_eq(r.e.lv[0], 1);
    /* Keeps counting through zero, wrapping: 1000 - 1999. */
    cr_assert_eq(latched(&r, 0), (uint16_t)(1000 - 1999));
    /* A new count drops OUT at once. */
    out8(&r, 0x40, 10);
    cr_assert_eq(r.e.n, 1); /* first byte: counting stops, OUT stays */
    out8(&r, 0x40, 0);
    cr_assert_eq(r.e.n, 2);
    cr_assert_eq(r.e.lv[1], 0);
    at(&r, pns(2020));
    cr_assert_eq(r.e.t[2], pns(2011));
    rig_fini(&r);
}

Test(pit, mode0_gate_suspends_counting)
{
    struct rig r;
    rig_init(&r);
    out8(&r, 0x61, 0x00); /* gate 2 low */
    prog(&r, 2, 0x30, 100);
    at(&r, pns(50));
    cr_assert_eq(latched(&r, 2), 100);
    cr_assert_eq(in8(&r, 0x61) & 0x20, 0);
    out8(&r, 0x61, 0x01);
    at(&r, pns(60));
    cr_assert_eq(latched(&r, 2), 90);
    out8(&r, 0x61, 0x00);
    at(&r, pns(500));
    cr_assert_eq(latched(&r, 2), 90);
    out8(&r, 0x61, 0x01);
    at(&r, pns(589));
    cr_assert_eq(latched(&r, 2), 1);
    cr_assert_eq(in8(&r, 0x61) & 0x20, 0);
    at(&r, pns(590));
    cr_assert_eq(in8(&r, 0x61) & 0x21, 0x21);
    rig_fini(&r);
}

Test(pit, mode1_retriggerable_one_shot)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 2, 0x32, 50);
    cr_assert(pit_out(r.pit, 2));
    at(&r, pns(100));
    cr_assert(pit_out(r.pit, 2)); /* no trigger yet */
    out8(&r, 0x61, 0x01);         /* rising gate at pulse 100 */
    cr_assert(pit_out(r.pit, 2)); /* low from the next pulse */
    at(&r, pns(101));
    cr_assert(!pit_out(r.pit, 2));
    cr_assert_eq(latched(&r, 2), 50);
    at(&r, pns(140));
    cr_assert_eq(latched(&r, 2), 11);
    out8(&r, 0x61, 0x00); /* gate low does not stop it */
    out8(&r, 0x61, 0x01); /* retrigger at 140: 50 more from 141 */
    at(&r, pns(190));
    cr_assert(!pit_out(r.pit, 2));
    at(&r, pns(191));
    cr_assert(pit_out(r.pit, 2));
    cr_assert_eq(in8(&r, 0x61) & 0x20, 0x20);
    rig_fini(&r);
}

Test(pit, mode4_software_strobe)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x38, 20);
    cr_assert_eq(r.e.n, 1); /* high from the control word */
    at(&r, pns(100));
    cr_assert_eq(r.e.n, 3);
    cr_assert_eq(r.e.t[1], pns(21));
    cr_assert_eq(r.e.lv[1], 0);
    cr_assert_eq(r.e.t[2], pns(22));
    cr_assert_eq(r.e.lv[2], 1);
    rig_fini(&r);
}

/* The board runs timers between CPU slices: a count written after a
 * strobe fell due, but before its timer ran, must not hide the strobe's
 * IRQ 0 edge (Linux's one-shot clockevent reprograms mode 4 this way). */
Test(pit, overdue_strobe_delivered_before_a_new_count)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x38, 20);
    cr_assert_eq(r.e.n, 1);
    vclock_skip(r.clk, pns(100)); /* past the strobe (pulses 21-22), no timer run */
    cr_assert_eq(r.e.n, 1);
    out8(&r, 0x40, 50);
    out8(&r, 0x40, 0);
    cr_assert_eq(r.e.n, 3, "the overdue strobe's low pulse and rising edge");
    cr_assert_eq(r.e.lv[1], 0);
    cr_assert_eq(r.e.lv[2], 1);
    /* The new count strobes in its turn: loaded at pulse 101, OUT low at
     * 101 + 50. */
    vclock_advance(r.clk, pns(200) - vclock_ns(r.clk));
    cr_assert_eq(r.e.n, 5);
    cr_assert_eq(r.e.t[3], pns(151));
    cr_assert_eq(r.e.lv[3], 0);
    rig_fini(&r);
}

/* The host clock moves while the PIT works (its process may be preempted
 * between reading the clock for a write and scheduling the next edge):
 * a strobe that falls due in between is delivered, not skipped. Each
 * clock read here moves time on by 30 pulses; the count is 20. */
Test(pit, strobe_due_while_the_write_is_handled)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x38, 20000);
    vclock_advance(r.clk, pns(100));
    int before = r.e.n;
    vclock_set_read_step(r.clk, pns(30));
    out8(&r, 0x40, 20);
    out8(&r, 0x40, 0);
    vclock_set_read_step(r.clk, 0);
    vclock_advance(r.clk, pns(1000));
    cr_assert_eq(r.e.n, before + 2, "the strobe's low pulse and rising edge");
    cr_assert_eq(r.e.lv[before], 0);
    cr_assert_eq(r.e.lv[before + 1], 1);
    rig_fini(&r);
}

Test(pit, mode5_hardware_strobe)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 2, 0x3a, 10);
    at(&r, pns(30));
    cr_assert(pit_out(r.pit, 2));
    out8(&r, 0x61, 0x01); /* trigger: loaded at 31, strobe at 41 */
    at(&r, pns(40));
    cr_assert(pit_out(r.pit, 2));
    cr_assert_eq(latched(&r, 2), 1);
    at(&r, pns(41));
    cr_assert(!pit_out(r.pit, 2));
    at(&r, pns(42));
    cr_assert(pit_out(r.pit, 2));
    rig_fini(&r);
}

Test(pit, mode3_gate_low_forces_out_high)
{
    struct rig r;
    rig_init(&r);
    out8(&r, 0x61, 0x01);
    prog(&r, 2, 0x36, 10);
    at(&r, pns(7));
    cr_assert(!pit_out(r.pit, 2));
    out8(&r, 0x61, 0x00);
    cr_assert(pit_out(r.pit, 2));
    at(&r, pns(100));
    cr_assert(pit_out(r.pit, 2));
    out8(&r, 0x61, 0x03); /* restart: reload at 101 */
    at(&r, pns(106));
    cr_assert(!pit_out(r.pit, 2));
    cr_assert(pit_speaker(r.pit) == false);
    at(&r, pns(111));
    cr_assert(pit_speaker(r.pit));
    rig_fini(&r);
}

Test(pit, bcd_counting)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x31, 0x1000); /* mode 0, BCD 1000 */
    at(&r, pns(11));
    cr_assert_eq(latched(&r, 0), 0x0990);
    at(&r, pns(1001));
    cr_assert_eq(latched(&r, 0), 0x0000);
    at(&r, pns(1002));
    cr_assert_eq(latched(&r, 0), 0x9999);
    /* Count 0 is 10000 in BCD. */
    prog(&r, 0, 0x35, 0); /* mode 2 BCD */
    at(&r, pns(1002 + 1 + 1));
    cr_assert_eq(latched(&r, 0), 0x9999);
    rig_fini(&r);
}

Test(pit, latch_and_access_modes)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 0x1234);
    at(&r, pns(0x100));
    out8(&r, 0x43, 0x00);
    at(&r, pns(0x200));
    out8(&r, 0x43, 0x00); /* ignored: not read yet */
    cr_assert_eq(in8(&r, 0x40), (0x1234 - 0xff) & 0xff);
    cr_assert_eq(in8(&r, 0x40), (0x1234 - 0xff) >> 8);
    /* Unlatched reads follow the counter, LSB then MSB. */
    cr_assert_eq(in8(&r, 0x40), (0x1234 - 0x1ff) & 0xff);
    cr_assert_eq(in8(&r, 0x40), (0x1234 - 0x1ff) >> 8);
    /* LSB only. */
    out8(&r, 0x43, 0x14);
    out8(&r, 0x40, 0x80);
    at(&r, pns(0x200 + 0x11));
    cr_assert_eq(in8(&r, 0x40), 0x70);
    cr_assert_eq(in8(&r, 0x40), 0x70);
    /* MSB only: count 0x0200. */
    out8(&r, 0x43, 0x24);
    out8(&r, 0x40, 0x02);
    at(&r, pns(0x211 + 1 + 0x100));
    cr_assert_eq(in8(&r, 0x40), 0x01);
    rig_fini(&r);
}

Test(pit, read_back_status_and_null_count)
{
    struct rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x34);
    out8(&r, 0x43, 0xe2); /* read-back status+count ch0 */
    cr_assert_eq(in8(&r, 0x40), 0x80 | 0x40 | 0x34); /* no count yet */
    out8(&r, 0x40, 0x00);
    out8(&r, 0x40, 0x01); /* count 256 at pulse 0: loaded at 1 */
    out8(&r, 0x43, 0xe2);
    cr_assert_eq(in8(&r, 0x40), 0x80 | 0x40 | 0x34); /* OUT high, null count */
    in8(&r, 0x40);
    in8(&r, 0x40);
    at(&r, pns(10));
    out8(&r, 0x43, 0xc2); /* count and status */
    out8(&r, 0x43, 0xc2); /* ignored */
    cr_assert_eq(in8(&r, 0x40), 0x80 | 0x34); /* loaded: null count clear */
    cr_assert_eq(in8(&r, 0x40), 256 - 9);
    cr_assert_eq(in8(&r, 0x40), 0);
    /* A new count sets null count until the cycle ends (mode 2). */
    out8(&r, 0x40, 0x10);
    out8(&r, 0x40, 0x00);
    out8(&r, 0x43, 0xe2);
    cr_assert_eq(in8(&r, 0x40) & 0x40, 0x40);
    at(&r, pns(257));
    out8(&r, 0x43, 0xe2);
    cr_assert_eq(in8(&r, 0x40) & 0x40, 0x00);
    /* Status of several channels at once; count only for ch2. */
    out8(&r, 0x43, 0xb6); /* ch2 mode 3 */
    out8(&r, 0x43, 0xdc); /* read-back count of ch0..2, no status */
    out8(&r, 0x43, 0xe8); /* read-back status of ch2 */
    cr_assert_eq(in8(&r, 0x42), 0x80 | 0x40 | 0x36); /* status first */
    rig_fini(&r);
}

Test(pit, port61_refresh_toggle_and_bits)
{
    struct rig r;
    rig_init(&r);
    uint8_t a = in8(&r, 0x61) & 0x10;
    at(&r, pns(17));
    cr_assert_eq(in8(&r, 0x61) & 0x10, a);
    at(&r, pns(18));
    cr_assert_neq(in8(&r, 0x61) & 0x10, a);
    /* It toggles every 15.08 us: 100 us gives 6 or 7 toggles. */
    int toggles = 0;
    uint8_t last = in8(&r, 0x61) & 0x10;
    for (int i = 0; i < 100; i++) {
        vclock_advance(r.clk, 1000);
        uint8_t b = in8(&r, 0x61) & 0x10;
        toggles += b != last;
        last = b;
    }
    cr_assert(toggles == 6 || toggles == 7, "%d toggles", toggles);
    out8(&r, 0x61, 0xff);
    cr_assert_eq(in8(&r, 0x61) & 0xcf, 0x0f);
    rig_fini(&r);
}

Test(pit, one_big_step_delivers_every_pulse)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 100);
    /* One big step: the timer runs at its deadlines even so. */
    vclock_advance(r.clk, pns(1000) - 1);
    cr_assert_eq(r.e.n, 1 + 2 * 9);
    cr_assert_eq(r.e.t[17], pns(900));
    rig_fini(&r);
}

Test(pit, reset_and_state_table)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x34, 100);
    cr_assert_eq(r.e.level, 1);
    pit_reset(r.pit);
    cr_assert_eq(r.e.level, 0);
    at(&r, pns(1000));
    cr_assert_eq(r.e.level, 0);
    cr_assert_eq(vclock_time_to_next(r.clk), UINT64_MAX);
    cr_assert_str_eq(pit_state_desc.name, "i8254");
    int timers = 0;
    for (const struct dev_field *f = pit_state_desc.fields; f->name; f++)
        timers += f->type == DEV_FIELD_TIMER;
    cr_assert_eq(timers, 1);
    rig_fini(&r);
}

Test(pit, count_zero_is_65536_and_word_access_splits)
{
    struct rig r;
    rig_init(&r);
    prog(&r, 0, 0x36, 0); /* the BIOS's 18.2 Hz square wave */
    at(&r, pns(70000));
    cr_assert_eq(r.e.n, 3);
    cr_assert_eq(r.e.t[1], pns(1 + 32768));
    cr_assert_eq(r.e.t[2], pns(1 + 65536));
    /* Mode 0, count 0: terminal count after 65536 pulses. */
    prog(&r, 1, 0x70, 0);
    at(&r, pns(70000 + 65536));
    cr_assert(!pit_out(r.pit, 1));
    at(&r, pns(70001 + 65536));
    cr_assert(pit_out(r.pit, 1));
    /* A word read of 40h reads ch0 then ch1 (an ISA bus splits it). */
    out8(&r, 0x43, 0x00);
    out8(&r, 0x43, 0x40);
    uint16_t w = (uint16_t)io_read(r.io, 0x40, 2);
    /* ch0 at k = 135536: r = 4464 in the high half: 65536 - 8928. */
    cr_assert_eq(w, 0x0020);
    cr_assert_eq(in8(&r, 0x40), 0xdd);
    cr_assert_eq(in8(&r, 0x41), 0x00);
    cr_assert_eq(io_read(r.io, 0x43, 1), 0xff); /* control word: write-only */
    rig_fini(&r);
}

Test(pit, exact_after_ten_hours)
{
    struct rig r;
    rig_init(&r);
    uint64_t t0 = 10ull * 3600 * F + 12345; /* pulses: beyond 2^64 ns*F */
    at(&r, pns(t0) + 100);
    prog(&r, 0, 0x34, 1000);
    at(&r, pns(t0 + 1 + 1000 * 50));
    cr_assert_eq(r.e.n, 1 + 2 * 50);
    cr_assert_eq(r.e.t[63], pns(t0 + 1000 * 32), "%llu",
                 (unsigned long long)r.e.t[63]);
    rig_fini(&r);
}

/*
 * On the host's clock, the OUT that completes a count lasts until the
 * pulse that loads it (as an ISA I/O cycle outlasts a PIT pulse on a PC),
 * so a read right after it already sees the new count running: what
 * Linux's quick_pit_calibrate counts on (its MSB 0FFh right after
 * writing FFFFh). Before, a read within the same 838 ns showed the old
 * contents. The read-back here follows the write at once, 200 times.
 */
Test(pit, a_count_write_returns_once_the_count_is_loaded)
{
    struct vclock *clk = vclock_new_host();
    struct io_space *io = io_new();
    struct irq_line l;
    struct edges e = { .clk = clk };
    irq_connect(&l, edge_fn, &e, 0);
    struct pit *pit = pit_new(io, clk, &l);
    cr_assert(clk && io && pit);
    io_write(io, 0x61, 0x01, 1); /* GATE2 high, speaker off, as Linux sets it */
    for (int i = 0; i < 200; i++) {
        /* Channel 2, LSB then MSB, mode 0: 8000h, running for 2 us
         * (the counter then holds ~7FFEh), then FFFFh. */
        io_write(io, 0x43, 0xb0, 1);
        io_write(io, 0x42, 0x00, 1);
        io_write(io, 0x42, 0x80, 1);
        for (uint64_t t0 = vclock_ns(clk); vclock_ns(clk) < t0 + 2000;)
            ;
        io_write(io, 0x43, 0xb0, 1);
        io_write(io, 0x42, 0xff, 1);
        io_write(io, 0x42, 0xff, 1);
        unsigned lsb = (unsigned)io_read(io, 0x42, 1);
        unsigned msb = (unsigned)io_read(io, 0x42, 1);
        cr_assert_eq(msb, 0xffu, "pass %d: read %02x%02x right after writing FFFFh", i, msb, lsb);
    }
    pit_free(pit);
    io_free(io);
    vclock_free(clk);
}
