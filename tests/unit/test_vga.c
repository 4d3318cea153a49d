/*
 * test_vga.c — hw/vga.c through its ports and memory windows on a bare
 * io_space/phys_mem with a manual clock: register files, the graphics
 * controller's write and read modes with the latches, chain-4 and
 * odd/even addressing, the DAC, the attribute flip-flop, Input Status 1
 * against virtual time, rendering of text, 13h and 12h, the Bochs VBE
 * interface with its framebuffer, and the PCI function 1234:1111.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bios/font.h"
#include "hw/pci.h"
#include "hw/vga.h"

struct rig {
    struct phys_mem *pm;
    struct io_space *io;
    struct vclock *clock;
    struct vga *vga;
};

static struct rig rig_new(void)
{
    struct rig r;
    r.pm = phys_new();
    r.io = io_new();
    r.clock = vclock_new_manual();
    r.vga = vga_new(r.pm, r.io, r.clock);
    cr_assert_not_null(r.vga);
    return r;
}

static void rig_free(struct rig *r)
{
    vga_free(r->vga);
    vclock_free(r->clock);
    io_free(r->io);
    phys_free(r->pm);
}

static void outb(struct rig *r, uint16_t port, uint8_t v)
{
    io_write(r->io, port, v, 1);
}

static uint8_t inb(struct rig *r, uint16_t port)
{
    return (uint8_t)io_read(r->io, port, 1);
}

static void wreg(struct rig *r, uint16_t port, uint8_t idx, uint8_t v)
{
    outb(r, port, idx);
    outb(r, port + 1, v);
}

static uint8_t rreg(struct rig *r, uint16_t port, uint8_t idx)
{
    outb(r, port, idx);
    return inb(r, port + 1);
}

static void memb(struct rig *r, uint32_t addr, uint8_t v)
{
    phys_write(r->pm, addr, v, 1);
}

static uint8_t rdb(struct rig *r, uint32_t addr)
{
    return (uint8_t)phys_read(r->pm, addr, 1);
}

/* Standard VGA BIOS register tables (IBM VGA Technical Reference). */
struct mode_regs {
    uint8_t misc, seq[5], crtc[25], gc[9], ar[21];
};

static const struct mode_regs mode3 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
      0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c,
      0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};

