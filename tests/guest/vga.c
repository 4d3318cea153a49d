/*
 * vga.c — the display adapter at 00:02.0 (PCI 1234:1111, IBM VGA plus the
 * Bochs VBE DISPI interface) from inside a guest, the way a BIOS, Linux's
 * vgacon and bochs-drm use it: text memory at B8000h in mode 3, the DAC,
 * the attribute controller's flip-flop, the CRTC, Input Status 1's
 * retrace bits, the DISPI version handshake and a linear-framebuffer mode
 * through BAR0.
 */
#include "lib/guest.h"

#define VGA_DEV 2
#define LFB_BASE 0xe0000000u /* where this test puts BAR0 */
#define SPIN_MAX 20000000u

#define VBE_INDEX 0x1ce
#define VBE_DATA 0x1cf
enum {
    VBE_ID = 0, VBE_XRES = 1, VBE_YRES = 2, VBE_BPP = 3, VBE_ENABLE = 4, VBE_BANK = 5,
    VBE_VIRT_WIDTH = 6, VBE_VIRT_HEIGHT = 7, VBE_MEM64K = 0xa,
};
#define VBE_ENABLED 0x01
#define VBE_LFB 0x40
#define VBE_NOCLEAR 0x80

static void vbe_write(uint16_t idx, uint16_t v)
{
    outw(VBE_INDEX, idx);
    outw(VBE_DATA, v);
}

static uint16_t vbe_read(uint16_t idx)
{
    outw(VBE_INDEX, idx);
    return inw(VBE_DATA);
}

static void test_pci(void)
{
    CHECK_EQ(pci_read32(VGA_DEV, 0, 0x00), 0x11111234);
    CHECK_EQ(pci_read32(VGA_DEV, 0, 0x08) >> 8, 0x030000); /* VGA-compatible display */
    /* BAR0: prefetchable 32-bit memory, the 16 MiB of VRAM. */
    pci_write32(VGA_DEV, 0, 0x10, 0xffffffffu);
    uint32_t sz = pci_read32(VGA_DEV, 0, 0x10);
    CHECK_EQ(sz & 0xf, 0x8);
    CHECK_EQ(~(sz & ~0xfu) + 1, 16u << 20);
    pci_write32(VGA_DEV, 0, 0x10, LFB_BASE);
    CHECK_EQ(pci_read32(VGA_DEV, 0, 0x10), LFB_BASE | 0x8);
    uint32_t cmd = pci_read32(VGA_DEV, 0, 0x04) & 0xffff;
    pci_write16(VGA_DEV, 0, 0x04, (uint16_t)(cmd | 0x03)); /* I/O and memory */
    /* No interrupt: the VGA has no INTx. */
    CHECK_EQ(pci_read8(VGA_DEV, 0, 0x3d), 0);
}

static void test_text(void)
{
    /* Mode 3 as a BIOS leaves it: colour (3Dx) addressing, the B8000h
     * window (GR6 memory map 3), odd/even. */
    CHECK_EQ(inb(0x3cc) & 0x01, 0x01);
    outb(0x3ce, 0x06);
    CHECK_EQ((inb(0x3cf) >> 2) & 3, 3);
    volatile uint16_t *text = (volatile uint16_t *)0xb8000;
    const char *hello = "HELLO";
    for (unsigned i = 0; hello[i]; i++)
        text[i] = (uint16_t)(0x1f00 | (uint8_t)hello[i]); /* white on blue */
    for (unsigned i = 0; hello[i]; i++)
        CHECK_EQ(text[i], 0x1f00 | (uint8_t)hello[i]);
    /* Byte accesses: characters at even addresses, attributes at odd. */
    volatile uint8_t *bytes = (volatile uint8_t *)0xb8000;
    CHECK_EQ(bytes[0], 'H');
    CHECK_EQ(bytes[1], 0x1f);
    bytes[9] = 0x4e; /* the O: yellow on red */
    CHECK_EQ(text[4], 0x4e00 | 'O');
    /* The last cell of the 32 KiB window. */
    volatile uint16_t *last = (volatile uint16_t *)(0xb8000 + 0x8000 - 2);
    *last = 0x0741;
    CHECK_EQ(*last, 0x0741);
    /* With memory map 3, A0000h-AFFFFh is not the VGA's: reads float high
     * and writes go nowhere. */
    volatile uint8_t *a0000 = (volatile uint8_t *)0xa0000;
    *a0000 = 0x12;
    CHECK_EQ(*a0000, 0xff);
    /* The cursor position, CRTC 0Eh/0Fh, is read/write. */
    outb(0x3d4, 0x0e);
    outb(0x3d5, 0x00);
    outb(0x3d4, 0x0f);
    outb(0x3d5, 0x05);
    outb(0x3d4, 0x0e);
    CHECK_EQ(inb(0x3d5), 0x00);
    outb(0x3d4, 0x0f);
    CHECK_EQ(inb(0x3d5), 0x05);
    CHECK_EQ(inb(0x3d4), 0x0f); /* the index reads back */
    puts("vga: text memory ok\n");
}

