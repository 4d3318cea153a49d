/*
 * test_piix4_pm.c — the PIIX4 power management function (hw/piix4_pm.c)
 * on a bare PCI bus, I/O space and manual clock: identity, PMBA/PMIOSE
 * decoding, the ACPI timer and its overflow status/SCI, SMI_CMD's ACPI
 * enable/disable, the power button, sleep requests (S5 calls the board,
 * other SUS_TYP values do not) and reset.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "hw/piix4_pm.h"

struct rig {
    struct phys_mem *pm;
    struct io_space *io;
    struct pci_bus *bus;
    struct vclock *clock;
    struct irq_line sci;
    int sci_level, sci_edges;
    int power_offs;
    struct piix4_pm *dev;
};

static void sci_recv(void *opaque, int n, int level)
{
    struct rig *r = opaque;
    (void)n;
    if (level && !r->sci_level)
        r->sci_edges++;
    r->sci_level = level;
}

static void power_off(void *opaque)
{
    struct rig *r = opaque;
    r->power_offs++;
}

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    r->pm = phys_new();
    r->io = io_new();
    r->bus = pci_bus_new(r->pm, r->io);
    r->clock = vclock_new_manual();
    cr_assert(r->bus && r->clock);
    irq_connect(&r->sci, sci_recv, r, 9);
    r->dev = piix4_pm_new(r->bus, PIIX4_PM_DEVFN, r->io, r->clock, &r->sci, power_off, r);
    cr_assert_not_null(r->dev);
}

static void rig_fini(struct rig *r)
{
    piix4_pm_free(r->dev);
    pci_bus_free(r->bus);
    vclock_free(r->clock);
    io_free(r->io);
    phys_free(r->pm);
}

static uint32_t cfgr(struct rig *r, unsigned reg, unsigned size)
{
    io_write(r->io, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    return io_read(r->io, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfgw(struct rig *r, unsigned reg, uint32_t val, unsigned size)
{
    io_write(r->io, 0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    io_write(r->io, (uint16_t)(0xcfc + (reg & 3)), val, size);
}

#define BASE 0x600

/* PMBA and PMIOSE as a BIOS sets them. */
static void enable_io(struct rig *r)
{
    cfgw(r, PIIX4_PM_PMBA, BASE, 4);
    cfgw(r, PIIX4_PM_PMREGMISC, 1, 1);
}

Test(piix4_pm, identity)
{
    struct rig r;
    rig_init(&r);
    cr_assert_eq(cfgr(&r, 0x00, 4), 0x71138086u);
    cr_assert_eq(cfgr(&r, 0x08, 4), 0x06800003u); /* class 068000, revision 3 */
    cr_assert_eq(cfgr(&r, 0x0e, 1), 0x00);
    cr_assert_eq(cfgr(&r, 0x3d, 1), 1);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMBA, 4), 1); /* I/O space indicator */
    cr_assert_eq(cfgr(&r, PIIX4_PM_SMBBA, 4), 1);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMREGMISC, 1), 0);
    rig_fini(&r);
}

Test(piix4_pm, pmba_and_pmiose_decode)
{
    struct rig r;
    rig_init(&r);
    /* Nothing decodes before PMBA and PMIOSE are set. */
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0xffff);
    cfgw(&r, PIIX4_PM_PMBA, 0xffffffffu, 4);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMBA, 4), 0xffc1u, "bits 15:6 and the I/O bit");
    cfgw(&r, PIIX4_PM_PMBA, BASE | 0x3f, 4);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMBA, 4), BASE | 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0xffff, "PMIOSE still off");
    cfgw(&r, PIIX4_PM_PMREGMISC, 0xff, 1);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMREGMISC, 1), 1);
    cr_assert_eq(piix4_pm_io_base(r.dev), BASE);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0);
    /* Moving the block. */
    cfgw(&r, PIIX4_PM_PMBA, 0xb000, 4);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0xffff);
    cr_assert_eq(io_read(r.io, 0xb000 + PIIX4_PM1_CNT, 2), 0);
    cfgw(&r, PIIX4_PM_PMREGMISC, 0, 1);
    cr_assert_eq(io_read(r.io, 0xb000 + PIIX4_PM1_CNT, 2), 0xffff);
    cr_assert_eq(piix4_pm_io_base(r.dev), 0);
    /* The board's shortcut does the same. */
    piix4_pm_set_base(r.dev, BASE);
    cr_assert_eq(piix4_pm_io_base(r.dev), BASE);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMREGMISC, 1), 1);
    rig_fini(&r);
}

Test(piix4_pm, timer_counts_at_3579545_hz_and_wraps_at_24_bits)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR, 4), 0);
    vclock_advance(r.clock, 1000); /* 3.58 ticks */
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR, 4), 3);
    vclock_advance(r.clock, NS_PER_SEC - 1000);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR, 4), 3579545u);
    /* Byte reads see the same counter. */
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR + 2, 1), (3579545u >> 16) & 0xff);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR + 3, 1), 0, "24-bit timer");
    /* After 10 s: 35795450 ticks, modulo 2^24. */
    vclock_advance(r.clock, 9 * NS_PER_SEC);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR, 4), 35795450u & 0xffffff);
    /* Read-only. */
    io_write(r.io, BASE + PIIX4_PM_TMR, 0, 4);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM_TMR, 4), 35795450u & 0xffffff);
    rig_fini(&r);
}

