/*
 * hw/acpi.c — the ACPI tables of the PC board (see acpi.h), with a small
 * AML encoder for the DSDT. References: ACPI 3.0b section 5.2 (tables),
 * 6.4 (resource descriptors), 20.2 (AML grammar).
 *
 * Freestanding (memcpy, memset, memmove only): Glass's BIOS compiles this
 * file too (bios/bios.mk), so a firmware boot and a -kernel boot give the
 * OS the same DSDT.
 */
#include <string.h>

#include "hw/acpi.h"
#include "hw/piix4_pm_regs.h"
#include "hw/le_bytes.h"

#define OEM_ID "GLASS "      /* 6 bytes */
#define OEM_TABLE_ID "GLASSPC " /* 8 bytes */
#define OEM_REVISION 1
#define CREATOR_ID "GLSS"
#define CREATOR_REVISION 1

#define HDR_LEN 36  /* the common table header (5.2.6) */
#define FACS_LEN 64
#define FADT_LEN 244 /* revision 3 (ACPI 3.0 5.2.9) */
#define FADT_REV 3
#define DSDT_REV 1   /* 32-bit AML integers */

/* FADT flags (ACPI 3.0 table 5-10). */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5)  /* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags (table 5-11). */
#define BOOT_LEGACY_DEVICES (1u << 0) /* ISA devices the OS cannot enumerate */
#define BOOT_8042 (1u << 1)

/* Generic Address Structure space IDs and access sizes (5.2.3.1). */
#define GAS_SYSTEM_IO 1

#define RTC_CENTURY_INDEX 0x32

/* PCI memory ends below the firmware and chipset range at the top of
 * 4 GiB (IO-APIC FEC00000h and up on PCs). */
#define PCI_MEM_END 0xfebfffffu

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* ------------------------------------------------------------------ */
/* AML encoder (ACPI 3.0 section 17.2 / 20.2 "AML grammar")            */
/* ------------------------------------------------------------------ */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_LOCAL0 0x60
#define AML_ARG0 0x68
#define AML_STORE 0x70
#define AML_DECREMENT 0x76
#define AML_SHIFT_LEFT 0x79
#define AML_AND 0x7b
#define AML_OR 0x7d
#define AML_FIND_SET_RIGHT_BIT 0x82
#define AML_CREATE_WORD_FIELD 0x8b
#define AML_LNOT 0x92
#define AML_IF 0xa0
#define AML_RETURN 0xa4
#define AML_NULL_NAME 0x00 /* "no target" */
#define AML_EXT 0x5b
#define AML_EXT_OP_REGION 0x80
#define AML_EXT_FIELD 0x81
#define AML_EXT_DEVICE 0x82
#define AML_REGION_PCI_CONFIG 0x02
#define AML_FIELD_BYTE_ACC 0x01 /* ByteAcc, NoLock, Preserve */
#define AML_METHOD_SERIALIZED 0x08
#define AML_ROOT '\\'
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f

#define AML_DEPTH 16

struct aml {
    uint8_t *buf;
    size_t len, cap;
    bool err;
    size_t open[AML_DEPTH]; /* where each open PkgLength placeholder starts */
    int depth;
};

static void aml_byte(struct aml *a, uint8_t b)
{
    if (a->len >= a->cap) {
        a->err = true;
        return;
    }
    a->buf[a->len++] = b;
}

static void aml_bytes(struct aml *a, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, p[i]);
}

