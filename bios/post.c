/* bios/post.c — power-on self test (run once from the reset vector in
 * 32-bit flat PM) and the dispatcher for real-mode software interrupts. */
#include "bios.h"

uint32_t ram_below_4g;
uint64_t ram_above_4g;

static void set_vec(int v, uint16_t off)
{
    volatile uint16_t *ivt = (volatile uint16_t *)0;
    ivt[v * 2] = off;
    ivt[v * 2 + 1] = 0xf000;
}

/* Every vector gets a handler (IRET by default); IRQ vectors acknowledge
 * the PIC so an unexpected interrupt does not wedge its line. */
static void ivt_init(void)
{
    for (int v = 0; v < 256; v++) set_vec(v, F_OFF(int_dummy));
    for (int v = 0x08; v < 0x10; v++) set_vec(v, F_OFF(irq_master_default));
    for (int v = 0x70; v < 0x78; v++) set_vec(v, F_OFF(irq_slave_default));
    set_vec(0x08, F_OFF(int08_entry));
    set_vec(0x09, F_OFF(int09_entry));
    set_vec(0x10, F_OFF(int10_entry));
    set_vec(0x11, F_OFF(int11_entry));
    set_vec(0x12, F_OFF(int12_entry));
    set_vec(0x13, F_OFF(int13_entry));
    set_vec(0x14, F_OFF(int14_entry));
    set_vec(0x15, F_OFF(int15_entry));
    set_vec(0x16, F_OFF(int16_entry));
    set_vec(0x17, F_OFF(int17_entry));
    set_vec(0x18, F_OFF(int18_entry));
    set_vec(0x19, F_OFF(int19_entry));
    set_vec(0x1a, F_OFF(int1a_entry));
    set_vec(0x40, F_OFF(int40_entry));
    set_vec(0x70, F_OFF(int70_entry));
    set_vec(0x74, F_OFF(int74_entry));
    set_vec(0x76, F_OFF(int76_entry));
    set_vec(0x77, F_OFF(int77_entry));
    /* Vectors that are data pointers, not code (PC AT Tech. Ref.): 1Eh
     * diskette parameters; not provided: 1Dh video parameters, 1Fh/43h
     * font, 41h/46h fixed disk parameters. */
    volatile uint32_t *ivt = (volatile uint32_t *)0;
    ivt[0x1d] = ivt[0x1f] = ivt[0x41] = ivt[0x43] = ivt[0x46] = 0;
    ivt[0x1e] = 0xf0000000u | F_OFF(diskette_params);
}

/* 8259A ICW1-ICW4 (datasheet "Initialization command words"): edge
 * triggered, cascaded, vectors 08h and 70h, slave on IRQ2, 8086 mode. */
static void pic_init(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x08); outb(0xa1, 0x70);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    /* Unmask timer, keyboard, cascade; RTC (8), PS/2 aux (12), IDE (14,
     * 15). PCI IRQs stay masked until an OS driver takes them. */
    outb(0x21, 0xf8);
    outb(0xa1, 0x2e);
}

/* 8254 counter 0, mode 3 (square wave, as the PC AT BIOS sets it), count
 * 65536: IRQ0 at 18.2065 Hz. In mode 3 an even count goes down by two per
 * clock, twice per period (8254 datasheet, mode 3): udelay() allows for it. */
static void pit_init(void)
{
    outb(0x43, 0x36);
    outb(0x40, 0);
    outb(0x40, 0);
}

/* With a local APIC present (CPUID.1:EDX bit 9) the 8259's INTR reaches
 * the CPU through LINT0: put the APIC in virtual wire mode (Intel MP
 * Spec. 1.4 §3.6.2.2) — software enabled, LINT0 = ExtINT, LINT1 = NMI. */
static void lapic_virtual_wire(void)
{
    uint32_t f0, f1;
    __asm__ volatile("pushfl; popl %0; movl %0,%1; xorl $0x200000,%0; pushl %0; popfl;"
                     "pushfl; popl %0; pushl %1; popfl" : "=&r"(f0), "=&r"(f1));
    if (!((f0 ^ f1) & 0x200000)) return;        /* no CPUID */
    uint32_t a = 1, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    if (!(d & (1u << 9))) return;
    volatile uint32_t *apic = ptr(0xfee00000);
    apic[0xf0 / 4] = (apic[0xf0 / 4] & ~0xffu) | 0x100 | 0xff;
    apic[0x350 / 4] = 0x8700;
    apic[0x360 / 4] = 0x8400;
}

static uint8_t bcd2bin(uint8_t v) { return (uint8_t)((v >> 4) * 10 + (v & 15)); }

static void rtc_init(void)
{
    cmos_write(0x0a, 0x26);     /* 32.768 kHz time base, 1024 Hz rate */
    cmos_write(0x0b, 0x02);     /* 24 h, BCD, no interrupts, not SET */
    (void)cmos_read(0x0c);
    (void)cmos_read(0x0d);
    cmos_write(0x0f, 0x00);     /* shutdown status: normal POST */
    /* BDA tick count from the time of day: 1573040 ticks per day. */
    uint32_t s = bcd2bin(cmos_read(0x00)) + 60u * bcd2bin(cmos_read(0x02))
               + 3600u * bcd2bin(cmos_read(0x04));
    BDA32(0x6c) = s * 18u + s * 2065u / 10000u;   /* 18.2065 Hz */
}

static bool port_scratch(uint16_t base)
{
    outb(base + 7, 0x5a);
    if (inb(base + 7) != 0x5a) return false;
    outb(base + 7, 0xa5);
    return inb(base + 7) == 0xa5;
}