/* Virtual time of the first tick count >= 2^23 (bit 23 toggles). */
#define TOGGLE_NS (((1ull << 23) * NS_PER_SEC + PIIX4_PM_TMR_HZ - 1) / PIIX4_PM_TMR_HZ)

Test(piix4_pm, timer_overflow_status_and_sci)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    vclock_advance(r.clock, TOGGLE_NS - 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, 0);
    vclock_advance(r.clock, 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, PIIX4_PM1_TMR,
                 "bit 23 went 0 -> 1");
    /* Status without enable and SCI_EN: no SCI. */
    cr_assert_eq(r.sci_level, 0);
    /* Write 1 to clear; writing 0 leaves status alone. */
    io_write(r.io, BASE + PIIX4_PM1_STS, 0, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, PIIX4_PM1_TMR);
    io_write(r.io, BASE + PIIX4_PM1_STS, PIIX4_PM1_TMR, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, 0);
    /* SCI mode, timer enabled: the next toggle (1 -> 0) raises the SCI
     * from the clock's timer, without any register access. */
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    io_write(r.io, BASE + PIIX4_PM1_EN, PIIX4_PM1_TMR, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_EN, 2), PIIX4_PM1_TMR);
    cr_assert_eq(r.sci_level, 0);
    vclock_advance(r.clock, TOGGLE_NS - 10);
    cr_assert_eq(r.sci_level, 0);
    vclock_advance(r.clock, 20);
    cr_assert_eq(r.sci_level, 1, "SCI at the 1 -> 0 toggle");
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, PIIX4_PM1_TMR);
    io_write(r.io, BASE + PIIX4_PM1_STS, PIIX4_PM1_TMR, 2);
    cr_assert_eq(r.sci_level, 0);
    /* Disabling the enable masks the next one. */
    io_write(r.io, BASE + PIIX4_PM1_EN, 0, 2);
    vclock_advance(r.clock, TOGGLE_NS + 10);
    cr_assert_eq(r.sci_level, 0);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_TMR, PIIX4_PM1_TMR);
    /* Enabling with the status already set raises it at once. */
    io_write(r.io, BASE + PIIX4_PM1_EN, PIIX4_PM1_TMR, 2);
    cr_assert_eq(r.sci_level, 1);
    rig_fini(&r);
}

Test(piix4_pm, smi_cmd_acpi_enable_disable)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SCI_EN, 0,
                 "legacy mode at power-on");
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SCI_EN,
                 PIIX4_PM1_CNT_SCI_EN);
    cr_assert_eq(io_read(r.io, PIIX4_APMC_PORT, 1), PIIX4_ACPI_ENABLE);
    io_write(r.io, PIIX4_APMC_PORT, 0x42, 1); /* another command: no change */
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SCI_EN,
                 PIIX4_PM1_CNT_SCI_EN);
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_DISABLE, 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2) & PIIX4_PM1_CNT_SCI_EN, 0);
    /* APMS is plain storage. */
    io_write(r.io, PIIX4_APMS_PORT, 0x5a, 1);
    cr_assert_eq(io_read(r.io, PIIX4_APMS_PORT, 1), 0x5a);
    cr_assert_eq(io_read(r.io, PIIX4_APMC_PORT, 2), 0x5af0);
    rig_fini(&r);
}

Test(piix4_pm, power_button)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    piix4_pm_power_button(r.dev);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    cr_assert_eq(r.sci_level, 0, "not enabled");
    io_write(r.io, BASE + PIIX4_PM1_EN, PIIX4_PM1_PWRBTN, 2);
    cr_assert_eq(r.sci_level, 0, "SCI_EN clear: would be an SMI");
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    cr_assert_eq(r.sci_level, 1);
    cr_assert_eq(r.sci_edges, 1);
    /* A byte write of 1 to the high status byte clears it. */
    io_write(r.io, BASE + PIIX4_PM1_STS + 1, PIIX4_PM1_PWRBTN >> 8, 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2), 0);
    cr_assert_eq(r.sci_level, 0);
    piix4_pm_power_button(r.dev);
    cr_assert_eq(r.sci_level, 1);
    cr_assert_eq(r.sci_edges, 2);
    rig_fini(&r);
}