/* Integers as the shortest constant: ZeroOp, OneOp, Byte/Word/DWordConst. */
static void aml_int(struct aml *a, uint32_t v)
{
    if (v <= 1) {
        aml_byte(a, v ? AML_ONE : AML_ZERO);
    } else if (v <= 0xff) {
        aml_byte(a, AML_BYTE);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD);
        aml_byte(a, (uint8_t)v);
        aml_byte(a, (uint8_t)(v >> 8));
    } else {
        aml_byte(a, AML_DWORD);
        for (int i = 0; i < 4; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

/*
 * A NameString: an optional leading '\' (root) or '^'s (parent), then
 * NameSegs separated by '.', each padded to 4 characters with '_'
 * ("PCI0", "_SB" -> "_SB_"). Two segments take DualNamePrefix, more
 * MultiNamePrefix.
 */
static void aml_name(struct aml *a, const char *path)
{
    while (*path == '\\' || *path == '^')
        aml_byte(a, (uint8_t)*path++);
    const char *seg[8];
    unsigned n = 0;
    for (const char *p = path; *p && n < 8;) {
        seg[n++] = p;
        while (*p && *p != '.')
            p++;
        if (*p == '.')
            p++;
    }
    if (n == 0) {
        aml_byte(a, 0x00); /* NullName */
        return;
    }
    if (n == 2) {
        aml_byte(a, AML_DUAL_NAME);
    } else if (n > 2) {
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, (uint8_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        const char *p = seg[i];
        for (int k = 0; k < 4; k++) {
            if (*p && *p != '.')
                aml_byte(a, (uint8_t)*p++);
            else
                aml_byte(a, '_');
        }
    }
}

/* PkgLength (20.2.4): reserve the longest form, shrink it on close. */
static void aml_open(struct aml *a)
{
    if (a->depth >= AML_DEPTH) {
        a->err = true;
        return;
    }
    a->open[a->depth++] = a->len;
    for (int i = 0; i < 4; i++)
        aml_byte(a, 0);
}

static void aml_close(struct aml *a)
{
    if (a->depth <= 0 || a->err) {
        a->err = true;
        return;
    }
    size_t start = a->open[--a->depth];
    size_t body = a->len - start - 4;
    /* The length counts its own bytes: 1 byte up to 63, then 4 bits in
     * the lead byte plus 8 per following byte. */
    unsigned n = body + 1 <= 0x3f ? 1 : body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
    size_t total = body + n;
    if (total > 0xfffffff) {
        a->err = true;
        return;
    }
    memmove(a->buf + start + n, a->buf + start + 4, body);
    a->len = start + n + body;
    if (n == 1) {
        a->buf[start] = (uint8_t)total;
        return;
    }
    a->buf[start] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
    for (unsigned i = 1; i < n; i++)
        a->buf[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

static void aml_scope_begin(struct aml *a, const char *name)
{
    aml_byte(a, AML_SCOPE);
    aml_open(a);
    aml_name(a, name);
}

static void aml_device_begin(struct aml *a, const char *name)
{
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_EXT_DEVICE);
    aml_open(a);
    aml_name(a, name);
}

/* Method with `nargs` arguments, sync level 0; serialized when it
 * creates named objects (a second caller would find them existing). */
static void aml_method_begin(struct aml *a, const char *name, unsigned nargs, bool serialized)
{
    aml_byte(a, AML_METHOD);
    aml_open(a);
    aml_name(a, name);
    aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? AML_METHOD_SERIALIZED : 0)));
}

static void aml_if_begin(struct aml *a)
{
    aml_byte(a, AML_IF);
    aml_open(a);
}

static void aml_package_begin(struct aml *a, unsigned count)
{
    aml_byte(a, AML_PACKAGE);
    aml_open(a);
    aml_byte(a, (uint8_t)count);
}

static void aml_end(struct aml *a)
{
    aml_close(a);
}

static void aml_name_int(struct aml *a, const char *name, uint32_t v)
{
    aml_byte(a, AML_NAME);
    aml_name(a, name);
    aml_int(a, v);
}

/* EISAID("PNP0A03"): three letters in 5 bits each and four hex digits,
 * stored big-endian (ACPI 3.0 6.1.5 _HID, "EISA ID"). */
static uint32_t eisa_id(const char *id)
{
    uint16_t vendor = (uint16_t)(((id[0] - 0x40) & 0x1f) << 10 | ((id[1] - 0x40) & 0x1f) << 5 |
                                 ((id[2] - 0x40) & 0x1f));
    uint16_t product = 0;
    for (int i = 3; i < 7; i++) {
        char c = id[i];
        product = (uint16_t)(product << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10));
    }
    return (uint32_t)(vendor >> 8) | (uint32_t)(vendor & 0xff) << 8 |
           (uint32_t)(product >> 8) << 16 | (uint32_t)(product & 0xff) << 24;
}