static const struct mode_regs mode13 = {
    0x63, { 0x03, 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
      0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

static const struct mode_regs mode12 = {
    0xe3, { 0x03, 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c,
      0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
};

static const struct mode_regs mode4 = {
    0x63, { 0x03, 0x09, 0x03, 0x00, 0x02 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14,
      0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 },
};

static void set_mode(struct rig *r, const struct mode_regs *m)
{
    outb(r, 0x3c2, m->misc);
    for (int i = 0; i < 5; i++)
        wreg(r, 0x3c4, (uint8_t)i, m->seq[i]);
    wreg(r, 0x3d4, 0x11, 0x00); /* unprotect CR0-7 */
    for (int i = 0; i < 25; i++)
        wreg(r, 0x3d4, (uint8_t)i, m->crtc[i]);
    for (int i = 0; i < 9; i++)
        wreg(r, 0x3ce, (uint8_t)i, m->gc[i]);
    inb(r, 0x3da);
    for (int i = 0; i < 21; i++) {
        outb(r, 0x3c0, (uint8_t)i);
        outb(r, 0x3c0, m->ar[i]);
    }
    outb(r, 0x3c0, 0x20); /* PAS: the video owns the palette */
}

static void set_dac(struct rig *r, uint8_t idx, uint8_t red, uint8_t g, uint8_t b)
{
    outb(r, 0x3c8, idx);
    outb(r, 0x3c9, red);
    outb(r, 0x3c9, g);
    outb(r, 0x3c9, b);
}

static uint32_t *render(struct rig *r, int *w, int *h)
{
    static uint32_t px[1024 * 800];
    int ww = 0, hh = 1024;
    cr_assert_eq(vga_render(r->vga, NULL, &ww, &hh, 0), -1);
    cr_assert(ww > 0 && ww <= 1024 && hh > 0 && hh <= 800, "size %dx%d", ww, hh);
    hh = 800;
    memset(px, 0x55, sizeof(px));
    cr_assert_eq(vga_render(r->vga, px, w, &hh, 1024), 0);
    *h = hh;
    return px;
}

/* ------------------------------------------------------------ registers */

TestSuite(vga);

Test(vga, register_files_and_masks)
{
    struct rig r = rig_new();
    outb(&r, 0x3c2, 0x67);
    cr_assert_eq(inb(&r, 0x3cc), 0x67);
    wreg(&r, 0x3c4, 2, 0xff);
    cr_assert_eq(rreg(&r, 0x3c4, 2), 0x0f, "map mask has 4 bits");
    wreg(&r, 0x3c4, 4, 0xff);
    cr_assert_eq(rreg(&r, 0x3c4, 4), 0x0e);
    wreg(&r, 0x3ce, 5, 0xff);
    cr_assert_eq(rreg(&r, 0x3ce, 5), 0x7b);
    wreg(&r, 0x3ce, 8, 0x5a);
    cr_assert_eq(rreg(&r, 0x3ce, 8), 0x5a);
    cr_assert_eq(inb(&r, 0x3ce), 8, "index reads back");
    for (int i = 0; i < 0x19; i++)
        wreg(&r, 0x3d4, (uint8_t)i, (uint8_t)(0x11 * i + 1) & 0x7f);
    for (int i = 0; i < 0x19; i++)
        cr_assert_eq(rreg(&r, 0x3d4, (uint8_t)i), (uint8_t)(0x11 * i + 1) & 0x7f, "CR%02x", i);
    /* Word OUT: index in the low byte, data in the high byte. */
    io_write(r.io, 0x3d4, 0x340e, 2);
    cr_assert_eq(rreg(&r, 0x3d4, 0x0e), 0x34);
    rig_free(&r);
}

Test(vga, crtc_protect_bit)
{
    struct rig r = rig_new();
    outb(&r, 0x3c2, 0x01);
    wreg(&r, 0x3d4, 0x00, 0x5f);
    wreg(&r, 0x3d4, 0x07, 0x00);
    wreg(&r, 0x3d4, 0x11, 0x80);
    wreg(&r, 0x3d4, 0x00, 0x12);
    cr_assert_eq(rreg(&r, 0x3d4, 0x00), 0x5f, "CR0 protected");
    wreg(&r, 0x3d4, 0x07, 0xff);
    cr_assert_eq(rreg(&r, 0x3d4, 0x07), 0x10, "only line compare bit 8 writable");
    wreg(&r, 0x3d4, 0x09, 0x4f);
    cr_assert_eq(rreg(&r, 0x3d4, 0x09), 0x4f, "CR9 not protected");
    wreg(&r, 0x3d4, 0x11, 0x00);
    wreg(&r, 0x3d4, 0x00, 0x12);
    cr_assert_eq(rreg(&r, 0x3d4, 0x00), 0x12);
    rig_free(&r);
}

Test(vga, io_address_select)
{
    struct rig r = rig_new();
    outb(&r, 0x3c2, 0x00); /* mono: 3Bx */
    wreg(&r, 0x3b4, 0x0c, 0x12);
    cr_assert_eq(rreg(&r, 0x3b4, 0x0c), 0x12);
    cr_assert_eq(inb(&r, 0x3d5), 0xff, "3Dx does not answer");
    outb(&r, 0x3c2, 0x01); /* colour: 3Dx */
    cr_assert_eq(rreg(&r, 0x3d4, 0x0c), 0x12, "one register file");
    cr_assert_eq(inb(&r, 0x3b5), 0xff);
    cr_assert_eq(inb(&r, 0x3ba), 0xff);
    rig_free(&r);
}

Test(vga, attribute_flipflop_and_pas)
{
    struct rig r = rig_new();
    outb(&r, 0x3c2, 0x01);        /* colour: Input Status 1 at 3DA */
    inb(&r, 0x3da);
    outb(&r, 0x3c0, 0x12);        /* index, PAS 0 */
    outb(&r, 0x3c0, 0xff);        /* data */
    cr_assert_eq(inb(&r, 0x3c1), 0x3f);
    outb(&r, 0x3c0, 0x05);        /* flip-flop back at index */
    outb(&r, 0x3c0, 0x2a);
    cr_assert_eq(inb(&r, 0x3c0), 0x05);
    cr_assert_eq(inb(&r, 0x3c1), 0x2a);
    outb(&r, 0x3c0, 0x25);        /* index 5 with PAS */
    cr_assert_eq(inb(&r, 0x3c0), 0x25);
    inb(&r, 0x3da);               /* reset: the next write is an index again */
    outb(&r, 0x3c0, 0x25);
    outb(&r, 0x3c0, 0x11);        /* palette locked while PAS = 1 */
    cr_assert_eq(inb(&r, 0x3c1), 0x2a);
    outb(&r, 0x3c0, 0x33);        /* panning with PAS: allowed */
    outb(&r, 0x3c0, 0x07);
    cr_assert_eq(inb(&r, 0x3c1), 0x07);
    /* An index write after a reset mid-pair. */
    outb(&r, 0x3c0, 0x34);
    inb(&r, 0x3da);
    outb(&r, 0x3c0, 0x31);
    outb(&r, 0x3c0, 0x09);
    cr_assert_eq(inb(&r, 0x3c0), 0x31);
    cr_assert_eq(inb(&r, 0x3c1), 0x09);
    rig_free(&r);
}

Test(vga, dac_auto_increment)
{
    struct rig r = rig_new();
    outb(&r, 0x3c8, 10);
    const uint8_t in[7] = { 1, 2, 3, 4, 5, 0xff, 9 };
    for (int i = 0; i < 7; i++)
        outb(&r, 0x3c9, in[i]);
    cr_assert_eq(inb(&r, 0x3c8), 12, "two whole entries written");
    cr_assert_eq(inb(&r, 0x3c7), 0, "write mode");
    outb(&r, 0x3c7, 10);
    cr_assert_eq(inb(&r, 0x3c7), 3, "read mode");
    const uint8_t want[6] = { 1, 2, 3, 4, 5, 0x3f };
    for (int i = 0; i < 6; i++)
        cr_assert_eq(inb(&r, 0x3c9), want[i], "component %d", i);
    /* Entry 12 only got its red latched: still 0. */
    cr_assert_eq(inb(&r, 0x3c9), 0);
    outb(&r, 0x3c6, 0x0f);
    cr_assert_eq(inb(&r, 0x3c6), 0x0f);
    /* Index wraps at 255. */
    outb(&r, 0x3c8, 255);
    for (int i = 0; i < 3; i++)
        outb(&r, 0x3c9, 7);
    cr_assert_eq(inb(&r, 0x3c8), 0);
    rig_free(&r);
}

Test(vga, input_status_toggles_with_virtual_time)
{
    struct rig r = rig_new();
    set_mode(&r, &mode3);
    int vr_on = 0, vr_off = 0, de_on = 0, de_off = 0;
    uint64_t first_rise = 0, second_rise = 0;
    bool prev = false;
    for (int i = 0; i < 40000; i++) {
        uint8_t s = inb(&r, 0x3da);
        bool vr = (s & 0x08) != 0;
        vr ? vr_on++ : vr_off++;
        (s & 0x01) ? de_on++ : de_off++;
        if (vr && !prev) {
            if (!first_rise)
                first_rise = vclock_ns(r.clock);
            else if (!second_rise)
                second_rise = vclock_ns(r.clock);
        }
        prev = vr;
        vclock_advance(r.clock, 1000);
    }
    cr_assert(vr_on > 0 && vr_off > 0);
    cr_assert(de_on > 0 && de_off > 0);
    cr_assert(vr_off > 20 * vr_on, "retrace is short");
    /* Mode 3: 28.322 MHz, 900 dots x 449 lines: 70 Hz, 14.27 ms. */
    uint64_t period = second_rise - first_rise;
    cr_assert(period > 14200000 && period < 14350000, "period %llu",
              (unsigned long long)period);
    /* Monochrome address: 3DA does not answer, 3BA does. */
    outb(&r, 0x3c2, 0x66);
    cr_assert_eq(inb(&r, 0x3da), 0xff);
    cr_assert_neq(inb(&r, 0x3ba), 0xff);
    rig_free(&r);
}

struct irq_rec {
    int level, rises;
};

static void irq_recv(void *opaque, int n, int level)
{
    struct irq_rec *rec = opaque;
    (void)n;
    if (level && !rec->level)
        rec->rises++;
    rec->level = level;
}

Test(vga, vertical_retrace_interrupt)
{
    struct rig r = rig_new();
    struct irq_rec rec = { 0, 0 };
    irq_connect(vga_irq(r.vga), irq_recv, &rec, 2);
    set_mode(&r, &mode3); /* CR11 = 8Eh: interrupt disabled, clear held */
    vclock_advance(r.clock, 50000000);
    cr_assert_eq(rec.rises, 0);
    cr_assert_eq(inb(&r, 0x3c2) & 0x80, 0);
    wreg(&r, 0x3d4, 0x11, 0x1e); /* enable, release clear (protect off) */
    vclock_advance(r.clock, 15000000);
    cr_assert_eq(rec.rises, 1, "one retrace in 15 ms at 70 Hz");
    cr_assert_eq(rec.level, 1);
    cr_assert_eq(inb(&r, 0x3c2) & 0x80, 0x80);
    vclock_advance(r.clock, 15000000);
    cr_assert_eq(rec.rises, 1, "latched until cleared");
    wreg(&r, 0x3d4, 0x11, 0x0e); /* clear */
    cr_assert_eq(rec.level, 0);
    cr_assert_eq(inb(&r, 0x3c2) & 0x80, 0);
    wreg(&r, 0x3d4, 0x11, 0x1e);
    vclock_advance(r.clock, 15000000);
    cr_assert_eq(rec.rises, 2);
    wreg(&r, 0x3d4, 0x11, 0x3e); /* disable: the line drops */
    cr_assert_eq(rec.level, 0);
    rig_free(&r);
}

/* ------------------------------------------------------- memory paths */

static uint8_t plane(struct rig *r, unsigned p, uint32_t off)
{
    return vga_vram(r->vga)[off * 4 + p];
}

Test(vga, write_mode_0_set_reset_rotate_alu_bitmask)
{
    struct rig r = rig_new();
    set_mode(&r, &mode12);
    /* Plain write: all four planes get the byte. */
    memb(&r, 0xa0000, 0xa5);
    for (unsigned p = 0; p < 4; p++)
        cr_assert_eq(plane(&r, p, 0), 0xa5);
    /* Map mask: planes 1 and 3 only. */
    wreg(&r, 0x3c4, 2, 0x0a);
    memb(&r, 0xa0001, 0x3c);
    cr_assert_eq(plane(&r, 0, 1), 0);
    cr_assert_eq(plane(&r, 1, 1), 0x3c);
    cr_assert_eq(plane(&r, 3, 1), 0x3c);
    wreg(&r, 0x3c4, 2, 0x0f);
    /* Set/reset 0101 enabled on all planes. */
    wreg(&r, 0x3ce, 0, 0x05);
    wreg(&r, 0x3ce, 1, 0x0f);
    memb(&r, 0xa0002, 0x00);
    cr_assert_eq(plane(&r, 0, 2), 0xff);
    cr_assert_eq(plane(&r, 1, 2), 0x00);
    cr_assert_eq(plane(&r, 2, 2), 0xff);
    cr_assert_eq(plane(&r, 3, 2), 0x00);
    /* Enable set/reset on plane 0 only; the rest take the rotated data. */
    wreg(&r, 0x3ce, 1, 0x01);
    wreg(&r, 0x3ce, 0, 0x00);
    wreg(&r, 0x3ce, 3, 0x04); /* rotate right by 4 */
    memb(&r, 0xa0003, 0x12);
    cr_assert_eq(plane(&r, 0, 3), 0x00);
    cr_assert_eq(plane(&r, 1, 3), 0x21);
    /* Bit mask keeps latched bits: latch from offset 0 (0xA5 everywhere). */
    wreg(&r, 0x3ce, 1, 0x00);
    wreg(&r, 0x3ce, 3, 0x00);
    wreg(&r, 0x3ce, 8, 0x0f);
    (void)rdb(&r, 0xa0000);
    memb(&r, 0xa0004, 0xff);
    for (unsigned p = 0; p < 4; p++)
        cr_assert_eq(plane(&r, p, 4), 0xaf, "plane %u", p);
    /* XOR with the latches. */
    wreg(&r, 0x3ce, 8, 0xff);
    wreg(&r, 0x3ce, 3, 0x18);
    (void)rdb(&r, 0xa0000);
    memb(&r, 0xa0005, 0xff);
    for (unsigned p = 0; p < 4; p++)
        cr_assert_eq(plane(&r, p, 5), 0x5a);
    /* AND, OR */
    wreg(&r, 0x3ce, 3, 0x08);
    (void)rdb(&r, 0xa0000);
    memb(&r, 0xa0006, 0x0f);
    cr_assert_eq(plane(&r, 2, 6), 0x05);
    wreg(&r, 0x3ce, 3, 0x10);
    (void)rdb(&r, 0xa0000);
    memb(&r, 0xa0006, 0x0f);
    cr_assert_eq(plane(&r, 2, 6), 0xaf);
    rig_free(&r);
}

Test(vga, write_modes_1_2_3_and_read_modes)
{
    struct rig r = rig_new();
    set_mode(&r, &mode12);
    /* Different bytes in each plane at offset 10 through the map mask. */
    for (unsigned p = 0; p < 4; p++) {
        wreg(&r, 0x3c4, 2, (uint8_t)(1u << p));
        memb(&r, 0xa000a, (uint8_t)(0x11 * (p + 1)));
    }
    wreg(&r, 0x3c4, 2, 0x0f);
    /* Read mode 0 with Read Map Select. */
    for (unsigned p = 0; p < 4; p++) {
        wreg(&r, 0x3ce, 4, (uint8_t)p);
        cr_assert_eq(rdb(&r, 0xa000a), 0x11 * (p + 1));
    }
    /* Write mode 1: the latches copied to offset 20. */
    wreg(&r, 0x3ce, 5, 0x01);
    (void)rdb(&r, 0xa000a);
    memb(&r, 0xa0014, 0x00);
    for (unsigned p = 0; p < 4; p++)
        cr_assert_eq(plane(&r, p, 20), 0x11 * (p + 1));
    /* Write mode 2: colour 1001b on the bits of the bit mask. */
    wreg(&r, 0x3ce, 5, 0x02);
    wreg(&r, 0x3ce, 8, 0xf0);
    (void)rdb(&r, 0xa000a);
    memb(&r, 0xa000a, 0x09);
    cr_assert_eq(plane(&r, 0, 10), 0xf1);
    cr_assert_eq(plane(&r, 1, 10), 0x02);
    cr_assert_eq(plane(&r, 2, 10), 0x03);
    cr_assert_eq(plane(&r, 3, 10), 0xf4);
    /* Write mode 3: set/reset colour, mask = rotated data AND bit mask. */
    wreg(&r, 0x3ce, 5, 0x03);
    wreg(&r, 0x3ce, 0, 0x0c);
    wreg(&r, 0x3ce, 8, 0x3c);
    (void)rdb(&r, 0xa0014);
    memb(&r, 0xa0014, 0xf0); /* mask 0x30 */
    cr_assert_eq(plane(&r, 0, 20), 0x11 & ~0x30);
    cr_assert_eq(plane(&r, 1, 20), 0x22 & ~0x30);
    cr_assert_eq(plane(&r, 2, 20), 0x33 | 0x30);
    cr_assert_eq(plane(&r, 3, 20), 0x44 | 0x30);
    /* Read mode 1: colour compare 1010b, plane 2 don't care. */
    wreg(&r, 0x3ce, 5, 0x08);
    for (unsigned p = 0; p < 4; p++) {
        wreg(&r, 0x3c4, 2, (uint8_t)(1u << p));
        wreg(&r, 0x3ce, 8, 0xff);
        memb(&r, 0xa0020, (p == 1 || p == 3) ? 0x0f : 0x03);
    }
    wreg(&r, 0x3ce, 2, 0x0a);
    wreg(&r, 0x3ce, 7, 0x0b);
    cr_assert_eq(rdb(&r, 0xa0020), 0x0c, "bits with planes 1,3 set and 0 clear");
    wreg(&r, 0x3ce, 7, 0x00);
    cr_assert_eq(rdb(&r, 0xa0020), 0xff, "all don't care");
    rig_free(&r);
}

Test(vga, memory_map_select)
{
    struct rig r = rig_new();
    set_mode(&r, &mode12); /* A0000h, 64 KiB */
    memb(&r, 0xb0000, 0x77);
    cr_assert_eq(plane(&r, 0, 0), 0, "B0000h not decoded");
    cr_assert_eq(rdb(&r, 0xb8000), 0xff);
    wreg(&r, 0x3ce, 6, 0x0d); /* B8000h, 32 KiB */
    memb(&r, 0xb8010, 0x77);
    cr_assert_eq(plane(&r, 1, 0x10), 0x77);
    memb(&r, 0xa0000, 0x66);
    cr_assert_eq(plane(&r, 1, 0), 0);
    wreg(&r, 0x3ce, 6, 0x01); /* A0000h, 128 KiB */
    memb(&r, 0xb0003, 0x55);
    cr_assert_eq(plane(&r, 2, 3), 0x55, "128 KiB window wraps the 64 KiB plane");
    outb(&r, 0x3c2, 0xe1);    /* RAM Enable off */
    memb(&r, 0xa0004, 0x44);
    cr_assert_eq(plane(&r, 2, 4), 0);
    rig_free(&r);
}

Test(vga, chain4_and_mode13_render)
{
    struct rig r = rig_new();
    set_mode(&r, &mode13);
    for (uint32_t a = 0; a < 8; a++)
        memb(&r, 0xa0000 + a, (uint8_t)(0x10 + a));
    /* Chain-4: address A is plane A & 3, plane address A >> 2. */
    cr_assert_eq(plane(&r, 0, 0), 0x10);
    cr_assert_eq(plane(&r, 3, 0), 0x13);
    cr_assert_eq(plane(&r, 1, 1), 0x15);
    cr_assert_eq(rdb(&r, 0xa0006), 0x16);
    memb(&r, 0xa0000 + 320 * 199 + 319, 0x2a);
    set_dac(&r, 0x2a, 63, 0, 0);
    set_dac(&r, 0x11, 0, 63, 0);
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 320);
    cr_assert_eq(h, 200);
    cr_assert_eq(px[199 * 1024 + 319], 0xff0000);
    cr_assert_eq(px[1], 0x00ff00);
    cr_assert_eq(px[1024 + 1], 0, "line 1 is empty (palette 0 is black)");
    rig_free(&r);
}

Test(vga, mode12_planar_render_and_line_compare)
{
    struct rig r = rig_new();
    set_mode(&r, &mode12);
    set_dac(&r, 0x05, 0, 0, 63);
    set_dac(&r, 0x3f, 63, 63, 63); /* palette reg 15 -> DAC 3Fh */
    /* Colour 5 in pixel 0 of line 0, via set/reset and a bit mask. */
    wreg(&r, 0x3ce, 0, 0x05);
    wreg(&r, 0x3ce, 1, 0x0f);
    wreg(&r, 0x3ce, 8, 0x80);
    (void)rdb(&r, 0xa0000);
    memb(&r, 0xa0000, 0xff);
    /* Colour 15 at pixel 639 of line 479. */
    wreg(&r, 0x3ce, 0, 0x0f);
    wreg(&r, 0x3ce, 8, 0x01);
    (void)rdb(&r, 0xa0000 + 479 * 80 + 79);
    memb(&r, 0xa0000 + 479 * 80 + 79, 0xff);
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 640);
    cr_assert_eq(h, 480);
    cr_assert_eq(px[0], 0x0000ff);
    cr_assert_eq(px[1], 0);
    cr_assert_eq(px[479 * 1024 + 639], 0xffffff);
    /* Start address one line down; line compare at 100 restarts at 0. */
    wreg(&r, 0x3d4, 0x0d, 80);
    wreg(&r, 0x3d4, 0x18, 100);
    wreg(&r, 0x3d4, 0x07, 0x2e); /* line compare bit 8 = 0 */
    wreg(&r, 0x3d4, 0x09, 0x00); /* line compare bit 9 = 0 */
    px = render(&r, &w, &h);
    cr_assert_eq(px[0], 0, "line 0 now shows memory line 1");
    cr_assert_eq(px[100 * 1024], 0x0000ff, "split screen shows address 0");
    cr_assert_eq(px[101 * 1024], 0, "and goes on from there");
    wreg(&r, 0x3d4, 0x18, 0xff);
    wreg(&r, 0x3d4, 0x07, 0x3e);
    wreg(&r, 0x3d4, 0x09, 0x40);
    px = render(&r, &w, &h);
    cr_assert_eq(px[478 * 1024 + 639], 0xffffff, "no split: last line moved up");
    rig_free(&r);
}

Test(vga, cga_mode4_interleave_render)
{
    struct rig r = rig_new();
    set_mode(&r, &mode4);
    set_dac(&r, 0x13, 63, 0, 0);
    set_dac(&r, 0x17, 0, 0, 63);
    memb(&r, 0xb8000, 0x10);          /* line 0: pixel 1 = colour 1 */
    memb(&r, 0xb8001, 0x03);          /* line 0: pixel 7 = colour 3 */
    memb(&r, 0xb8000 + 0x2000, 0xc0); /* line 1 (odd bank): pixel 0 = 3 */
    memb(&r, 0xb8000 + 80, 0x01);     /* line 2: pixel 3 = 1 */
    cr_assert_eq(plane(&r, 1, 0), 0x03, "odd byte in plane 1");
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 320);
    cr_assert_eq(h, 200);
    cr_assert_eq(px[0], 0);
    cr_assert_eq(px[1], 0xff0000);
    cr_assert_eq(px[7], 0x0000ff);
    cr_assert_eq(px[1024], 0x0000ff);
    cr_assert_eq(px[2 * 1024 + 3], 0xff0000);
    rig_free(&r);
}

