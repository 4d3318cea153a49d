/* bios/misc.c — INT 15h (system services), INT 1Ah (time, PCI BIOS) and
 * INT 19h (bootstrap). Sources: IBM PC AT Tech. Ref., RBIL for the call
 * conventions, ACPI 3.0 §14 for E820, PCI BIOS 2.1 for B1xxh. */
#include "bios.h"

/* ---------------------------------------------------------------- E820 */

struct e820 { uint64_t base, len; uint32_t type; };

static int e820_table(struct e820 *t)
{
    int n = 0;
    t[n++] = (struct e820){ 0, (uint32_t)CONV_KB * 1024, 1 };
    t[n++] = (struct e820){ (uint32_t)CONV_KB * 1024, 0xa0000 - (uint32_t)CONV_KB * 1024, 2 };
    t[n++] = (struct e820){ 0xe0000, 0x20000, 2 };             /* BIOS ROM */
    if (acpi_tables_base) {
        t[n++] = (struct e820){ 0x100000, acpi_tables_base - 0x100000, 1 };
        t[n++] = (struct e820){ acpi_tables_base, acpi_tables_size, 3 };
    } else {
        t[n++] = (struct e820){ 0x100000, ram_below_4g - 0x100000, 1 };
    }
    t[n++] = (struct e820){ 0xfec00000, 0x1000, 2 };           /* I/O APIC */
    t[n++] = (struct e820){ 0xfee00000, 0x1000, 2 };           /* local APIC */
    t[n++] = (struct e820){ 0xfffe0000, 0x20000, 2 };          /* BIOS at 4 GiB - 128 KiB */
    if (ram_above_4g) t[n++] = (struct e820){ 0x100000000ULL, ram_above_4g, 1 };
    return n;
}

static void int15_e820(struct rm_frame *f)
{
    struct e820 t[10];
    int n = e820_table(t);
    uint32_t i = f->ebx.e;
    if (f->edx.e != 0x534d4150 || i >= (uint32_t)n || f->ecx.e < 20) {
        ret_status(f, 0x86);
        return;
    }
    uint8_t *p = ptr(lin(f->es, f->edi.x));
    memcpy(p, &t[i].base, 8);
    memcpy(p + 8, &t[i].len, 8);
    memcpy(p + 16, &t[i].type, 4);
    uint32_t size = 20;
    if (f->ecx.e >= 24) {                       /* ACPI 3.0 extended attributes: enabled */
        uint32_t attr = 1;
        memcpy(p + 20, &attr, 4);
        size = 24;
    }
    f->eax.e = 0x534d4150;
    f->ecx.e = size;
    f->ebx.e = i + 1 < (uint32_t)n ? i + 1 : 0;
    set_cf(f, false);
}

/* AH=87h: CX words from the source to the destination descriptor of the
 * caller's GDT at ES:SI (+10h source, +18h destination; base in bytes 2-4
 * and 7). A20 is already on. */
static void int15_move(struct rm_frame *f)
{
    const uint8_t *g = ptr(lin(f->es, f->esi.x));
    uint32_t src = g[0x12] | (uint32_t)g[0x13] << 8 | (uint32_t)g[0x14] << 16 | (uint32_t)g[0x17] << 24;
    uint32_t dst = g[0x1a] | (uint32_t)g[0x1b] << 8 | (uint32_t)g[0x1c] << 16 | (uint32_t)g[0x1f] << 24;
    uint32_t n = (uint32_t)f->ecx.x * 2;
    if (f->ecx.x > 0x8000) { ret_status(f, 0x01); return; }
    memmove(ptr(dst), ptr(src), n);
    f->eax.h = 0;
    set_cf(f, false);
    set_zf(f, true);
}

static bool a20_on(void) { return inb(0x92) & 0x02; }

int int15_handler(struct rm_frame *f)
{
    uint32_t ext1 = ram_below_4g > 0x1000000 ? 15 * 1024 : ram_below_4g / 1024 - 1024;
    switch (f->eax.h) {
    case 0x24:
        switch (f->eax.l) {
        case 0x00: outb(0x92, inb(0x92) & (uint8_t)~0x03); ret_status(f, 0); return 0;
        case 0x01: outb(0x92, (inb(0x92) | 0x02) & (uint8_t)~0x01); ret_status(f, 0); return 0;
        case 0x02: f->eax.l = a20_on(); ret_status(f, 0); return 0;
        case 0x03: f->ebx.x = 0x0002; ret_status(f, 0); return 0;   /* port 92h */
        }
        ret_status(f, 0x86);
        return 0;
    case 0x4f:                          /* keyboard intercept: process the key */
        set_cf(f, true);
        return 0;
    case 0x86: {
        /* Waits of a tick or more sleep with interrupts on (the stub's
         * STI;HLT loop, so IRQ0 keeps the BDA clock right); the target
         * tick is kept in BDA 49Ch with the wait-active flag 4A0h bit 0
         * (PC AT BIOS data area). The sub-tick rest busy-waits on PIT 0. */
        uint32_t us = (uint32_t)f->ecx.x << 16 | f->edx.x;
        if (BDA8(0xa0) & 0x01) {
            if ((int32_t)(BDA32(0x6c) - BDA32(0x9c)) < 0 && !(BDA8(0x70) && BDA32(0x6c) < 0x1000))
                return 1;
            BDA8(0xa0) = 0;
            udelay(us % 54925u);
            ret_status(f, 0);
            return 0;
        }
        if (us >= 54925u) {
            BDA32(0x9c) = BDA32(0x6c) + us / 54925u;
            BDA8(0xa0) = 0x01;
            return 1;
        }
        udelay(us);
        ret_status(f, 0);
        return 0;
    }
    case 0x87: int15_move(f); return 0;
    case 0x88: {
        uint32_t kb = ram_below_4g / 1024 - 1024;
        f->eax.x = (uint16_t)(kb > 0xfc00 ? 0xfc00 : kb);
        set_cf(f, false);
        return 0;
    }
    case 0x90: case 0x91:               /* device busy / post: nothing to do */
        ret_status(f, 0);
        return 0;
    case 0xc0:
        f->es = 0xf000;
        f->ebx.x = F_OFF(config_table);
        ret_status(f, 0);
        return 0;
    case 0xc2:
        int15_mouse(f);
        return 0;
    case 0xc1:
        f->es = EBDA_SEG;
        set_cf(f, false);
        return 0;
    case 0xe8:
        if (f->eax.l == 0x20) { int15_e820(f); return 0; }
        if (f->eax.l == 0x01) {
            uint32_t above16 = ram_below_4g > 0x1000000 ? (ram_below_4g - 0x1000000) >> 16 : 0;
            f->eax.x = f->ecx.x = (uint16_t)ext1;
            f->ebx.x = f->edx.x = (uint16_t)(above16 > 0xffff ? 0xffff : above16);
            set_cf(f, false);
            return 0;
        }
        break;
    }
    ret_status(f, 0x86);
    return 0;
}