static void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
    aml_byte(a, AML_NAME);
    aml_name(a, name);
    aml_int(a, eisa_id(id));
}

/* Name(name, Buffer() { bytes }). */
static void aml_name_buffer(struct aml *a, const char *name, const uint8_t *data, size_t n)
{
    aml_byte(a, AML_NAME);
    aml_name(a, name);
    aml_byte(a, AML_BUFFER);
    aml_open(a);
    aml_int(a, (uint32_t)n);
    aml_bytes(a, data, n);
    aml_close(a);
}

/* ---- resource templates (ACPI 3.0 6.4) ---- */

struct res {
    uint8_t b[256];
    size_t n;
};

static void res_byte(struct res *r, uint8_t v)
{
    if (r->n < sizeof(r->b))
        r->b[r->n++] = v;
}

static void res_word(struct res *r, uint16_t v)
{
    res_byte(r, (uint8_t)v);
    res_byte(r, (uint8_t)(v >> 8));
}

static void res_dword(struct res *r, uint32_t v)
{
    res_word(r, (uint16_t)v);
    res_word(r, (uint16_t)(v >> 16));
}

/* I/O port descriptor (6.4.2.5): 16-bit decode, fixed range. */
static void res_io(struct res *r, uint16_t base, uint8_t len)
{
    res_byte(r, 0x47);
    res_byte(r, 0x01);
    res_word(r, base);
    res_word(r, base);
    res_byte(r, 1);
    res_byte(r, len);
}

/* IRQ descriptor without flags (6.4.2.1): edge, active high, exclusive. */
static void res_irq(struct res *r, unsigned irq)
{
    res_byte(r, 0x22);
    res_word(r, (uint16_t)(1u << (irq & 15)));
}

/* General flags of address space descriptors (6.4.3.5): a bridge's
 * window, producer, fixed minimum and maximum, positive decode. */
#define ADDR_PRODUCER_FIXED 0x0c
#define ADDR_TYPE_MEM 0
#define ADDR_TYPE_IO 1
#define ADDR_TYPE_BUS 2

/* Word address space descriptor (6.4.3.5.3). */
static void res_word_addr(struct res *r, uint8_t type, uint8_t tflags, uint16_t min,
                          uint16_t max)
{
    res_byte(r, 0x88);
    res_word(r, 13);
    res_byte(r, type);
    res_byte(r, ADDR_PRODUCER_FIXED);
    res_byte(r, tflags);
    res_word(r, 0);                          /* granularity */
    res_word(r, min);
    res_word(r, max);
    res_word(r, 0);                          /* translation */
    res_word(r, (uint16_t)(max - min + 1));  /* length */
}

/* DWord memory window (6.4.3.5.2); tflags bit 0 read/write, 2:1 caching. */
static void res_dword_mem(struct res *r, uint8_t tflags, uint32_t min, uint32_t max)
{
    res_byte(r, 0x87);
    res_word(r, 23);
    res_byte(r, ADDR_TYPE_MEM);
    res_byte(r, ADDR_PRODUCER_FIXED);
    res_byte(r, tflags);
    res_dword(r, 0);
    res_dword(r, min);
    res_dword(r, max);
    res_dword(r, 0);
    res_dword(r, max - min + 1);
}

/* End tag (6.4.2.8); checksum 0 means "the sum is right by definition". */
static void res_end(struct res *r)
{
    res_byte(r, 0x79);
    res_byte(r, 0x00);
}