static void load_glyph(struct rig *r, uint8_t ch, const uint8_t rows[16])
{
    /* Font access as a BIOS does it: plane 2, sequential addressing. */
    wreg(r, 0x3c4, 2, 0x04);
    wreg(r, 0x3c4, 4, 0x06);
    wreg(r, 0x3ce, 4, 0x02);
    wreg(r, 0x3ce, 5, 0x00);
    wreg(r, 0x3ce, 6, 0x04);
    for (int i = 0; i < 16; i++)
        memb(r, 0xa0000 + ch * 32u + (unsigned)i, rows[i]);
    wreg(r, 0x3c4, 2, 0x03);
    wreg(r, 0x3c4, 4, 0x02);
    wreg(r, 0x3ce, 4, 0x00);
    wreg(r, 0x3ce, 5, 0x10);
    wreg(r, 0x3ce, 6, 0x0e);
}

Test(vga, odd_even_text_snapshot_and_render)
{
    struct rig r = rig_new();
    set_mode(&r, &mode3);
    const char *msg = "Hello, VGA";
    for (int i = 0; msg[i]; i++) {
        memb(&r, 0xb8000 + 2u * (unsigned)i, (uint8_t)msg[i]);
        memb(&r, 0xb8001 + 2u * (unsigned)i, 0x07);
    }
    memb(&r, 0xb8000 + 160 * 24 + 158, 'Z');
    memb(&r, 0xb8000 + 160 * 2, 0x01);
    /* Odd/even: characters in plane 0, attributes in plane 1. */
    cr_assert_eq(plane(&r, 0, 0), 'H');
    cr_assert_eq(plane(&r, 1, 0), 0x07);
    cr_assert_eq(plane(&r, 0, 2), 'e');
    cr_assert_eq(plane(&r, 2, 0), 0);
    cr_assert_eq(rdb(&r, 0xb8002), 'e');
    cr_assert_eq(rdb(&r, 0xb8003), 0x07);
    int cols, rows;
    vga_text_size(r.vga, &cols, &rows);
    cr_assert_eq(cols, 80);
    cr_assert_eq(rows, 25);
    static char buf[81 * 25 + 1];
    size_t n = vga_text_snapshot(r.vga, buf, sizeof(buf));
    cr_assert_eq(strncmp(buf, "Hello, VGA\n\n.\n", 14), 0, "got [%.20s]", buf);
    cr_assert_eq(n, strlen(buf));
    const char *last = strrchr(buf, 'Z');
    cr_assert_not_null(last);
    cr_assert_eq(last - buf, (ptrdiff_t)(n - 2));
    cr_assert_eq(buf[n - 1], '\n');
    /* Truncation stays inside the buffer. */
    char small[6];
    cr_assert_eq(vga_text_snapshot(r.vga, small, sizeof(small)), 5);
    cr_assert_str_eq(small, "Hello");
    /* Rendering from the font in plane 2: 'H' row 0 = 10000001b. */
    const uint8_t glyph[16] = { 0x81, 0x81 };
    load_glyph(&r, 'H', glyph);
    set_dac(&r, 0x07, 42, 42, 42);
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 720);
    cr_assert_eq(h, 400);
    cr_assert_eq(px[0], 0xaaaaaa);
    cr_assert_eq(px[1], 0);
    cr_assert_eq(px[7], 0xaaaaaa);
    cr_assert_eq(px[8], 0, "ninth column is background for letters");
    cr_assert_eq(px[2 * 1024], 0, "glyph row 2 empty");
    /* Underline (attribute 01h) on the CR14 line. */
    memb(&r, 0xb8003, 0x01);
    set_dac(&r, 0x01, 0, 0, 42);
    wreg(&r, 0x3d4, 0x14, 0x0f);
    px = render(&r, &w, &h);
    cr_assert_eq(px[15 * 1024 + 9], 0x0000aa, "underline of cell 1");
    cr_assert_eq(px[14 * 1024 + 9], 0);
    wreg(&r, 0x3d4, 0x14, 0x1f);
    /* Cursor at cell 0, lines 13-14 (CR0A/0B), visible at frame 0. */
    cr_assert_eq(px[13 * 1024 + 4], 0xaaaaaa);
    wreg(&r, 0x3d4, 0x0a, 0x20);
    px = render(&r, &w, &h);
    cr_assert_eq(px[13 * 1024 + 4], 0, "cursor disabled");
    /* Pixel panning AR13 = 0 in 9-dot mode: one pixel to the left. */
    cr_assert_eq(px[1024], 0xaaaaaa);
    inb(&r, 0x3da);
    outb(&r, 0x3c0, 0x33);
    outb(&r, 0x3c0, 0x00);
    px = render(&r, &w, &h);
    cr_assert_eq(px[0], 0, "dot 1");
    cr_assert_eq(px[6], 0xaaaaaa, "dot 7");
    outb(&r, 0x3c0, 0x33);
    outb(&r, 0x3c0, 0x08);
    /* Preset row scan 1: the first row starts at glyph line 1. */
    wreg(&r, 0x3d4, 0x08, 0x01);
    px = render(&r, &w, &h);
    cr_assert_eq(px[0], 0xaaaaaa);
    cr_assert_eq(px[1024], 0, "glyph line 2");
    wreg(&r, 0x3d4, 0x08, 0x00);
    /* Sequencer reset renders black. */
    wreg(&r, 0x3c4, 0, 0x01);
    px = render(&r, &w, &h);
    cr_assert_eq(px[7], 0);
    wreg(&r, 0x3c4, 0, 0x03);
    px = render(&r, &w, &h);
    cr_assert_eq(px[7], 0xaaaaaa);
    /* Screen off (Clocking Mode bit 5) renders black. */
    wreg(&r, 0x3c4, 1, 0x20);
    px = render(&r, &w, &h);
    cr_assert_eq(px[0], 0);
    /* In a graphics mode there is no text. */
    set_mode(&r, &mode13);
    cr_assert_eq(vga_text_snapshot(r.vga, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "");
    rig_free(&r);
}