/* ---------------------------------------------------------------- INT 1Ah */

static void rtc_wait_uip(void)
{
    for (int i = 0; i < 10000 && (cmos_read(0x0a) & 0x80); i++) udelay(10);
}

static void rtc_set(const uint8_t *regs, const uint8_t *vals, int n)
{
    uint8_t b = cmos_read(0x0b);
    cmos_write(0x0b, b | 0x80);         /* SET: freeze updates while writing */
    for (int i = 0; i < n; i++) cmos_write(regs[i], vals[i]);
    cmos_write(0x0b, b & 0x7f);
}

void int1a_handler(struct rm_frame *f)
{
    switch (f->eax.h) {
    case 0x00:
        f->ecx.x = (uint16_t)(BDA32(0x6c) >> 16);
        f->edx.x = (uint16_t)BDA32(0x6c);
        f->eax.l = BDA8(0x70);
        BDA8(0x70) = 0;
        set_cf(f, false);
        return;
    case 0x01:
        BDA32(0x6c) = (uint32_t)f->ecx.x << 16 | f->edx.x;
        BDA8(0x70) = 0;
        ret_status(f, 0);
        return;
    case 0x02:
        rtc_wait_uip();
        f->ecx.h = cmos_read(0x04);
        f->ecx.l = cmos_read(0x02);
        f->edx.h = cmos_read(0x00);
        f->edx.l = cmos_read(0x0b) & 0x01;
        ret_status(f, 0);
        return;
    case 0x03: {
        static const uint8_t r[3] = { 0x04, 0x02, 0x00 };
        uint8_t v[3] = { f->ecx.h, f->ecx.l, f->edx.h };
        rtc_set(r, v, 3);
        ret_status(f, 0);
        return;
    }
    case 0x04:
        rtc_wait_uip();
        f->ecx.h = cmos_read(0x32);
        f->ecx.l = cmos_read(0x09);
        f->edx.h = cmos_read(0x08);
        f->edx.l = cmos_read(0x07);
        ret_status(f, 0);
        return;
    case 0x05: {
        static const uint8_t r[4] = { 0x32, 0x09, 0x08, 0x07 };
        uint8_t v[4] = { f->ecx.h, f->ecx.l, f->edx.h, f->edx.l };
        rtc_set(r, v, 4);
        ret_status(f, 0);
        return;
    }
    case 0xb1:
        pci_bios(f);
        return;
    }
    ret_status(f, 0x86);
}

/* ---------------------------------------------------------------- INT 19h */

/* A Linux kernel Glass's board loaded for its real-mode setup code
 * (hw/linux_boot.h: setup at 10000h, its "HdrS" header at 10202h): the
 * return goes to entry.asm's linux16_boot, which enters it. */
static int linux_setup_boot(struct rm_frame *f)
{
    if (memcmp(ptr(0x10202), "HdrS", 4) != 0) {
        printf("Boot failed: no kernel loaded\n");
        return -1;
    }
    printf("Booting the -kernel image (real-mode setup at 1000:0000)...\n");
    f->cs = 0xf000;
    f->ip = F_OFF(linux16_boot);
    f->flags &= (uint16_t)~FLAG_IF;
    return 0;
}

/* Boot order from CMOS as QEMU's board writes it: 0x3D low nibble first
 * device, high nibble second, 0x38 bits 7-4 third; 1 floppy, 2 hard
 * disk, 3 CD-ROM, 0 none; and Glass's 4, a -kernel whose setup code
 * runs (hw/pc.c). */
void int19_handler(struct rm_frame *f)
{
    uint8_t b3d = cmos_read(0x3d), b38 = cmos_read(0x38);
    uint8_t order[3] = { (uint8_t)(b3d & 15), (uint8_t)(b3d >> 4), (uint8_t)(b38 >> 4) };
    if (!order[0] && !order[1] && !order[2]) { order[0] = 2; order[1] = 3; }
    for (int i = 0; i < 3; i++) {
        switch (order[i]) {
        case 1: printf("Booting from Floppy... no diskette support\n"); break;
        case 2: if (disk_boot(2, f) == 0) return; break;
        case 3: if (disk_boot(3, f) == 0) return; break;
        case 4: if (linux_setup_boot(f) == 0) return; break;
        }
    }
}