/* ------------------------------------------------------------------ */
/* The DSDT                                                            */
/* ------------------------------------------------------------------ */

/* One ISA device under \_SB.PCI0.ISA: _HID, optional _UID, _CRS. */
static void isa_device(struct aml *a, const char *name, const char *hid, int uid,
                       const struct res *crs)
{
    aml_device_begin(a, name);
    aml_name_eisaid(a, "_HID", hid);
    if (uid >= 0)
        aml_name_int(a, "_UID", (uint32_t)uid);
    aml_name_buffer(a, "_CRS", crs->b, crs->n);
    aml_end(a);
}

static void build_pirq_region(struct aml *a);

static void build_isa(struct aml *a, const struct acpi_config *cfg)
{
    aml_device_begin(a, "ISA");
    aml_name_int(a, "_ADR", 0x00010000); /* the PIIX3, 00:01.0 */
    if (cfg->pirq_links)
        build_pirq_region(a);
    if (!cfg->isa_devices) {
        aml_end(a);
        return;
    }
    struct res r = { .n = 0 };
    res_io(&r, 0x70, 2);
    res_irq(&r, 8);
    res_end(&r);
    isa_device(a, "RTC", "PNP0B00", -1, &r);
    r.n = 0;
    res_io(&r, 0x60, 1);
    res_io(&r, 0x64, 1);
    res_irq(&r, 1);
    res_end(&r);
    isa_device(a, "KBD", "PNP0303", -1, &r);
    r.n = 0;
    res_irq(&r, 12);
    res_end(&r);
    isa_device(a, "MOU", "PNP0F13", -1, &r);
    r.n = 0;
    res_io(&r, 0x3f8, 8);
    res_irq(&r, 4);
    res_end(&r);
    isa_device(a, "COM1", "PNP0501", 1, &r);
    r.n = 0;
    res_io(&r, 0x2f8, 8);
    res_irq(&r, 3);
    res_end(&r);
    isa_device(a, "COM2", "PNP0501", 2, &r);
    aml_end(a);
}

/* ---- PCI interrupt link devices (ACPI 3.0 6.2.12, PNP0C0F) ---- */

/* ISA IRQs a link may be steered to: not 9 (the SCI), nor the legacy
 * devices' (0-4, 6-8, 12-15). */
#define LINK_IRQS ((1u << 5) | (1u << 10) | (1u << 11))
/* IRQ descriptor with flags (6.4.2.1): level, active low, shared. */
#define IRQ_LEVEL_LOW_SHARED 0x18

static const char *const link_field[4] = {
    "\\_SB.PCI0.ISA.PRQA", "\\_SB.PCI0.ISA.PRQB", "\\_SB.PCI0.ISA.PRQC", "\\_SB.PCI0.ISA.PRQD",
};
static const char *const link_name[4] = {
    "\\_SB.LNKA", "\\_SB.LNKB", "\\_SB.LNKC", "\\_SB.LNKD",
};

/* In Device(ISA): the PIIX3's PIRQRC registers as named fields. */
static void build_pirq_region(struct aml *a)
{
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_EXT_OP_REGION);
    aml_name(a, "PIRQ");
    aml_byte(a, AML_REGION_PCI_CONFIG);
    aml_int(a, 0x60);
    aml_int(a, 4);
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_EXT_FIELD);
    aml_open(a);
    aml_name(a, "PIRQ");
    aml_byte(a, AML_FIELD_BYTE_ACC);
    static const char *const f[4] = { "PRQA", "PRQB", "PRQC", "PRQD" };
    for (int k = 0; k < 4; k++) {
        aml_name(a, f[k]);
        aml_byte(a, 8); /* PkgLength of a field: its width in bits */
    }
    aml_close(a);
}