Test(vga, built_in_mode3_for_biosless_boots)
{
    struct rig r = rig_new();
    vga_set_mode3(r.vga);
    memb(&r, 0xb8000, 'O');
    memb(&r, 0xb8002, 'K');
    char buf[128];
    vga_text_snapshot(r.vga, buf, sizeof(buf));
    cr_assert_eq(strncmp(buf, "OK\n\n", 4), 0, "[%.8s]", buf);
    cr_assert_eq(rreg(&r, 0x3d4, 0x0a), 0x0d);
    cr_assert_eq(inb(&r, 0x3cc), 0x67);
    /* Colour 1 (blue) is DAC entry 1 = 0,0,42. */
    outb(&r, 0x3c7, 1);
    cr_assert_eq(inb(&r, 0x3c9), 0);
    cr_assert_eq(inb(&r, 0x3c9), 0);
    cr_assert_eq(inb(&r, 0x3c9), 42);
    /* Entry 3Fh (white) 63,63,63; 14h (brown) 42,21,0. */
    outb(&r, 0x3c7, 0x14);
    cr_assert_eq(inb(&r, 0x3c9), 42);
    cr_assert_eq(inb(&r, 0x3c9), 21);
    cr_assert_eq(inb(&r, 0x3c9), 0);
    int w, h;
    render(&r, &w, &h);
    cr_assert_eq(w, 720);
    cr_assert_eq(h, 400);
    rig_free(&r);
}