static void test_dac(void)
{
#ifndef QEMU_VALIDATE
    /* The PEL mask (IBM VGA, "Video DAC": read/write, ANDed with the
     * attribute output) as a BIOS sets it, and writable. QEMU does not
     * model it: reads give 0. */
    CHECK_EQ(inb(0x3c6), 0xff);
    outb(0x3c6, 0x0f);
    CHECK_EQ(inb(0x3c6), 0x0f);
    outb(0x3c6, 0xff);
#endif
    static const uint8_t rgb[6] = { 0x3f, 0x15, 0x2a, 0x01, 0x20, 0x3e };
    outb(0x3c8, 0x40);            /* write index */
    for (unsigned i = 0; i < 6; i++)
        outb(0x3c9, rgb[i]);      /* two entries, auto-increment */
    CHECK_EQ(inb(0x3c7) & 3, 0);  /* DAC state: write mode */
    CHECK_EQ(inb(0x3c8), 0x42);   /* the write index moved on */
    outb(0x3c7, 0x40);            /* read index */
    CHECK_EQ(inb(0x3c7) & 3, 3);  /* read mode */
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(inb(0x3c9), rgb[i]);
#ifndef QEMU_VALIDATE
    /* The VGA DAC's registers are 6 bits wide (IBM VGA, "Video DAC"): the
     * top two bits of a written byte are not kept. QEMU keeps 8. */
    outb(0x3c8, 0x41);
    outb(0x3c9, 0xff);
    outb(0x3c9, 0xc0);
    outb(0x3c9, 0x7f);
    outb(0x3c7, 0x41);
    CHECK_EQ(inb(0x3c9), 0x3f);
    CHECK_EQ(inb(0x3c9), 0x00);
    CHECK_EQ(inb(0x3c9), 0x3f);
#endif
    puts("vga: DAC ok\n");
}

static void test_attribute(void)
{
    /* Reading Input Status 1 puts the flip-flop on "index"; the index
     * register (3C0h) keeps PAS (bit 5) set so the screen stays on. */
    inb(0x3da);
    outb(0x3c0, 0x20 | 0x10);      /* index 10h: mode control */
#ifndef QEMU_VALIDATE
    /* The address register reads back at 3C0h whatever the flip-flop
     * (IBM VGA, Attribute Address Register; data reads are at 3C1h).
     * QEMU reads 0 there while the flip-flop points at data. */
    CHECK_EQ(inb(0x3c0), 0x30);
#endif
    uint8_t mode = inb(0x3c1);
    CHECK_EQ(mode & 0x01, 0);      /* text, not graphics */
    outb(0x3c0, mode);             /* flip-flop: data; rewrite the same */
    outb(0x3c0, 0x20 | 0x11);      /* back at index: overscan colour */
    outb(0x3c0, 0x05);
    inb(0x3da);
    outb(0x3c0, 0x20 | 0x11);
    CHECK_EQ(inb(0x3c1), 0x05);
    /* A write after a 3DAh read is an index again, not data. */
    inb(0x3da);
    outb(0x3c0, 0x20 | 0x11);
    outb(0x3c0, 0x00);
    inb(0x3da);
    outb(0x3c0, 0x20 | 0x11);
    CHECK_EQ(inb(0x3c1), 0x00);
    puts("vga: attribute controller ok\n");
}

static void test_retrace(void)
{
    /* Input Status 1: bit 3 vertical retrace, bit 0 display disabled
     * (either retrace). Both must be seen high and low. */
    unsigned seen_v[2] = { 0, 0 }, seen_d[2] = { 0, 0 };
    unsigned n;
    for (n = 0; n < SPIN_MAX; n++) {
        uint8_t st = inb(0x3da);
        seen_v[(st >> 3) & 1]++;
        seen_d[st & 1]++;
        if (seen_v[0] > 10 && seen_v[1] > 10 && seen_d[0] > 10 && seen_d[1] > 10)
            break;
    }
    printf("vga: 3DAh vertical retrace %u/%u, display disabled %u/%u\n", seen_v[1], seen_v[0],
           seen_d[1], seen_d[0]);
    CHECK(n < SPIN_MAX);
    /* A wait for the start of vertical retrace, as a BIOS does before
     * touching the palette: first out of it, then into it. */
    for (n = 0; n < SPIN_MAX && (inb(0x3da) & 0x08); n++)
        ;
    CHECK(n < SPIN_MAX);
    for (n = 0; n < SPIN_MAX && !(inb(0x3da) & 0x08); n++)
        ;
    CHECK(n < SPIN_MAX);
    puts("vga: retrace ok\n");
}