static void irq_template(struct res *r, uint16_t mask)
{
    r->n = 0;
    res_byte(r, 0x23);
    res_word(r, mask);
    res_byte(r, IRQ_LEVEL_LOW_SHARED);
    res_end(r);
}

/* And(F, mask, ) */
static void aml_and_const(struct aml *a, const char *f, uint32_t mask)
{
    aml_byte(a, AML_AND);
    aml_name(a, f);
    aml_int(a, mask);
    aml_byte(a, AML_NULL_NAME);
}

/*
 * Device(LNKx): PIRQx# of the PIIX3. Register bit 7 = routing disabled,
 * bits 3:0 = the ISA IRQ (82371SB 2.2.9).
 *   _STA: 0x0B (present, enabled, functioning) or 0x09 when disabled
 *   _PRS: the IRQs it may take; _CRS: the one it has (none if disabled)
 *   _SRS: steer to the IRQ of the descriptor; _DIS: disable routing
 */
static void build_link(struct aml *a, int k)
{
    const char *f = link_field[k];
    struct res r;
    aml_device_begin(a, link_name[k] + 5); /* in \\_SB: "LNKx" */
    aml_name_eisaid(a, "_HID", "PNP0C0F");
    aml_name_int(a, "_UID", (uint32_t)k + 1);
    irq_template(&r, LINK_IRQS);
    aml_name_buffer(a, "_PRS", r.b, r.n);

    aml_method_begin(a, "_STA", 0, false);
    aml_if_begin(a);
    aml_and_const(a, f, 0x80);
    aml_byte(a, AML_RETURN);
    aml_int(a, 0x09);
    aml_end(a);
    aml_byte(a, AML_RETURN);
    aml_int(a, 0x0b);
    aml_end(a);

    aml_method_begin(a, "_DIS", 0, false);
    aml_byte(a, AML_OR);
    aml_name(a, f);
    aml_int(a, 0x80);
    aml_name(a, f);
    aml_end(a);

    aml_method_begin(a, "_CRS", 0, true);
    irq_template(&r, 0);
    aml_name_buffer(a, "BUFF", r.b, r.n);
    aml_byte(a, AML_CREATE_WORD_FIELD);
    aml_name(a, "BUFF");
    aml_int(a, 1);
    aml_name(a, "IRQW");
    aml_if_begin(a);
    aml_byte(a, AML_LNOT);
    aml_and_const(a, f, 0x80);
    aml_byte(a, AML_SHIFT_LEFT);
    aml_int(a, 1);
    aml_and_const(a, f, 0x0f);
    aml_name(a, "IRQW");
    aml_end(a);
    aml_byte(a, AML_RETURN);
    aml_name(a, "BUFF");
    aml_end(a);

    aml_method_begin(a, "_SRS", 1, true);
    aml_byte(a, AML_CREATE_WORD_FIELD);
    aml_byte(a, AML_ARG0);
    aml_int(a, 1);
    aml_name(a, "IRQW");
    aml_byte(a, AML_FIND_SET_RIGHT_BIT); /* 1-based bit number, 0 if none */
    aml_name(a, "IRQW");
    aml_byte(a, AML_LOCAL0);
    aml_byte(a, AML_DECREMENT);
    aml_byte(a, AML_LOCAL0);
    aml_byte(a, AML_STORE); /* no bit: 0xFF, routing disabled */
    aml_byte(a, AML_LOCAL0);
    aml_name(a, f);
    aml_end(a);

    aml_end(a);
}

/* _PRT (6.2.12) for PIC mode with fixed PIRQ steering: each entry names
 * no link device (Source Zero) and gives the ISA IRQ as SourceIndex.
 * Slot S pin P (0 = INTA#) is wired to PIRQ[(S + P - 1) & 3] (the board's
 * swizzle, hw/piix3.h). */