Test(vga, render_rejects_small_buffers)
{
    struct rig r = rig_new();
    set_mode(&r, &mode13);
    uint32_t tiny[16];
    int w = 0, h = 4;
    cr_assert_eq(vga_render(r.vga, tiny, &w, &h, 4), -1);
    cr_assert_eq(w, 320);
    cr_assert_eq(h, 200);
    rig_free(&r);
}

/* ----------------------------------------------------------------- VBE */

static void vbe_w(struct rig *r, uint16_t idx, uint16_t v)
{
    io_write(r->io, VBE_DISPI_IOPORT_INDEX, idx, 2);
    io_write(r->io, VBE_DISPI_IOPORT_DATA, v, 2);
}

static uint16_t vbe_r(struct rig *r, uint16_t idx)
{
    io_write(r->io, VBE_DISPI_IOPORT_INDEX, idx, 2);
    return (uint16_t)io_read(r->io, VBE_DISPI_IOPORT_DATA, 2);
}

Test(vga, vbe_id_caps_and_memory)
{
    struct rig r = rig_new();
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ID), VBE_DISPI_ID0);
    vbe_w(&r, VBE_DISPI_INDEX_ID, VBE_DISPI_ID5);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ID), VBE_DISPI_ID5);
    vbe_w(&r, VBE_DISPI_INDEX_ID, 0x1234);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ID), VBE_DISPI_ID5);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 800);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_XRES), VBE_DISPI_MAX_XRES);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_YRES), VBE_DISPI_MAX_YRES);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_BPP), VBE_DISPI_MAX_BPP);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, 0);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_XRES), 800);
    /* A mode beyond the limits is refused. */
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 2568);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 1600);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 32);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 0);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 13);
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 640);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 480);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED, 0, "bad bpp");
    rig_free(&r);
}