Test(piix4_pm, sleep_requests)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    /* SUS_TYP written without SUS_EN: stored, nothing happens. */
    io_write(r.io, BASE + PIIX4_PM1_CNT, PIIX4_SUS_TYP_SOFF << 10 | PIIX4_PM1_CNT_SCI_EN, 2);
    cr_assert_eq(r.power_offs, 0);
    /* Working and suspend-to-RAM types with SUS_EN: no power off. */
    io_write(r.io, BASE + PIIX4_PM1_CNT, PIIX4_SUS_TYP_WORKING << 10 | PIIX4_PM1_CNT_SUS_EN, 2);
    cr_assert_eq(r.power_offs, 0);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), PIIX4_SUS_TYP_WORKING << 10,
                 "SUS_EN reads 0, SUS_TYP kept");
    io_write(r.io, BASE + PIIX4_PM1_CNT, PIIX4_SUS_TYP_STR << 10 | PIIX4_PM1_CNT_SUS_EN, 2);
    cr_assert_eq(r.power_offs, 0);
    /* Soft off: the board is told, once per request. */
    io_write(r.io, BASE + PIIX4_PM1_CNT, PIIX4_SUS_TYP_SOFF << 10 | PIIX4_PM1_CNT_SUS_EN, 2);
    cr_assert_eq(r.power_offs, 1);
    /* A byte write to the high byte does it too (SUS_TYP and SUS_EN
     * share it). */
    io_write(r.io, BASE + PIIX4_PM1_CNT + 1, PIIX4_PM1_CNT_SUS_EN >> 8, 1);
    cr_assert_eq(r.power_offs, 2);
    /* GBL_RLS is write-only. */
    io_write(r.io, BASE + PIIX4_PM1_CNT, PIIX4_PM1_CNT_GBL_RLS, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0);
    rig_fini(&r);
}

Test(piix4_pm, gpe0_block_and_storage_registers)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    io_write(r.io, BASE + PIIX4_GPE0_EN, 0xffff, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_GPE0_EN, 2), 0x0f81);
    io_write(r.io, BASE + PIIX4_GPE0_STS, 0xffff, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_GPE0_STS, 2), 0);
    cr_assert_eq(r.sci_level, 0);
    /* PM1 enable: only the four enables exist. */
    io_write(r.io, BASE + PIIX4_PM1_EN, 0xffff, 2);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_EN, 2), 0x0521);
    /* GPOREG is storage; a dword straddling the block's end is bounded. */
    io_write(r.io, BASE + 0x34, 0x12345678u, 4);
    cr_assert_eq(io_read(r.io, BASE + 0x34, 4), 0x12345678u);
    io_write(r.io, BASE + 0x3e, 0xffffffffu, 4);
    cr_assert_eq(io_read(r.io, BASE + 0x3e, 2), 0);
    /* GLBCTL BIOS_RLS: sets GBL_STS (and an SCI when enabled). */
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    io_write(r.io, BASE + 0x28, 0x02, 1);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2) & PIIX4_PM1_GBL, PIIX4_PM1_GBL);
    cr_assert_eq(io_read(r.io, BASE + 0x28, 1) & 0x02, 0, "write-only");
    cr_assert_eq(r.sci_level, 1);
    rig_fini(&r);
}

Test(piix4_pm, reset_unmaps_and_returns_to_legacy_mode)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    io_write(r.io, BASE + PIIX4_PM1_EN, PIIX4_PM1_PWRBTN, 2);
    piix4_pm_power_button(r.dev);
    cr_assert_eq(r.sci_level, 1);
    pci_bus_reset(r.bus);
    cr_assert_eq(r.sci_level, 0);
    cr_assert_eq(piix4_pm_io_base(r.dev), 0);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0xffff);
    cr_assert_eq(cfgr(&r, PIIX4_PM_PMBA, 4), 1);
    enable_io(&r);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_STS, 2), 0);
    rig_fini(&r);
}

Test(piix4_pm, state_table)
{
    cr_assert_str_eq(piix4_pm_state_desc.name, "piix4_pm");
    int n = 0;
    for (const struct dev_field *f = piix4_pm_state_desc.fields; f->name; f++)
        n++;
    cr_assert_geq(n, 6);
}

Test(piix4_pm, post_load_maps_what_the_restored_header_says)
{
    struct rig r;
    rig_init(&r);
    enable_io(&r);
    io_write(r.io, PIIX4_APMC_PORT, PIIX4_ACPI_ENABLE, 1);
    io_write(r.io, BASE + PIIX4_PM1_EN, PIIX4_PM1_PWRBTN, 2);
    piix4_pm_power_button(r.dev);
    cr_assert_eq(r.sci_level, 1);
    /* As a snapshot restore would leave it: the header says 0xb000,
     * and the receiver of the SCI forgot its level. */
    struct pci_device *d = piix4_pm_pci(r.dev);
    pci_set_long(d, PIIX4_PM_PMBA, 0xb001);
    r.sci_level = 0;
    piix4_pm_post_load(r.dev);
    cr_assert_eq(piix4_pm_io_base(r.dev), 0xb000);
    cr_assert_eq(io_read(r.io, BASE + PIIX4_PM1_CNT, 2), 0xffff);
    cr_assert_eq(io_read(r.io, 0xb000 + PIIX4_PM1_STS, 2), PIIX4_PM1_PWRBTN);
    cr_assert_eq(r.sci_level, 1, "the SCI line driven again");
    rig_fini(&r);
}