static uint8_t seq_get(uint8_t i) { outb(0x3c4, i); return inb(0x3c5); }
static void seq_set(uint8_t i, uint8_t v) { outb(0x3c4, i); outb(0x3c5, v); }
static uint8_t gc_get(uint8_t i) { outb(0x3ce, i); return inb(0x3cf); }
static void gc_set(uint8_t i, uint8_t v) { outb(0x3ce, i); outb(0x3cf, v); }

/* Plane p's byte at A0000h + off, through read mode 0 / read map select. */
static uint8_t plane_byte(unsigned p, unsigned off)
{
    gc_set(4, (uint8_t)p);
    return *(volatile uint8_t *)(0xa0000 + off);
}

/*
 * The planar memory of 16-colour modes (12h and friends), as BIOS
 * scrolling, DOS programs and Windows' VGA driver use it (IBM VGA,
 * Graphics Controller and Sequencer registers): map mask, set/reset,
 * the bit mask with the latches, write modes 1-3, the logical operation
 * and rotation, read mode 1's colour compare.
 */
static void test_planar(void)
{
    uint8_t sr2 = seq_get(2), sr4 = seq_get(4);
    uint8_t gr[9];
    for (uint8_t i = 0; i < 9; i++)
        gr[i] = gc_get(i);
    seq_set(4, 0x06);  /* extended memory, sequential (no odd/even), no chain-4 */
    gc_set(5, 0x00);   /* write mode 0, read mode 0 */
    gc_set(6, 0x05);   /* graphics, A0000h-AFFFFh */
    gc_set(0, 0x00); gc_set(1, 0x00); gc_set(3, 0x00); gc_set(8, 0xff);
    volatile uint8_t *m = (volatile uint8_t *)0xa0000;

    /* Map mask: one plane at a time. */
    for (unsigned p = 0; p < 4; p++) {
        seq_set(2, (uint8_t)(1 << p));
        m[0] = (uint8_t)(0x10 + p);
    }
    seq_set(2, 0x0f);
    for (unsigned p = 0; p < 4; p++)
        CHECK_EQ(plane_byte(p, 0), 0x10 + p);

    /* Set/reset: planes 1 and 3 get FFh, 0 and 2 get 00h, whatever the
     * CPU data. */
    gc_set(0, 0x0a);
    gc_set(1, 0x0f);
    m[1] = 0x5a;
    CHECK_EQ(plane_byte(0, 1), 0x00);
    CHECK_EQ(plane_byte(1, 1), 0xff);
    CHECK_EQ(plane_byte(2, 1), 0x00);
    CHECK_EQ(plane_byte(3, 1), 0xff);
    gc_set(1, 0x00);

    /* Bit mask: the masked-off bits come from the latches, loaded by a
     * read of the same address. */
    (void)m[1];
    gc_set(8, 0x0f);
    m[1] = 0x33;
    CHECK_EQ(plane_byte(0, 1), 0x03);
    CHECK_EQ(plane_byte(1, 1), 0xf3);
    gc_set(8, 0xff);

    /* Write mode 1: the latches of offset 0 copied to offset 2. */
    (void)m[0];
    gc_set(5, 0x01);
    m[2] = 0x00;
    gc_set(5, 0x00);
    for (unsigned p = 0; p < 4; p++)
        CHECK_EQ(plane_byte(p, 2), 0x10 + p);

    /* Write mode 2: the low nibble is a colour, spread over the bit mask's
     * pixels. Colour 6 on pixels 7-4, the latches (offset 3 zero) on the
     * rest. */
    seq_set(2, 0x0f);
    m[3] = 0x00;
    (void)m[3];
    gc_set(5, 0x02);
    gc_set(8, 0xf0);
    m[3] = 0x06;
    gc_set(8, 0xff);
    gc_set(5, 0x00);
    CHECK_EQ(plane_byte(0, 3), 0x00);
    CHECK_EQ(plane_byte(1, 3), 0xf0);
    CHECK_EQ(plane_byte(2, 3), 0xf0);
    CHECK_EQ(plane_byte(3, 3), 0x00);

    /* Read mode 1: a 1 for each pixel of colour 6 (colour don't care
     * all planes). */
    gc_set(2, 0x06);
    gc_set(7, 0x0f);
    gc_set(5, 0x08);
    CHECK_EQ(m[3], 0xf0);
    gc_set(2, 0x00);
    CHECK_EQ(m[3], 0x0f);
    gc_set(7, 0x00); /* nothing compared: every pixel matches */
    CHECK_EQ(m[3], 0xff);
    gc_set(5, 0x00);

    /* Logical operation XOR with the latches, data rotated right by 4. */
    (void)m[0];
    gc_set(3, 0x18 | 0x04);
    m[4] = 0x0f; /* rotated: F0h, XOR latch 10h+p */
    gc_set(3, 0x00);
    for (unsigned p = 0; p < 4; p++)
        CHECK_EQ(plane_byte(p, 4), 0xf0 ^ (0x10 + p));

    /* Write mode 3: the rotated CPU byte ANDed with the bit mask selects
     * the pixels that get the set/reset colour (5 here). */
    m[5] = 0x00;
    (void)m[5];
    gc_set(0, 0x05);
    gc_set(5, 0x03);
    m[5] = 0x3c;
    gc_set(5, 0x00);
    gc_set(0, 0x00);
    CHECK_EQ(plane_byte(0, 5), 0x3c);
    CHECK_EQ(plane_byte(1, 5), 0x00);
    CHECK_EQ(plane_byte(2, 5), 0x3c);
    CHECK_EQ(plane_byte(3, 5), 0x00);

    for (uint8_t i = 0; i < 9; i++)
        gc_set(i, gr[i]);
    seq_set(2, sr2);
    seq_set(4, sr4);
    puts("vga: planar write and read modes ok\n");
}