Test(vga, vbe_lfb_32bpp_render_and_panning)
{
    struct rig r = rig_new();
    cr_assert_eq(vga_map_lfb(r.vga, 0xe0000000), 0);
    memset(vga_vram(r.vga), 0x77, 4096); /* cleared by the mode set */
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 64);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 48);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 32);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ENABLE), VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_VIRT_WIDTH), 64);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_VIRT_HEIGHT), VGA_VRAM_SIZE / 256 > 0xffff ? 0xffff
                                                         : VGA_VRAM_SIZE / 256);
    cr_assert_eq(vga_vram(r.vga)[0], 0);
    /* XRES is fixed while enabled. */
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 32);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_XRES), 64);
    phys_write(r.pm, 0xe0000000 + (5 * 64 + 3) * 4, 0x00123456, 4);
    phys_write(r.pm, 0xe0000000 + (48 * 64) * 4, 0x00abcdef, 4); /* line 48: off screen */
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 64);
    cr_assert_eq(h, 48);
    cr_assert_eq(px[5 * 1024 + 3], 0x123456);
    cr_assert_eq(px[0], 0);
    /* Y offset pans the visible window. */
    vbe_w(&r, VBE_DISPI_INDEX_Y_OFFSET, 1);
    vbe_w(&r, VBE_DISPI_INDEX_X_OFFSET, 3);
    px = render(&r, &w, &h);
    cr_assert_eq(px[4 * 1024 + 0], 0x123456);
    vbe_w(&r, VBE_DISPI_INDEX_X_OFFSET, 0);
    px = render(&r, &w, &h);
    cr_assert_eq(px[47 * 1024], 0xabcdef);
    /* Disabling returns to the VGA. */
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, 0);
    set_mode(&r, &mode13);
    render(&r, &w, &h);
    cr_assert_eq(w, 320);
    rig_free(&r);
}

