/*
 * test_acpi.c — the ACPI tables of hw/acpi.c: RSDP/RSDT/FADT/FACS/DSDT
 * signatures, checksums, pointers and the FADT's PIIX4 fields; the DSDT's
 * AML walked with a small parser that checks every PkgLength nests
 * exactly; \_S5 and _PRT contents; refusals; and the E820/RSDP additions
 * to the Linux zero page (hw/linux_boot.c).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hw/acpi.h"
#include "hw/linux_boot.h"
#include "hw/piix4_pm.h"

#define RAM_SIZE (2u << 20)

static uint8_t *ram;

static void setup(void)
{
    ram = calloc(1, RAM_SIZE);
    cr_assert_not_null(ram);
}

static void teardown(void)
{
    free(ram);
}

TestSuite(acpi, .init = setup, .fini = teardown);

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void build(struct acpi_config *c, struct acpi_layout *l)
{
    acpi_config_pc(c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    cr_assert_eq(acpi_build(ram, RAM_SIZE, c, l), 0);
}

/* A table at `addr`: signature, length within the area, checksum 0. */
static const uint8_t *table(const struct acpi_layout *l, uint32_t addr, const char *sig)
{
    const uint8_t *t = ram + addr;
    cr_assert_eq(memcmp(t, sig, 4), 0, "signature %s", sig);
    uint32_t len = get32(t + 4);
    cr_assert(addr >= l->tables_start && addr + len <= l->tables_end, "%s inside the area", sig);
    if (strcmp(sig, "FACS") != 0) {
        cr_assert_eq(acpi_checksum(t, len), 0, "%s checksum", sig);
        cr_assert_eq(memcmp(t + 10, "GLASS ", 6), 0, "%s OEM ID", sig);
    }
    return t;
}

Test(acpi, rsdp_rsdt_and_layout)
{
    struct acpi_config c;
    struct acpi_layout l;
    build(&c, &l);
    cr_assert_eq(l.rsdp, 0xf0000u);
    cr_assert(l.tables_start == 0xe0000u && l.tables_end <= 0xf0000u);
    const uint8_t *rsdp = ram + l.rsdp;
    cr_assert_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
    cr_assert_eq(acpi_checksum(rsdp, 20), 0, "RSDP checksum");
    cr_assert_eq(rsdp[15], 0, "revision 0 (ACPI 1.0 RSDP, RSDT only)");
    cr_assert_eq(memcmp(rsdp + 9, "GLASS ", 6), 0);
    cr_assert_eq(get32(rsdp + 16), l.rsdt);
    const uint8_t *rsdt = table(&l, l.rsdt, "RSDT");
    cr_assert_eq(get32(rsdt + 4), 40, "one entry");
    cr_assert_eq(get32(rsdt + 36), l.fadt);
    cr_assert_eq(l.facs % 64, 0, "FACS 64-byte aligned");
    const uint8_t *facs = table(&l, l.facs, "FACS");
    cr_assert_eq(get32(facs + 4), 64);
    table(&l, l.dsdt, "DSDT");
}

Test(acpi, fadt_describes_the_piix4)
{
    struct acpi_config c;
    struct acpi_layout l;
    build(&c, &l);
    const uint8_t *f = table(&l, l.fadt, "FACP");
    cr_assert_eq(get32(f + 4), 244);
    cr_assert_eq(f[8], 3, "revision 3");
    cr_assert_eq(get32(f + 36), l.facs);
    cr_assert_eq(get32(f + 40), l.dsdt);
    cr_assert_eq(get16(f + 46), 9, "SCI_INT");
    cr_assert_eq(get32(f + 48), 0xb2, "SMI_CMD");
    cr_assert_eq(f[52], 0xf1);
    cr_assert_eq(f[53], 0xf0);
    cr_assert_eq(get32(f + 56), 0x600, "PM1a_EVT_BLK");
    cr_assert_eq(get32(f + 60), 0, "no PM1b");
    cr_assert_eq(get32(f + 64), 0x604, "PM1a_CNT_BLK");
    cr_assert_eq(get32(f + 76), 0x608, "PM_TMR_BLK");
    cr_assert_eq(get32(f + 80), 0x60c, "GPE0_BLK");
    cr_assert_eq(f[88], 4);
    cr_assert_eq(f[89], 2);
    cr_assert_eq(f[91], 4);
    cr_assert_eq(f[92], 4);
    cr_assert_gt(get16(f + 96), 100, "no C2");
    cr_assert_gt(get16(f + 98), 1000, "no C3");
    cr_assert_eq(f[108], 0x32, "CENTURY");
    cr_assert_eq(get16(f + 109), 3, "legacy devices + 8042");
    uint32_t flags = get32(f + 112);
    cr_assert_eq(flags, 0x425, "WBINVD, PROC_C1, SLP_BUTTON, RESET_REG_SUP");
    cr_assert_eq(f[116], 1, "reset register in I/O space");
    cr_assert_eq(f[117], 8);
    cr_assert_eq(get64(f + 120), 0xcf9);
    cr_assert_eq(f[128], 6);
    cr_assert_eq(get64(f + 132), 0, "X_FIRMWARE_CTRL: FIRMWARE_CTRL is used");
    cr_assert_eq(get64(f + 140), l.dsdt, "X_DSDT");
    /* The X_ blocks agree with the 32-bit ones (I/O space, width). */
    static const struct {
        unsigned off;
        uint8_t bits;
        uint32_t port;
    } x[] = { { 148, 32, 0x600 }, { 172, 16, 0x604 }, { 208, 32, 0x608 }, { 220, 32, 0x60c } };
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq(f[x[i].off], 1, "X block %u space", i);
        cr_assert_eq(f[x[i].off + 1], x[i].bits, "X block %u width", i);
        cr_assert_eq(get64(f + x[i].off + 4), x[i].port, "X block %u address", i);
    }
    cr_assert_eq(get64(f + 160 + 4), 0, "no X_PM1b");
}