static void build_prt(struct aml *a, const uint8_t pirq_irq[4], bool links)
{
    aml_byte(a, AML_NAME);
    aml_name(a, "_PRT");
    aml_package_begin(a, 31 * 4);
    for (unsigned slot = 1; slot < 32; slot++)
        for (unsigned pin = 0; pin < 4; pin++) {
            aml_package_begin(a, 4);
            aml_int(a, slot << 16 | 0xffff); /* any function of the slot */
            aml_int(a, pin);
            unsigned k = (slot + pin - 1) & 3;
            if (links) {
                aml_name(a, link_name[k]); /* Source: the link device */
                aml_int(a, 0);
            } else {
                aml_int(a, 0);             /* no link: SourceIndex is the IRQ */
                aml_int(a, pirq_irq[k]);
            }
            aml_end(a);
        }
    aml_end(a);
}

static void build_pci0(struct aml *a, const struct acpi_config *cfg)
{
    aml_device_begin(a, "PCI0");
    /* _HID only: a device has a _HID or an _ADR, not both (6.1; iasl
     * warns), and a host bridge is found by its _HID. */
    aml_name_eisaid(a, "_HID", "PNP0A03");
    aml_name_int(a, "_BBN", 0);
    aml_name_int(a, "_UID", 0);
    /* The host bridge's windows: every bus number, the I/O ports except
     * the configuration mechanism's (which the bridge consumes), the VGA
     * window and the memory above RAM. */
    struct res r = { .n = 0 };
    res_word_addr(&r, ADDR_TYPE_BUS, 0, 0x00, 0xff);
    res_io(&r, 0xcf8, 8);
    res_word_addr(&r, ADDR_TYPE_IO, 0x03, 0x0000, 0x0cf7);
    res_word_addr(&r, ADDR_TYPE_IO, 0x03, 0x0d00, 0xffff);
    res_dword_mem(&r, 0x03, 0x000a0000, 0x000bffff);   /* cacheable, read/write */
    uint64_t top = cfg->ram_size;
    if (top < PCI_MEM_END)
        res_dword_mem(&r, 0x01, (uint32_t)top, PCI_MEM_END); /* non-cacheable */
    res_end(&r);
    aml_name_buffer(a, "_CRS", r.b, r.n);
    bool prt = cfg->pirq_links ||
               (cfg->pirq_irq[0] | cfg->pirq_irq[1] | cfg->pirq_irq[2] | cfg->pirq_irq[3]);
    if (prt)
        build_prt(a, cfg->pirq_irq, cfg->pirq_links);
    if (cfg->isa_devices || cfg->pirq_links)
        build_isa(a, cfg);
    aml_end(a);
}

/* \_Sx: Package { SLP_TYPa, SLP_TYPb, reserved, reserved } (7.3.4). */
static void sleep_state(struct aml *a, const char *name, uint8_t typ)
{
    aml_byte(a, AML_NAME);
    aml_name(a, name);
    aml_package_begin(a, 4);
    aml_int(a, typ);
    aml_int(a, typ);
    aml_int(a, 0);
    aml_int(a, 0);
    aml_end(a);
}

static void build_dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
    /* The PIIX4's SUS_TYP encodings (piix4_pm.h): working and soft off. */
    sleep_state(a, "\\_S0", PIIX4_SUS_TYP_WORKING);
    sleep_state(a, "\\_S5", PIIX4_SUS_TYP_SOFF);
    /* _PIC(mode): the OS says PIC (0) or APIC (1) mode; with only the
     * 8259 and fixed PIRQ steering there is nothing to switch. */
    aml_method_begin(a, "\\_PIC", 1, false);
    aml_end(a);
    aml_scope_begin(a, "\\_SB");
    build_pci0(a, cfg);
    if (cfg->pirq_links)
        for (int k = 0; k < 4; k++)
            build_link(a, k);
    aml_end(a);
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put_le32(t + 4, len);
    t[8] = rev;
    t[9] = 0;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    put_le32(t + 24, OEM_REVISION);
    memcpy(t + 28, CREATOR_ID, 4);
    put_le32(t + 32, CREATOR_REVISION);
}