Test(vga, vbe_16_15_8_bpp_and_bank)
{
    struct rig r = rig_new();
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 32);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 8);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 16);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    /* LFB off: the bank at A0000h. */
    phys_write(r.pm, 0xa0000 + 2, 0xf800, 2); /* pixel 1: red */
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(px[1], 0xff0000);
    vbe_w(&r, VBE_DISPI_INDEX_BANK, 1);
    phys_write(r.pm, 0xa0000, 0x5a, 1);
    cr_assert_eq(vga_vram(r.vga)[0x10000], 0x5a);
    cr_assert_eq(rdb(&r, 0xa0000), 0x5a);
    vbe_w(&r, VBE_DISPI_INDEX_BANK, 0x1000); /* past VRAM: ignored */
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_BANK), 1);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, 0);
    /* 15 bpp */
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 15);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    phys_write(r.pm, 0xa0000 + 4, 0x03e0, 2); /* pixel 2: green */
    px = render(&r, &w, &h);
    cr_assert_eq(px[2], 0x00ff00);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, 0);
    /* 8 bpp through the DAC, then with the 8-bit DAC. */
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 8);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    set_dac(&r, 9, 63, 0, 63);
    phys_write(r.pm, 0xa0000 + 3, 9, 1);
    px = render(&r, &w, &h);
    cr_assert_eq(px[3], 0xff00ff);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_8BIT_DAC |
          VBE_DISPI_NOCLEARMEM);
    set_dac(&r, 9, 0x80, 0x40, 0x20);
    px = render(&r, &w, &h);
    cr_assert_eq(px[3], 0x804020);
    /* Virtual width: lines are 64 pixels apart. */
    vbe_w(&r, VBE_DISPI_INDEX_VIRT_WIDTH, 64);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_VIRT_WIDTH), 64);
    phys_write(r.pm, 0xa0000 + 64 + 3, 9, 1);
    px = render(&r, &w, &h);
    cr_assert_eq(px[1024 + 3], 0x804020);
    vbe_w(&r, VBE_DISPI_INDEX_VIRT_WIDTH, 8); /* below XRES: clamped */
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_VIRT_WIDTH), 32);
    rig_free(&r);
}

Test(vga, vbe_4bpp_planar_and_bank)
{
    struct rig r = rig_new();
    outb(&r, 0x3c2, 0x03);
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 64);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 8);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 4);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_ENABLE), VBE_DISPI_ENABLED);
    inb(&r, 0x3da);
    outb(&r, 0x3c0, 0x01);
    outb(&r, 0x3c0, 0x01);
    outb(&r, 0x3c0, 0x12);            /* colour plane enable */
    outb(&r, 0x3c0, 0x0f);
    outb(&r, 0x3c0, 0x20);
    set_dac(&r, 1, 0, 0, 63);
    wreg(&r, 0x3ce, 8, 0xff);         /* bit mask */
    wreg(&r, 0x3c4, 2, 0x01);         /* plane 0 */
    memb(&r, 0xa0000 + 8 + 1, 0x80);  /* line 1 (8 plane bytes a line), pixel 8 */
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 64);
    cr_assert_eq(h, 8);
    cr_assert_eq(px[1024 + 8], 0x0000ff);
    cr_assert_eq(px[1024 + 9], 0);
    vbe_w(&r, VBE_DISPI_INDEX_BANK, 1);
    memb(&r, 0xa0000, 0x5a);
    cr_assert_eq(vga_vram(r.vga)[0x10000 * 4], 0x5a, "bank 1 = plane address 64 KiB");
    rig_free(&r);
}

/* ----------------------------------------------------------------- PCI */

Test(vga, pci_function_bars)
{
    struct rig r;
    r.pm = phys_new();
    r.io = io_new();
    r.clock = vclock_new_manual();
    struct pci_bus *bus = pci_bus_new(r.pm, r.io);
    cr_assert_not_null(bus);
    int devfn = PCI_DEVFN(2, 0);
    r.vga = vga_pci_new(bus, devfn, r.pm, r.io, r.clock);
    cr_assert_not_null(r.vga);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_VENDOR_ID, 2), VGA_PCI_VENDOR);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_DEVICE_ID, 2), VGA_PCI_DEVICE);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_CLASS_SUB, 2), 0x0300);
    pci_config_write(bus, devfn, PCI_BAR0, 0xffffffff, 4);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_BAR0, 4), 0xff000008);
    pci_config_write(bus, devfn, PCI_BAR0 + 8, 0xffffffff, 4);
    cr_assert_eq(pci_config_read(bus, devfn, PCI_BAR0 + 8, 4), 0xfffff000);
    pci_config_write(bus, devfn, PCI_BAR0, 0xfd000000, 4);
    pci_config_write(bus, devfn, PCI_BAR0 + 8, 0xfebf0000, 4);
    pci_config_write(bus, devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    /* Program the mode through BAR2's DISPI registers. */
    phys_write(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_XRES, 16, 2);
    phys_write(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_YRES, 16, 2);
    phys_write(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_BPP, 24, 2);
    phys_write(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_ENABLE,
               VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED, 2);
    cr_assert_eq(vbe_r(&r, VBE_DISPI_INDEX_XRES), 16);
    cr_assert_eq(phys_read(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VBE + 2 * VBE_DISPI_INDEX_BPP, 2),
                 24);
    /* 24 bpp pixel (2, 1) through the LFB at BAR0. */
    phys_write(r.pm, 0xfd000000 + (16 * 1 + 2) * 3, 0x112233, 4);
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    cr_assert_eq(w, 16);
    cr_assert_eq(px[1024 + 2], 0x112233);
    /* The VGA ports through BAR2 (0x400 + port - 0x3C0). */
    phys_write(r.pm, 0xfebf0000 + VGA_PCI_MMIO_VGA + 0x08, 4, 1); /* 3C8 */
    cr_assert_eq(inb(&r, 0x3c8), 4);
    vga_free(r.vga);
    pci_bus_free(bus);
    vclock_free(r.clock);
    io_free(r.io);
    phys_free(r.pm);
}