/* ---- a checker for the AML subset the builder emits ---- */

struct walk {
    const uint8_t *p, *end;
    int names, devices, methods, packages, buffers, scopes, regions, fields;
    int max_pkglen_bytes;
    bool bad;
};

static uint32_t pkglen(struct walk *w, const uint8_t **body_end)
{
    const uint8_t *start = w->p;
    unsigned n = (*w->p >> 6) + 1;
    uint32_t len = n == 1 ? (uint32_t)(*w->p & 0x3f) : (uint32_t)(*w->p & 0x0f);
    for (unsigned i = 1; i < n; i++)
        len |= (uint32_t)w->p[i] << (4 + 8 * (i - 1));
    if (n > 1 && (*w->p & 0x30))
        w->bad = true; /* bits 5:4 must be 0 in the multi-byte form */
    if ((int)n > w->max_pkglen_bytes)
        w->max_pkglen_bytes = (int)n;
    w->p += n;
    *body_end = start + len;
    if (*body_end > w->end || *body_end < w->p)
        w->bad = true;
    return len;
}

static void walk_name(struct walk *w)
{
    while (w->p < w->end && (*w->p == '\\' || *w->p == '^'))
        w->p++;
    unsigned segs = 1;
    if (*w->p == 0x2e) {
        segs = 2;
        w->p++;
    } else if (*w->p == 0x2f) {
        segs = w->p[1];
        w->p += 2;
    } else if (*w->p == 0x00) {
        w->p++;
        return;
    }
    for (unsigned i = 0; i < segs * 4; i++, w->p++) {
        uint8_t ch = *w->p;
        bool lead = i % 4 == 0;
        if (!((ch >= 'A' && ch <= 'Z') || ch == '_' || (!lead && ch >= '0' && ch <= '9')))
            w->bad = true;
    }
}

static void walk_terms(struct walk *w, const uint8_t *end);

static void walk_data(struct walk *w)
{
    uint8_t op = *w->p++;
    const uint8_t *e;
    switch (op) {
    case 0x00: case 0x01: case 0xff: break;
    case '\\': case '^': case '_': case 0x2e: case 0x2f: /* a name (reference) */
        w->p--;
        walk_name(w);
        break;
    case 0x0a: w->p += 1; break;
    case 0x0b: w->p += 2; break;
    case 0x0c: w->p += 4; break;
    case 0x12: /* Package */
        w->packages++;
        pkglen(w, &e);
        {
            unsigned count = *w->p++, seen = 0;
            while (w->p < e && !w->bad) {
                walk_data(w);
                seen++;
            }
            if (seen != count || w->p != e)
                w->bad = true;
        }
        break;
    case 0x11: /* Buffer */
        w->buffers++;
        pkglen(w, &e);
        {
            const uint8_t *start = w->p;
            walk_data(w); /* size */
            uint32_t size = start[0] == 0x0a ? start[1] : start[0] == 0x0b ? get16(start + 1) : 0;
            if ((size_t)(e - w->p) != size)
                w->bad = true;
            w->p = e;
        }
        break;
    default:
        if (op >= 'A' && op <= 'Z') {
            w->p--;
            walk_name(w);
        } else {
            w->bad = true;
        }
    }
}