static void table_sum(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = (uint8_t)-acpi_checksum(t, len);
}

/* Generic Address Structure (5.2.3.1) for an I/O block. */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint32_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = bits;
    p[2] = 0;
    p[3] = access;
    put_le64(p + 4, port);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg, uint32_t facs, uint32_t dsdt)
{
    memset(t, 0, FADT_LEN);
    table_header(t, "FACP", FADT_LEN, FADT_REV);
    uint32_t pm = cfg->pm_base;
    put_le32(t + 36, facs);
    put_le32(t + 40, dsdt);
    t[44] = 0;                      /* INT_MODEL (1.0): dual 8259 */
    t[45] = 0;                      /* Preferred_PM_Profile: unspecified */
    put_le16(t + 46, cfg->sci_irq);
    put_le32(t + 48, cfg->smi_cmd);
    t[52] = cfg->smi_cmd ? cfg->acpi_enable : 0;
    t[53] = cfg->smi_cmd ? cfg->acpi_disable : 0;
    put_le32(t + 56, pm + PIIX4_PM1_STS);   /* PM1a_EVT_BLK */
    put_le32(t + 64, pm + PIIX4_PM1_CNT);   /* PM1a_CNT_BLK */
    put_le32(t + 76, pm + PIIX4_PM_TMR);    /* PM_TMR_BLK */
    put_le32(t + 80, pm + PIIX4_GPE0_STS);  /* GPE0_BLK */
    t[88] = 4;                      /* PM1_EVT_LEN */
    t[89] = 2;                      /* PM1_CNT_LEN */
    t[91] = 4;                      /* PM_TMR_LEN */
    t[92] = PIIX4_GPE0_LEN;         /* GPE0_BLK_LEN */
    put_le16(t + 96, 101);             /* P_LVL2_LAT > 100: no C2 */
    put_le16(t + 98, 1001);            /* P_LVL3_LAT > 1000: no C3 */
    t[108] = RTC_CENTURY_INDEX;     /* CENTURY */
    put_le16(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042);
    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON;
    if (cfg->reset_port) {
        flags |= FADT_RESET_REG_SUP;
        gas_io(t + 116, 8, 1, cfg->reset_port);
        t[128] = cfg->reset_value;
    }
    put_le32(t + 112, flags);
    /* X_FIRMWARE_CTRL stays 0: "if X_FIRMWARE_CTRL is non-zero,
     * FIRMWARE_CTRL must be zero" (5.2.9), and OSes that read only the
     * 32-bit field exist. (Both set: Linux installs the FACS twice.) */
    put_le64(t + 140, dsdt);           /* X_DSDT */
    gas_io(t + 148, 32, 0, pm + PIIX4_PM1_STS);
    gas_io(t + 172, 16, 0, pm + PIIX4_PM1_CNT);
    gas_io(t + 208, 32, 0, pm + PIIX4_PM_TMR);
    gas_io(t + 220, PIIX4_GPE0_LEN * 8, 0, pm + PIIX4_GPE0_STS);
    table_sum(t, FADT_LEN);
}

void acpi_config_pc(struct acpi_config *c, uint64_t ram_size, uint16_t pm_base)
{
    memset(c, 0, sizeof(*c));
    c->ram_size = ram_size;
    c->rsdp_addr = ACPI_RSDP_ADDR;
    c->tables_addr = ACPI_TABLES_ADDR;
    c->tables_size = ACPI_TABLES_SIZE;
    c->pm_base = pm_base;
    c->sci_irq = PIIX4_PM_SCI_IRQ;
    c->smi_cmd = PIIX4_APMC_PORT;
    c->acpi_enable = PIIX4_ACPI_ENABLE;
    c->acpi_disable = PIIX4_ACPI_DISABLE;
    c->reset_port = 0xcf9;
    c->reset_value = 0x06; /* PIIX3 RC: reset CPU + system (hard) reset */
    c->isa_devices = true;
    c->pirq_links = true;
}