/* ------------------------------------------------------ guest garbage */

Test(vga, random_programming_stays_in_bounds)
{
    struct rig r = rig_new();
    cr_assert_eq(vga_map_lfb(r.vga, 0xe0000000), 0);
    static uint32_t big[2560 * 1600];
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < 64; i++) {
            seed = seed * 1103515245u + 12345u;
            uint16_t port = (uint16_t)(0x3b0 + (seed >> 16) % 0x30);
            seed = seed * 1103515245u + 12345u;
            if (seed & 0x10000)
                outb(&r, port, (uint8_t)(seed >> 20));
            else
                (void)inb(&r, port);
        }
        seed = seed * 1103515245u + 12345u;
        vbe_w(&r, (uint16_t)((seed >> 16) % 12), (uint16_t)(seed >> 3));
        for (int i = 0; i < 64; i++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t a = 0xa0000 + (seed >> 8) % 0x20000;
            memb(&r, a, (uint8_t)seed);
            (void)rdb(&r, a);
        }
        vclock_advance(r.clock, 3000000);
        int w = 0, h = 1600;
        if (vga_render(r.vga, big, &w, &h, 2560) == 0)
            cr_assert(w <= 2560 && h <= 1600);
        char txt[4096];
        cr_assert(vga_text_snapshot(r.vga, txt, sizeof(txt)) < sizeof(txt));
    }
    rig_free(&r);
}

/* ------------------------------------------------------- display side */

static unsigned dirty_count(const uint64_t *bits)
{
    unsigned n = 0;
    for (unsigned i = 0; i < VGA_DIRTY_WORDS; i++)
        n += (unsigned)__builtin_popcountll(bits[i]);
    return n;
}

static bool dirty_page(const uint64_t *bits, unsigned p)
{
    return (bits[p / 64] >> (p % 64)) & 1;
}

Test(vga, dirty_pages_from_the_window_the_lfb_and_mode_sets)
{
    static uint64_t bits[VGA_DIRTY_WORDS];
    struct rig r = rig_new();
    cr_assert(vga_take_dirty(r.vga, bits), "a new VGA: every page unseen");
    cr_assert_eq(dirty_count(bits), VGA_DIRTY_PAGES);
    cr_assert_not(vga_take_dirty(r.vga, bits));
    cr_assert_eq(dirty_count(bits), 0);
    /* Text through the A0000h window (MMIO): cell 1600 is plane
     * address 3200, VRAM byte 12800, page 3. */
    set_mode(&r, &mode3);
    memb(&r, 0xb8000 + 3200, 'x');
    cr_assert(vga_take_dirty(r.vga, bits));
    cr_assert_eq(dirty_count(bits), 1);
    cr_assert(dirty_page(bits, 3));
    /* Reads dirty nothing. */
    (void)rdb(&r, 0xb8000 + 8000);
    cr_assert_not(vga_take_dirty(r.vga, bits));
    /* The LFB is RAM: memory/'s dirty log sees the store. */
    cr_assert_eq(vga_map_lfb(r.vga, 0xe0000000), 0);
    phys_write(r.pm, 0xe0000000u + 5 * 4096 + 8, 0x12345678, 4);
    phys_write(r.pm, 0xe0000000u + 0x800000, 1, 1);
    cr_assert(vga_take_dirty(r.vga, bits));
    cr_assert_eq(dirty_count(bits), 2);
    cr_assert(dirty_page(bits, 5) && dirty_page(bits, 0x800));
    /* Enabling a VBE mode clears (so dirties) the mode's memory. */
    vbe_w(&r, VBE_DISPI_INDEX_XRES, 640);
    vbe_w(&r, VBE_DISPI_INDEX_YRES, 480);
    vbe_w(&r, VBE_DISPI_INDEX_BPP, 32);
    vbe_w(&r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    cr_assert(vga_take_dirty(r.vga, bits));
    cr_assert_eq(dirty_count(bits), 640 * 480 * 4 / 4096);
    /* Banked access through A0000h (LFB off). */
    vbe_w(&r, VBE_DISPI_INDEX_BANK, 2);
    memb(&r, 0xa0000 + 0x10, 7);
    cr_assert(vga_take_dirty(r.vga, bits));
    cr_assert_eq(dirty_count(bits), 1);
    cr_assert(dirty_page(bits, 0x20000 / 4096));
    rig_free(&r);
}

Test(vga, mode3_for_biosless_boots_has_the_bios_font)
{
    struct rig r = rig_new();
    vga_set_mode3(r.vga);
    memb(&r, 0xb8000, 'A');
    memb(&r, 0xb8001, 0x07);
    wreg(&r, 0x3d4, 0x0f, 80); /* the cursor on the next row */
    int w, h;
    uint32_t *px = render(&r, &w, &h);
    for (unsigned y = 0; y < 16; y++)
        for (unsigned x = 0; x < 8; x++) {
            bool on = font_glyph_row('A', (int)y) & (0x80 >> x);
            cr_assert_eq(px[y * 1024 + x] != 0, on, "pixel %u,%u", x, y);
        }
    cr_assert(font_glyph_row('A', 8) != 0, "the font has a real 'A'");
    rig_free(&r);
}

Test(vga, view_is_the_registers_and_the_vram)
{
    struct rig r = rig_new();
    set_mode(&r, &mode13);
    set_dac(&r, 5, 1, 2, 3);
    struct vga_view v;
    vga_get_view(r.vga, &v);
    cr_assert_eq(v.vram, vga_vram(r.vga));
    cr_assert_eq(v.regs.misc, mode13.misc);
    cr_assert_eq(memcmp(v.regs.crtc, mode13.crtc, sizeof(mode13.crtc)), 0);
    cr_assert_eq(v.regs.dac[15], 1);
    cr_assert_eq(v.regs.dac[17], 3);
    cr_assert(v.regs.ar_index & VGA_AR_PAS);
    /* The frame count follows virtual time (70 Hz in mode 13h). */
    uint64_t f0 = v.frame;
    vclock_advance(r.clock, 1000000000ull);
    vga_get_view(r.vga, &v);
    cr_assert(v.frame - f0 >= 69 && v.frame - f0 <= 71, "%llu frames",
              (unsigned long long)(v.frame - f0));
    rig_free(&r);
}