static void walk_terms(struct walk *w, const uint8_t *end)
{
    while (w->p < end && !w->bad) {
        uint8_t op = *w->p++;
        const uint8_t *e;
        if (op == 0x08) { /* Name */
            w->names++;
            walk_name(w);
            walk_data(w);
        } else if (op == 0x10) { /* Scope */
            w->scopes++;
            pkglen(w, &e);
            walk_name(w);
            walk_terms(w, e);
        } else if (op == 0x14) { /* Method: the body is only bounded */
            w->methods++;
            pkglen(w, &e);
            walk_name(w);
            w->p++; /* flags */
            w->p = e;
        } else if (op == 0x5b && *w->p == 0x80) { /* OperationRegion */
            w->p++;
            w->regions++;
            walk_name(w);
            w->p++; /* space */
            walk_data(w);
            walk_data(w);
        } else if (op == 0x5b && *w->p == 0x81) { /* Field: NameSeg + PkgLength each */
            w->p++;
            w->fields++;
            pkglen(w, &e);
            walk_name(w);
            w->p++; /* flags */
            while (w->p < e && !w->bad) {
                walk_name(w);
                if (*w->p++ != 8) /* one-byte PkgLength: the width in bits */
                    w->bad = true;
            }
            if (w->p != e)
                w->bad = true;
        } else if (op == 0x5b && *w->p == 0x82) { /* Device */
            w->p++;
            w->devices++;
            pkglen(w, &e);
            walk_name(w);
            walk_terms(w, e);
        } else {
            w->bad = true;
        }
    }
    if (w->p != end)
        w->bad = true;
}

static struct walk walk_dsdt(const struct acpi_layout *l)
{
    const uint8_t *d = ram + l->dsdt;
    struct walk w = { .p = d + 36, .end = d + get32(d + 4) };
    walk_terms(&w, w.end);
    return w;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

Test(acpi, dsdt_aml_is_well_formed)
{
    struct acpi_config c;
    struct acpi_layout l;
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.pirq_links = false; /* the link devices: prt_through_link_devices */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), 0);
    struct walk w = walk_dsdt(&l);
    cr_assert(!w.bad, "AML walk failed at offset %#lx",
              (unsigned long)(w.p - (ram + l.dsdt)));
    cr_assert_eq(w.devices, 7, "PCI0, ISA, RTC, KBD, MOU, COM1, COM2");
    cr_assert_eq(w.methods, 1, "_PIC");
    cr_assert_eq(w.scopes, 1, "\\_SB");
    cr_assert_eq(w.max_pkglen_bytes, 2, "PCI0 needs the 2-byte PkgLength");
    const uint8_t *d = ram + l.dsdt;
    size_t n = get32(d + 4);
    cr_assert_eq(d[8], 1, "DSDT revision 1: 32-bit integers");
    /* Name(\_S5_, Package(4) { 0, 0, 0, 0 }): SUS_TYP soft off. */
    static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                  PIIX4_SUS_TYP_SOFF, PIIX4_SUS_TYP_SOFF, 0, 0 };
    cr_assert_not_null(find(d, n, s5, sizeof(s5)));
    /* Name(\_S0_, Package(4) { 5, 5, 0, 0 }): working. */
    static const uint8_t s0[] = { 0x08, '\\', '_', 'S', '0', '_', 0x12, 0x08, 0x04,
                                  0x0a, 5, 0x0a, 5, 0, 0 };
    cr_assert_not_null(find(d, n, s0, sizeof(s0)));
    /* _HID EISAID("PNP0A03") = 0x030AD041 little-endian. */
    static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
    cr_assert_not_null(find(d, n, hid, sizeof(hid)));
    static const uint8_t bbn[] = { 0x08, '_', 'B', 'B', 'N', 0x00 };
    cr_assert_not_null(find(d, n, bbn, sizeof(bbn)));
    /* Without PIRQ routing there is no _PRT. */
    static const uint8_t prt[] = { '_', 'P', 'R', 'T' };
    cr_assert_null(find(d, n, prt, sizeof(prt)));
    /* COM1's I/O descriptor. */
    static const uint8_t com1[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08 };
    cr_assert_not_null(find(d, n, com1, sizeof(com1)));
}

Test(acpi, pci_windows_follow_ram_size)
{
    struct acpi_config c;
    struct acpi_layout l;
    acpi_config_pc(&c, 0x10000000, PIIX4_PM_BASE_DEFAULT); /* as if 256 MiB */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), 0);
    const uint8_t *d = ram + l.dsdt;
    /* DWordMemory min 10000000h, max FEBFFFFFh. */
    static const uint8_t win[] = { 0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xbf, 0xfe };
    cr_assert_not_null(find(d, get32(d + 4), win, sizeof(win)));
}