static void test_vbe(void)
{
    /* The DISPI version handshake (Bochs vbe.h): write an ID, read it back
     * if supported. */
    for (uint16_t id = 0xb0c0; id <= 0xb0c5; id++) {
        vbe_write(VBE_ID, id);
        CHECK_EQ(vbe_read(VBE_ID), id);
    }
    vbe_write(VBE_ID, 0xb0c6); /* unknown: ignored */
    CHECK_EQ(vbe_read(VBE_ID), 0xb0c5);
    CHECK_EQ(vbe_read(VBE_MEM64K), (16u << 20) >> 16);

    /* 640x480x32 with the linear framebuffer, as bochs-drm sets a mode. */
    vbe_write(VBE_ENABLE, 0);
    vbe_write(VBE_XRES, 640);
    vbe_write(VBE_YRES, 480);
    vbe_write(VBE_BPP, 32);
    vbe_write(VBE_ENABLE, VBE_ENABLED | VBE_LFB);
    CHECK_EQ(vbe_read(VBE_ENABLE) & (VBE_ENABLED | VBE_LFB), VBE_ENABLED | VBE_LFB);
    CHECK_EQ(vbe_read(VBE_XRES), 640);
    CHECK_EQ(vbe_read(VBE_BPP), 32);
    CHECK(vbe_read(VBE_VIRT_WIDTH) >= 640);
    volatile uint32_t *lfb = (volatile uint32_t *)LFB_BASE;
    CHECK_EQ(lfb[0], 0); /* enabling without NOCLEAR clears the memory */
    lfb[0] = 0x00ff8040;
    lfb[640 * 479 + 639] = 0x12345678;
    CHECK_EQ(lfb[0], 0x00ff8040);
    CHECK_EQ(lfb[640 * 479 + 639], 0x12345678);
    /* The same memory through the 64 KiB bank window at A0000h. */
    vbe_write(VBE_BANK, 0);
    CHECK_EQ(*(volatile uint32_t *)0xa0000, 0x00ff8040);
    uint32_t off = (640 * 479 + 639) * 4;
    vbe_write(VBE_BANK, (uint16_t)(off >> 16));
    CHECK_EQ(*(volatile uint32_t *)(0xa0000 + (off & 0xffff)), 0x12345678);
    vbe_write(VBE_BANK, 0);
    vbe_write(VBE_ENABLE, 0);
    CHECK_EQ(vbe_read(VBE_ENABLE) & VBE_ENABLED, 0);
    puts("vga: VBE ok\n");
}

void test_main(void)
{
    test_pci();
    test_text();
    test_dac();
    test_attribute();
    test_retrace();
    test_planar();
    test_vbe();
}