static bool in_ram(uint64_t ram_size, uint64_t addr, uint64_t len)
{
    return addr <= ram_size && len <= ram_size - addr;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int acpi_write(const struct acpi_config *cfg, uint8_t *tables, uint8_t *rsdp,
               struct acpi_layout *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t tsize = cfg->tables_size;
    if ((cfg->rsdp_addr & 15) || (cfg->tables_addr & 63) || tsize < 1024 ||
        (uint64_t)cfg->tables_addr + tsize > 0x100000000ull ||
        ((uint64_t)cfg->rsdp_addr + ACPI_RSDP_SIZE > cfg->tables_addr &&
         cfg->rsdp_addr < (uint64_t)cfg->tables_addr + tsize))
        return -1;

    /* Everything is built in place; on failure the area is left zeroed,
     * which no OS takes for tables. */
    memset(tables, 0, tsize);
    /* FACS first: it needs 64-byte alignment (5.2.10). */
    uint32_t off_facs = 0;
    uint8_t *facs = tables + off_facs;
    memcpy(facs, "FACS", 4);
    put_le32(facs + 4, FACS_LEN);
    facs[32] = 1; /* version (ACPI 2.0/3.0) */

    uint32_t off_dsdt = FACS_LEN;
    struct aml a = { .buf = tables + off_dsdt + HDR_LEN, .cap = tsize - off_dsdt - HDR_LEN };
    build_dsdt_body(&a, cfg);
    uint32_t dsdt_len = (uint32_t)(HDR_LEN + a.len);
    uint32_t off_fadt = align_up(off_dsdt + dsdt_len, 16);
    uint32_t off_rsdt = align_up(off_fadt + FADT_LEN, 16);
    uint32_t end = off_rsdt + HDR_LEN + 4;
    if (a.err || a.depth != 0 || end > tsize) {
        memset(tables, 0, tsize);
        return -1;
    }
    table_header(tables + off_dsdt, "DSDT", dsdt_len, DSDT_REV);
    table_sum(tables + off_dsdt, dsdt_len);

    uint32_t base = cfg->tables_addr;
    build_fadt(tables + off_fadt, cfg, base + off_facs, base + off_dsdt);
    uint8_t *rsdt = tables + off_rsdt;
    table_header(rsdt, "RSDT", HDR_LEN + 4, 1);
    put_le32(rsdt + HDR_LEN, base + off_fadt);
    table_sum(rsdt, HDR_LEN + 4);

    /* RSDP revision 0 (5.2.5.3): checksum over its 20 bytes. */
    memset(rsdp, 0, ACPI_RSDP_SIZE);
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, OEM_ID, 6);
    rsdp[15] = 0;
    put_le32(rsdp + 16, base + off_rsdt);
    rsdp[8] = (uint8_t)-acpi_checksum(rsdp, ACPI_RSDP_SIZE);

    out->rsdp = cfg->rsdp_addr;
    out->rsdt = base + off_rsdt;
    out->fadt = base + off_fadt;
    out->facs = base + off_facs;
    out->dsdt = base + off_dsdt;
    out->dsdt_len = dsdt_len;
    out->tables_start = base;
    out->tables_end = base + end;
    return 0;
}

int acpi_build(uint8_t *ram, uint64_t ram_size, const struct acpi_config *cfg,
               struct acpi_layout *out)
{
    memset(out, 0, sizeof(*out));
    if (!in_ram(ram_size, cfg->tables_addr, cfg->tables_size) ||
        !in_ram(ram_size, cfg->rsdp_addr, ACPI_RSDP_SIZE))
        return -1;
    return acpi_write(cfg, ram + cfg->tables_addr, ram + cfg->rsdp_addr, out);
}