Test(acpi, prt_follows_the_pirq_swizzle)
{
    struct acpi_config c;
    struct acpi_layout l;
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.pirq_links = false;
    c.pirq_irq[0] = 10;
    c.pirq_irq[1] = 11;
    c.pirq_irq[2] = 5;
    c.pirq_irq[3] = 7;
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), 0);
    struct walk w = walk_dsdt(&l);
    cr_assert(!w.bad);
    cr_assert_eq(w.packages, 2 + 1 + 31 * 4, "_S0, _S5, _PRT and its entries");
    const uint8_t *d = ram + l.dsdt;
    size_t n = get32(d + 4);
    /* Slot 3 INTB# -> PIRQ[(3 + 1 - 1) & 3] = PIRQD# -> IRQ 7. */
    static const uint8_t e1[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00,
                                  0x01, 0x00, 0x0a, 7 };
    cr_assert_not_null(find(d, n, e1, sizeof(e1)));
    /* Slot 1 INTA# -> PIRQA# -> IRQ 10. */
    static const uint8_t e2[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00,
                                  0x00, 0x00, 0x0a, 10 };
    cr_assert_not_null(find(d, n, e2, sizeof(e2)));
    table(&l, l.dsdt, "DSDT");
}

Test(acpi, refusals)
{
    struct acpi_config c;
    struct acpi_layout l;
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.rsdp_addr = 0xf0008; /* not 16-byte aligned */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), -1);
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.tables_addr = 0xe0010; /* FACS needs 64 */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), -1);
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.rsdp_addr = 0xe0100; /* inside the table area */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), -1);
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    c.tables_size = 1024; /* too small for the DSDT with a _PRT */
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), -1);
    acpi_config_pc(&c, RAM_SIZE, PIIX4_PM_BASE_DEFAULT);
    cr_assert_eq(acpi_build(ram, 0xe8000, &c, &l), -1, "area past the end of RAM");
    c.tables_addr = 0xfffff000u;
    cr_assert_eq(acpi_build(ram, RAM_SIZE, &c, &l), -1);
}

/* The BIOS's way (bios/acpi.c): tables at the top of RAM, the RSDP in
 * the EBDA, written through two separate buffers; the pointers inside
 * are the guest addresses, not the buffers'. */
Test(acpi, write_places_tables_at_given_addresses)
{
    struct acpi_config c;
    struct acpi_layout l;
    acpi_config_pc(&c, 0x10000000, PIIX4_PM_BASE_DEFAULT);
    c.tables_addr = 0x0fff0000;
    c.tables_size = 0x10000;
    c.rsdp_addr = 0x9fc00 + 0x100;
    uint8_t *tables = calloc(1, c.tables_size);
    uint8_t rsdp[ACPI_RSDP_SIZE];
    cr_assert_not_null(tables);
    cr_assert_eq(acpi_write(&c, tables, rsdp, &l), 0);
    cr_assert_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
    cr_assert_eq(acpi_checksum(rsdp, ACPI_RSDP_SIZE), 0);
    cr_assert_eq(get32(rsdp + 16), l.rsdt);
    cr_assert(l.rsdt >= c.tables_addr && l.tables_end <= c.tables_addr + c.tables_size);
    const uint8_t *rsdt = tables + (l.rsdt - c.tables_addr);
    cr_assert_eq(memcmp(rsdt, "RSDT", 4), 0);
    cr_assert_eq(get32(rsdt + 36), l.fadt);
    const uint8_t *fadt = tables + (l.fadt - c.tables_addr);
    cr_assert_eq(memcmp(fadt, "FACP", 4), 0);
    cr_assert_eq(acpi_checksum(fadt, get32(fadt + 4)), 0);
    cr_assert_eq(get32(fadt + 40), l.dsdt);
    const uint8_t *dsdt = tables + (l.dsdt - c.tables_addr);
    cr_assert_eq(memcmp(dsdt, "DSDT", 4), 0);
    cr_assert_eq(acpi_checksum(dsdt, l.dsdt_len), 0);
    /* The PCI root is there (an OS without it finds no PCI devices). */
    static const uint8_t pci0_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
    bool found = false;
    for (uint32_t i = 0; i + sizeof pci0_hid <= l.dsdt_len && !found; i++)
        found = memcmp(dsdt + i, pci0_hid, sizeof pci0_hid) == 0;
    cr_assert(found, "Name(_HID, EISAID(\"PNP0A03\")) in the DSDT");
    /* A failure leaves the area zeroed. */
    c.tables_size = 1024;
    cr_assert_eq(acpi_write(&c, tables, rsdp, &l), -1);
    for (uint32_t i = 0; i < 1024; i++)
        cr_assert_eq(tables[i], 0);
    free(tables);
}