static void bda_init(void)
{
    memset(ptr(BDA), 0, 0x100);
    static const uint16_t com[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
    int ncom = 0;
    for (int i = 0; i < 4; i++)
        if (port_scratch(com[i])) {
            BDA16(0x00 + 2 * ncom) = com[i];
            BDA8(0x7c + ncom) = 10;             /* serial timeout */
            ncom++;
        }
    int nlpt = 0;
    outb(0x378, 0xaa);
    if (inb(0x378) == 0xaa) {
        BDA16(0x08) = 0x378;
        BDA8(0x78) = 20;
        nlpt = 1;
    }
    BDA16(0x0e) = EBDA_SEG;
    /* Equipment word: x87 present (bit 1), 80x25 colour (bits 4-5 = 10b),
     * serial count (9-11), parallel count (14-15). No diskette drives. */
    BDA16(0x10) = 0x0002 | 0x0020 | (uint16_t)(ncom << 9) | (uint16_t)(nlpt << 14);
    BDA16(0x13) = CONV_KB;
    BDA16(0x1a) = 0x1e;         /* keyboard buffer head, tail, start, end */
    BDA16(0x1c) = 0x1e;
    BDA16(0x80) = 0x1e;
    BDA16(0x82) = 0x3e;
    BDA8(0x96) = 0x10;          /* 101/102-key keyboard */

    uint8_t *ebda = ptr(lin(EBDA_SEG, 0));
    memset(ebda, 0, 0x400);
    ebda[0] = EBDA_KB;
}

static void mem_init(void)
{
    uint32_t ext = cmos_read(0x30) | (uint32_t)cmos_read(0x31) << 8;
    uint32_t ext16 = cmos_read(0x34) | (uint32_t)cmos_read(0x35) << 8;
    uint32_t hi = cmos_read(0x5b) | (uint32_t)cmos_read(0x5c) << 8
                | (uint32_t)cmos_read(0x5d) << 16;
    if (ext16)
        ram_below_4g = 16u * 1024 * 1024 + ext16 * 65536u;
    else
        ram_below_4g = 1024u * 1024 + ext * 1024u;
    ram_above_4g = (uint64_t)hi << 16;
}

void post_main(void)
{
    serial_init();
    ivt_init();
    bda_init();
    pic_init();
    lapic_virtual_wire();
    pit_init();
    rtc_init();
    vga_init();
    printf("Glass BIOS\n");
    mem_init();
    printf("Memory: %u KiB base, %u KiB extended", (unsigned)CONV_KB,
           (unsigned)(ram_below_4g / 1024 - 1024));
    if (ram_above_4g)
        printf(", %u MiB above 4 GiB", (unsigned)(ram_above_4g >> 20));
    printf("\n");
    kbd_init();
    pci_init();
    acpi_init();
    disk_init();
}

static void int14_handler(struct rm_frame *f)
{
    uint16_t port = f->edx.x < 4 ? BDA16(2 * f->edx.x) : 0;
    if (!port) { f->eax.h = 0x80; return; }
    switch (f->eax.h) {
    case 0x00: {    /* init: AL bits 7-5 baud, 4-3 parity, 2 stop, 1-0 length */
        static const uint16_t div[8] = { 1047, 768, 384, 192, 96, 48, 24, 12 };
        uint16_t d = div[f->eax.l >> 5];
        outb(port + 3, 0x80);
        outb(port, (uint8_t)d);
        outb(port + 1, (uint8_t)(d >> 8));
        outb(port + 3, f->eax.l & 0x1f);
        f->eax.h = inb(port + 5);
        f->eax.l = inb(port + 6);
        break;
    }
    case 0x01: {
        int i = 0;
        while (!(inb(port + 5) & 0x20) && i < 1000000) i++;
        if (i < 1000000) outb(port, f->eax.l);
        f->eax.h = inb(port + 5) | (i >= 1000000 ? 0x80 : 0);
        break;
    }
    case 0x02: {
        int i = 0;
        while (!(inb(port + 5) & 0x01) && i < 1000000) i++;
        f->eax.h = inb(port + 5) & 0x1e;
        if (i < 1000000) f->eax.l = inb(port); else f->eax.h |= 0x80;
        break;
    }
    case 0x03:
        f->eax.h = inb(port + 5);
        f->eax.l = inb(port + 6);
        break;
    default:
        f->eax.h = 0x80;
        break;
    }
}

/* Called by entry.asm's rm_common with the caller's frame; returns
 * nonzero to have the caller wait for an interrupt and call again. */
int bios_dispatch(struct rm_frame *f)
{
    switch (f->vec & 0xff) {
    case 0x09: int09_handler((uint8_t)(f->vec >> 8)); return 0;
    case 0x10: int10_handler(f); return 0;
    case 0x11: f->eax.x = BDA16(0x10); return 0;
    case 0x12: f->eax.x = BDA16(0x13); return 0;
    case 0x13: int13_handler(f); return 0;
    case 0x14: int14_handler(f); return 0;
    case 0x15: return int15_handler(f);
    case 0x16: return int16_handler(f);
    case 0x17: f->eax.h = 0x30; return 0;       /* printer: selected, ack */
    case 0x18: {
        static bool said;
        if (!said) {
            printf("No bootable device.\n");
            said = true;
        }
        return 1;                               /* wait forever */
    }
    case 0x19: int19_handler(f); return 0;
    case 0x1a: int1a_handler(f); return 0;
    case 0x40: ret_status(f, 0x80); return 0;   /* no diskette drives */
    }
    return 0;
}