/* ---- the zero page additions ---- */

Test(acpi, linux_e820_add_keeps_the_map_sorted)
{
    struct linux_boot b = { .boot_params = LINUX_BOOT_PARAMS_ADDR };
    uint8_t *bp = ram + b.boot_params;
    /* The map linux_load builds for 2 MiB. */
    static const uint64_t map[4][3] = {
        { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
        { 0x100000, RAM_SIZE - 0x100000, 1 },
    };
    for (int i = 0; i < 4; i++) {
        uint8_t *e = bp + 0x2d0 + 20 * i;
        for (int k = 0; k < 8; k++) {
            e[k] = (uint8_t)(map[i][0] >> (8 * k));
            e[8 + k] = (uint8_t)(map[i][1] >> (8 * k));
        }
        e[16] = (uint8_t)map[i][2];
    }
    bp[0x1e8] = 4;
    cr_assert_eq(linux_e820_add(ram, &b, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, ACPI_E820_TYPE), 0);
    cr_assert_eq(bp[0x1e8], 5);
    const uint8_t *e = bp + 0x2d0 + 20 * 2;
    cr_assert_eq(get64(e), 0xe0000);
    cr_assert_eq(get64(e + 8), 0x10000);
    cr_assert_eq(get32(e + 16), 3);
    cr_assert_eq(get64(e + 20), 0xf0000, "BIOS area moved up one");
    cr_assert_eq(get64(e + 40), 0x100000);
    /* Overlaps and empty ranges are refused. */
    cr_assert_eq(linux_e820_add(ram, &b, 0xeff00, 0x200, 2), -1);
    cr_assert_eq(linux_e820_add(ram, &b, 0x1000, 0x1000, 2), -1);
    cr_assert_eq(linux_e820_add(ram, &b, 0xa0000, 0, 2), -1);
    cr_assert_eq(bp[0x1e8], 5);
    /* At the end. */
    cr_assert_eq(linux_e820_add(ram, &b, 0xfffc0000u, 0x40000, 2), 0);
    cr_assert_eq(get64(bp + 0x2d0 + 20 * 5), 0xfffc0000u);
    /* RSDP pointer at 070h. */
    linux_set_acpi_rsdp(ram, &b, ACPI_RSDP_ADDR);
    cr_assert_eq(get64(bp + 0x070), ACPI_RSDP_ADDR);
}

Test(acpi, prt_through_link_devices)
{
    struct acpi_config c;
    struct acpi_layout l;
    build(&c, &l); /* the default */
    cr_assert(c.pirq_links);
    table(&l, l.dsdt, "DSDT");
    struct walk w = walk_dsdt(&l);
    cr_assert(!w.bad, "AML walk failed at offset %#lx",
              (unsigned long)(w.p - (ram + l.dsdt)));
    cr_assert_eq(w.devices, 7 + 4, "and LNKA-LNKD");
    cr_assert_eq(w.methods, 1 + 4 * 4, "_PIC, and _STA/_DIS/_CRS/_SRS per link");
    cr_assert_eq(w.regions, 1);
    cr_assert_eq(w.fields, 1);
    const uint8_t *d = ram + l.dsdt;
    size_t n = get32(d + 4);
    /* OperationRegion(PIRQ, PCI_Config, 0x60, 4) */
    static const uint8_t region[] = { 0x5b, 0x80, 'P', 'I', 'R', 'Q', 0x02, 0x0a, 0x60, 0x0a, 0x04 };
    cr_assert_not_null(find(d, n, region, sizeof(region)));
    /* Slot 2 INTA# -> PIRQB# -> \_SB.LNKB: Package { 0x0002FFFF, 0, \_SB.LNKB, 0 } */
    static const uint8_t e[] = { 0x12, 0x13, 0x04, 0x0c, 0xff, 0xff, 0x02, 0x00, 0x00,
                                 '\\', 0x2e, '_', 'S', 'B', '_', 'L', 'N', 'K', 'B', 0x00 };
    cr_assert_not_null(find(d, n, e, sizeof(e)));
    /* _PRS: IRQ(Level, ActiveLow, Shared) {5, 10, 11}. */
    static const uint8_t prs[] = { 0x23, 0x20, 0x0c, 0x18, 0x79, 0x00 };
    cr_assert_not_null(find(d, n, prs, sizeof(prs)));
    /* _HID PNP0C0F */
    static const uint8_t hid[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0f };
    cr_assert_not_null(find(d, n, hid, sizeof(hid)));
}
