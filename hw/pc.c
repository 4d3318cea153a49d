/*
 * hw/pc.c — the board: RAM, the physical and I/O address spaces, the CPU
 * and the debug devices, the firmware or kernel, and the run loop that
 * turns what the CPU reports (halt, triple fault, the guest's exit
 * request) into what a PC does.
 *
 * Memory map for now: RAM from 0 to -m, the 640 KiB-1 MiB legacy hole
 * included (VGA and option ROMs come with the chipset), a -bios image at
 * the top of 4 GiB and at E0000h-FFFFFh (hw/rom.c).
 */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS, clock_gettime, gmtime_r */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "hw/hw.h"

#include "hw/acpi.h"
#include "hw/block.h"
#include "hw/dev.h"
#include "hw/i8042.h"
#include "hw/ide.h"
#include "hw/linux_boot.h"
#include "hw/pci.h"
#include "hw/pic.h"
#include "hw/piix3.h"
#include "hw/piix4_pm.h"
#include "hw/piix_ide.h"
#include "hw/pit.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "hw/vga.h"
#include "translate/translate.h"

/* Instructions per cpu_exec call: the loop looks at the board's state
 * between calls; devices that need sooner attention set exit_request. */
#define PC_SLICE 100000

/* A halted CPU waits for the next timer, but looks at host input at
 * least this often (ns). */
#define PC_IDLE_POLL_NS 10000000ull

struct pc {
    struct pc_config cfg;
    FILE *log;
    uint8_t *ram;
    struct phys_mem *phys;
    struct io_space *io;
    struct cpu *cpu;
    struct debugcon *debugcon;
    struct debug_exit *debug_exit;
    struct post *post;
    struct image_file rom;

    struct vclock *clock;
    struct irq_line cpu_intr;     /* the PIC's INT output to the CPU */
    struct irq_line isa_irq[16];  /* ISA IRQ lines into the PIC pair */
    struct pic *pic;
    struct pit *pit;
    struct uart *uart[2];
    struct pci_bus *pci;
    struct i440fx *i440fx;
    struct piix3 *piix3;
    struct piix4_pm *pm;
    struct piix_ide *ide;
    struct block *drives[4];
    struct rtc *rtc;
    struct i8042 *kbc;
    struct port92 *port92;
    struct sysctl_callbacks sysctl;
    struct vga *vga;
    bool kernel_setup16; /* -kernel runs its real-mode setup code: the BIOS
                            starts and its INT 19h enters it */
    bool exit_pending;
    int exit_status;
    bool reset_pending;
    bool shutdown_pending; /* a debugger's step triple-faulted */
    bool paused;
};

static void pc_reset_request(void *opaque);

static uint64_t pc_time_ns(void *opaque)
{
    struct pc *pc = opaque;
    return vclock_ns(pc->clock);
}

static int pc_intr_ack(void *opaque)
{
    struct pc *pc = opaque;
    return pic_intr_ack(pc->pic);
}

static void pc_cpu_intr(void *opaque, int n, int level)
{
    struct pc *pc = opaque;
    (void)n;
    cpu_set_intr(pc->cpu, level);
}

/* The A20 gate is the OR of the 8042's output port bit 1 and port
 * 0x92 bit 1 (PIIX3 datasheet, "A20GATE"). A TLB entry holds a host
 * pointer computed with the old gate: flush. */
static void pc_a20_changed(void *opaque, bool on)
{
    struct pc *pc = opaque;
    (void)on;
    bool en = (pc->kbc && i8042_a20(pc->kbc)) || (pc->port92 && port92_a20(pc->port92));
    if (en != phys_a20(pc->phys)) {
        phys_set_a20(pc->phys, en);
        cpu_tlb_flush(pc->cpu);
        /* The running block was decoded through the old gate: end it
         * after this OUT, so that the next instruction is fetched through
         * the new one. */
        pc->cpu->exit_request = 1;
    }
}

/* 0xCF9 (PIIX3): runs inside the guest's OUT, so it only asks. */
static void pc_pci_reset(void *opaque, bool hard)
{
    (void)hard;
    pc_reset_request(opaque);
}

/* Moving or adding MMIO (PCI BARs, PAM) changes what a linear address
 * means: the CPU's TLB caches host pointers. */
static void pc_map_changed(void *opaque, uint64_t base, uint64_t size)
{
    struct pc *pc = opaque;
    (void)base, (void)size;
    if (pc->cpu) {
        cpu_tlb_flush(pc->cpu);
        pc->cpu->exit_request = 1; /* as for A20: leave the running block */
    }
}

static void pc_reset_request(void *opaque)
{
    struct pc *pc = opaque;
    pc->reset_pending = true;
    pc->cpu->exit_request = 1;
}

static void pc_ferr(void *opaque, bool asserted)
{
    /* The PC/AT wires the x87's FERR# to IRQ 13 (CR0.NE = 0 legacy
     * error reporting, SDM Vol. 3A 2.5 and D.1). */
    struct pc *pc = opaque;
    irq_set(&pc->isa_irq[13], asserted);
}

static void pc_guest_exit(void *opaque, int status)
{
    struct pc *pc = opaque;
    pc->exit_pending = true;
    pc->exit_status = status;
    /* Stop after the OUT instruction: the loop checks exit_request
     * before the next one. */
    pc->cpu->exit_request = 1;
}

/* ACPI S5 (PIIX4 SUS_TYP 0 + SUS_EN): the machine is off. */
static void pc_power_off(void *opaque)
{
    pc_guest_exit(opaque, 0);
}

/* Before a port access, the device timers that fell due run: a guest
 * polling a device (an IDE status register after a command, whose work a
 * timer finishes a few microseconds later) sees it done as soon as it
 * is due, rather than when the CPU's slice ends (a JIT slice of 100 000
 * instructions can be long against a device's delay). */
static void pc_timers_before_io(void *opaque)
{
    struct pc *pc = opaque;
    vclock_run_timers(pc->clock);
}

static void pc_trace_io(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size)
{
    struct pc *pc = opaque;
    fprintf(pc->log, "ioport %s %04x size %u value %0*x\n", write ? "write" : "read ", port,
            size, (int)size * 2, val);
}

/* Boot device 4 in CMOS 0x3D: not one of the PC's (1 floppy, 2 disk, 3
 * CD); Glass's BIOS boots the kernel the board loaded for its real-mode
 * setup code (bios/misc.c). */
#define PC_BOOT_KERNEL_SETUP 4

/* Loads the kernel (again, after a reset) and sets the CPU up for it. */
static int load_kernel(struct pc *pc, char *err, size_t errlen)
{
    const struct pc_config *cfg = &pc->cfg;
    /* A Linux bzImage (the "HdrS" setup header) or a multiboot kernel. */
    if (linux_is_bzimage_file(cfg->kernel)) {
        struct linux_boot lb;
        if (linux_load(pc->ram, cfg->ram_size, cfg->kernel, cfg->initrd, cfg->append, &lb, err,
                       errlen) != 0)
            return -1;
        if (lb.real_mode_setup != pc->kernel_setup16) {
            snprintf(err, errlen, "-kernel %s: the file changed while it was being loaded",
                     cfg->kernel);
            return -1;
        }
        if (lb.real_mode_setup) {
            /* The BIOS's INT 19h boots it: boot device 4 in the CMOS
             * boot-order byte (bios/misc.c int19_handler), alone. */
            rtc_cmos_set(pc->rtc, 0x3d, PC_BOOT_KERNEL_SETUP);
            rtc_cmos_set(pc->rtc, 0x38, 0);
            rtc_cmos_update_checksum(pc->rtc);
            return 0;
        }
        /* The VGA is in text mode 3 (vga_set_mode3): say so in
         * screen_info, as the BIOS's mode would. */
        linux_set_vga_text(pc->ram, &lb, true, 0);
        struct acpi_config ac;
        struct acpi_layout al;
        acpi_config_pc(&ac, cfg->ram_size, PIIX4_PM_BASE_DEFAULT);
        if (acpi_build(pc->ram, cfg->ram_size, &ac, &al) != 0 ||
            linux_e820_add(pc->ram, &lb, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE,
                           ACPI_E820_TYPE) != 0) {
            snprintf(err, errlen, "cannot build the ACPI tables");
            return -1;
        }
        linux_set_acpi_rsdp(pc->ram, &lb, al.rsdp);
        linux_enter(pc->cpu, &lb);
        return 0;
    }
    if (cfg->initrd) {
        snprintf(err, errlen, "-initrd %s: %s is not a Linux bzImage (an initrd goes with one)",
                 cfg->initrd, cfg->kernel);
        return -1;
    }
    struct multiboot_boot boot;
    if (multiboot_load(pc->ram, pc->cfg.ram_size, pc->cfg.kernel, pc->cfg.append, &boot, err,
                       errlen) != 0)
        return -1;
    multiboot_enter(pc->cpu, &boot);
    return 0;
}

static int check_config(const struct pc_config *cfg, char *err, size_t errlen)
{
    if (cfg->ram_size < PC_RAM_MIN || cfg->ram_size > PC_RAM_MAX || cfg->ram_size % 4096) {
        snprintf(err, errlen, "RAM size %llu bytes: must be a multiple of 4 KiB from 1 MiB "
                 "to 3 GiB", (unsigned long long)cfg->ram_size);
        return -1;
    }
    if (cfg->kernel && cfg->bios) {
        snprintf(err, errlen, "-kernel and -bios cannot be used together yet");
        return -1;
    }
    return 0;
}

/* CMOS bytes a PC BIOS reads (IBM PC/AT Technical Reference, CMOS RAM
 * map; QEMU's PC uses the same, so firmware written for it works): the
 * memory sizes, the fixed disks, the equipment byte and the boot order
 * (0x3D: first and second device in the low and high nibble, 0x38 bits
 * 7-4: the third; 1 floppy, 2 hard disk, 3 CD-ROM). */
static void fill_cmos(struct pc *pc)
{
    const struct pc_config *cfg = &pc->cfg;
    rtc_cmos_set_memory(pc->rtc, cfg->ram_size, 0);
    /* 0x12: types of fixed disks 0 and 1 (0xF: see 0x19/0x1A, 47 = user). */
    uint8_t hd = 0;
    if (cfg->drive[0].file && !cfg->drive[0].cdrom)
        hd |= 0xf0;
    if (cfg->drive[1].file && !cfg->drive[1].cdrom)
        hd |= 0x0f;
    rtc_cmos_set(pc->rtc, 0x12, hd);
    rtc_cmos_set(pc->rtc, 0x19, (hd & 0xf0) ? 47 : 0);
    rtc_cmos_set(pc->rtc, 0x1a, (hd & 0x0f) ? 47 : 0);
    /* 0x14 equipment: bits 5-4 = 00 (EGA/VGA), bit 1 math coprocessor,
     * no floppy drives. */
    rtc_cmos_set(pc->rtc, 0x14, 0x02);
    rtc_cmos_set(pc->rtc, 0x10, 0x00);
    const char *order = cfg->boot_order ? cfg->boot_order : "cd";
    uint8_t dev[3] = { 0, 0, 0 };
    for (int i = 0; i < 3 && order[i]; i++)
        dev[i] = order[i] == 'a' ? 1 : order[i] == 'c' ? 2 : order[i] == 'd' ? 3 : 0;
    rtc_cmos_set(pc->rtc, 0x3d, (uint8_t)(dev[0] | dev[1] << 4));
    rtc_cmos_set(pc->rtc, 0x38, (uint8_t)(dev[2] << 4));
    rtc_cmos_update_checksum(pc->rtc);
}

/* The chipset: PIC, PIT, serial ports, PCI with the i440FX host bridge,
 * the PIIX3 ISA bridge and its IDE function. */
static int build_chipset(struct pc *pc, char *err, size_t errlen)
{
    const struct pc_config *cfg = &pc->cfg;
    irq_connect(&pc->cpu_intr, pc_cpu_intr, pc, 0);
    pc->pic = pic_new(pc->io, &pc->cpu_intr);
    if (!pc->pic)
        goto oom;
    for (int n = 0; n < 16; n++)
        irq_connect(&pc->isa_irq[n], pic_set_irq, pc->pic, n);
    pc->pit = pit_new(pc->io, pc->clock, &pc->isa_irq[0]);
    pc->uart[0] = uart_new(pc->io, UART_COM1_BASE, pc->clock, &pc->isa_irq[UART_COM1_IRQ],
                           cfg->serial[0]);
    pc->uart[1] = uart_new(pc->io, UART_COM2_BASE, pc->clock, &pc->isa_irq[UART_COM2_IRQ],
                           cfg->serial[1]);
    if (!pc->pit || !pc->uart[0] || !pc->uart[1])
        goto oom;
    for (int i = 0; i < 2; i++)
        uart_set_timing(pc->uart[i], cfg->serial_line_timing ? UART_TIMING_LINE
                                                             : UART_TIMING_FAST);

    phys_set_map_notifier(pc->phys, pc_map_changed, pc);
    pc->pci = pci_bus_new(pc->phys, pc->io);
    if (!pc->pci)
        goto oom;
    pc->i440fx = i440fx_new(pc->pci, pc->phys, pc->ram, cfg->ram_size);
    pc->piix3 = piix3_new(pc->pci, PIIX3_DEVFN, pc->isa_irq, pc_pci_reset, pc);
    pc->pm = piix4_pm_new(pc->pci, PIIX4_PM_DEVFN, pc->io, pc->clock,
                          &pc->isa_irq[PIIX4_PM_SCI_IRQ], pc_power_off, pc);
    if (!pc->pm)
        goto oom;
    struct ide_bus *channel[2];
    pc->ide = piix_ide_new(pc->pci, pc->io, pc->phys, pc->clock, &pc->isa_irq[14],
                           &pc->isa_irq[15], channel);
    if (!pc->i440fx || !pc->piix3 || !pc->ide)
        goto oom;

    /* The RTC keeps UTC, as Linux and QEMU's PC assume. */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    pc->rtc = rtc_new(pc->io, pc->clock, pc->isa_irq[8], &tm);
    pc->sysctl = (struct sysctl_callbacks){ pc_a20_changed, pc_reset_request, pc };
    pc->kbc = i8042_new(pc->io, pc->clock, pc->isa_irq[1], pc->isa_irq[12], &pc->sysctl);
    pc->port92 = port92_new(pc->io, &pc->sysctl);
    /* The display at 00:02.0, after RAM so that its 0xA0000 window lies
     * over it. */
    pc->vga = vga_pci_new(pc->pci, PCI_DEVFN(2, 0), pc->phys, pc->io, pc->clock);
    if (!pc->rtc || !pc->kbc || !pc->port92 || !pc->vga)
        goto oom;
    fill_cmos(pc);
    for (int i = 0; i < 4; i++) {
        const struct pc_drive *d = &cfg->drive[i];
        if (!d->file)
            continue;
        pc->drives[i] = block_open(d->file, d->readonly, err, errlen);
        if (!pc->drives[i])
            return -1;
        struct ide_bus *bus = channel[i / 2];
        int r = d->cdrom ? ide_attach_cdrom(bus, i % 2, pc->drives[i])
                         : ide_attach_disk(bus, i % 2, pc->drives[i]);
        if (r != 0) {
            snprintf(err, errlen, "%s: cannot attach as IDE drive %d", d->file, i);
            return -1;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory building the chipset");
    return -1;
}

/* Without firmware (a -kernel boot) nobody opens the PAM windows: make
 * 0xC0000-0xFFFFF plain RAM again, as the boot loader of a PC would find
 * it after the BIOS shadowed itself (i440FX PAM0-6, 0x59-0x5F: 3 = read
 * and write to DRAM in both halves). */
static void open_pam_for_kernel(struct pc *pc)
{
    pci_config_write(pc->pci, 0, 0x59, 0x30, 1);
    for (unsigned r = 0x5a; r <= 0x5f; r++)
        pci_config_write(pc->pci, 0, r, 0x33, 1);
    piix4_pm_set_base(pc->pm, PIIX4_PM_BASE_DEFAULT);
    /* PIRQA#..D# -> IRQ 10, 10, 11, 11, as PC firmware leaves them (the
     * DSDT's link devices let the OS change this). */
    static const uint8_t pirq[4] = { 10, 10, 11, 11 };
    for (int k = 0; k < 4; k++)
        pci_config_write(pc->pci, PIIX3_DEVFN, PIIX3_PIRQRC + k, pirq[k], 1);
}

static int build(struct pc *pc, char *err, size_t errlen)
{
    const struct pc_config *cfg = &pc->cfg;
    void *ram = mmap(NULL, cfg->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (ram == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(cfg->ram_size >> 20));
        return -1;
    }
    pc->ram = ram;
    pc->phys = phys_new();
    pc->io = io_new();
    if (!pc->phys || !pc->io || phys_map_ram(pc->phys, 0, cfg->ram_size, pc->ram) != 0) {
        snprintf(err, errlen, "cannot set up the address spaces");
        return -1;
    }
    pc->clock = vclock_new_host();
    if (!pc->clock) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const struct cpu_bus bus = {
        .time_ns = pc_time_ns,
        .mem = pc->phys,
        .io = pc->io,
        .opaque = pc,
        .intr_ack = pc_intr_ack,
        .reset_request = pc_reset_request,
        .ferr = pc_ferr,
    };
    pc->cpu = cpu_new(&bus);
    pc->debugcon = debugcon_new(pc->io, DEBUGCON_PORT, cfg->debugcon, cfg->debugcon_gather);
    pc->debug_exit = debug_exit_new(pc->io, DEBUG_EXIT_PORT, pc_guest_exit, pc);
    pc->post = post_new(pc->io, POST_PORT, (cfg->log_mask & LOG_IOPORT) ? pc->log : NULL);
    if (!pc->cpu || !pc->debugcon || !pc->debug_exit || !pc->post ||
        post_add_port(pc->post, pc->io, POST_PORT_ALT) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pc->cpu->log = pc->log;
    /* Dirty logs (the VGA's) revoke the CPU's write fast paths. */
    phys_attach_tlb(pc->phys, &pc->cpu->tlb);
    pc->cpu->log_mask = cfg->log_mask;
    pc->cpu->engine = (uint8_t)cfg->engine;
    pc->cpu->jit_code_size = cfg->jit_code_size;
    pc->cpu->jit_first_sight = cfg->jit_first_sight && !cfg->lockstep;
    pc->cpu->singlestep = cfg->singlestep;
    pc->cpu->lockstep_on = cfg->lockstep;
    pc->cpu->trace_insn = cfg->trace_insn;
    pc->cpu->trace_code = cfg->trace_code;
    pc->cpu->trace_opaque = cfg->trace_opaque;
    pc->cpu->log_filter = cfg->log_filter;
    if (cfg->log_mask & LOG_IOPORT)
        io_set_trace(pc->io, pc_trace_io, pc);
    io_set_before_access(pc->io, pc_timers_before_io, pc);

    /* The firmware goes in first: the host bridge's PAM registers decide
     * between it and the RAM beneath. */
    if (cfg->bios && rom_load(&pc->rom, pc->phys, cfg->bios, err, errlen) != 0)
        return -1;
    /* Without -bios and -kernel, the machine starts Glass's own BIOS,
     * which boots from the disks in the -boot order; also with a -kernel
     * whose real-mode setup code must run (the BIOS's INT 19h enters it). */
    pc->kernel_setup16 = cfg->kernel && linux_runs_setup_file(cfg->kernel, cfg->append);
    if (!cfg->bios && (!cfg->kernel || pc->kernel_setup16) &&
        rom_map(pc->phys, glass_bios_rom, glass_bios_rom_size) != 0) {
        snprintf(err, errlen, "the built-in BIOS image is malformed");
        return -1;
    }
    if (build_chipset(pc, err, errlen) != 0)
        return -1;
    if (!cfg->kernel)
        return 0;
    /* No firmware: what a boot loader finds after the BIOS ran (unless
     * the BIOS runs, for a kernel's real-mode setup code). */
    if (!pc->kernel_setup16) {
        open_pam_for_kernel(pc);
        vga_set_mode3(pc->vga);
    }
    return load_kernel(pc, err, errlen);
}

struct pc *pc_new(const struct pc_config *cfg, char *err, size_t errlen)
{
    if (check_config(cfg, err, errlen) != 0)
        return NULL;
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pc->cfg = *cfg;
    pc->log = cfg->log ? cfg->log : stderr;
    if (build(pc, err, errlen) != 0) {
        pc_free(pc);
        return NULL;
    }
    /* Mapping changes while building asked the CPU to leave its block;
     * nothing runs yet. */
    pc->cpu->exit_request = 0;
    if (cfg->start_paused)
        pc_pause(pc);
    return pc;
}

void pc_free(struct pc *pc)
{
    if (!pc)
        return;
    vga_free(pc->vga);
    port92_free(pc->port92);
    i8042_free(pc->kbc);
    rtc_free(pc->rtc);
    piix_ide_free(pc->ide);
    for (int i = 0; i < 4; i++)
        if (pc->drives[i])
            block_close(pc->drives[i]); /* flushes guest writes */
    piix4_pm_free(pc->pm);
    piix3_free(pc->piix3);
    i440fx_free(pc->i440fx);
    pci_bus_free(pc->pci);
    for (int i = 0; i < 2; i++)
        uart_free(pc->uart[i]);
    pit_free(pc->pit);
    pic_free(pc->pic);
    vclock_free(pc->clock);
    if (pc->cpu) {
        phys_detach_tlb(pc->phys, &pc->cpu->tlb);
        cpu_exec_release(pc->cpu);
        cpu_free(pc->cpu);
    }
    post_free(pc->post);
    debug_exit_free(pc->debug_exit);
    debugcon_free(pc->debugcon);
    if (pc->io)
        io_free(pc->io);
    if (pc->phys)
        phys_free(pc->phys);
    image_file_free(&pc->rom);
    if (pc->ram)
        munmap(pc->ram, pc->cfg.ram_size);
    free(pc);
}

int pc_reset(struct pc *pc, char *err, size_t errlen)
{
    pc->reset_pending = false;
    cpu_reset(pc->cpu);
    phys_set_a20(pc->phys, true);
    cpu_tlb_flush(pc->cpu);
    pic_reset(pc->pic);
    pit_reset(pc->pit);
    for (int i = 0; i < 2; i++)
        uart_reset(pc->uart[i]);
    i8042_reset(pc->kbc);
    port92_reset(pc->port92);
    pci_bus_reset(pc->pci);
    if (pc->cfg.kernel && !pc->kernel_setup16) {
        open_pam_for_kernel(pc);
        vga_set_mode3(pc->vga);
    }
    /* A -bios image starts again from the reset vector by itself; a
     * -kernel is what a boot loader would load again after POST. */
    if (pc->cfg.kernel)
        return load_kernel(pc, err, errlen);
    return 0;
}

static int pc_run_loop(struct pc *pc);

enum cpu_exit pc_step(struct pc *pc, uint64_t budget)
{
    return cpu_exec(pc->cpu, budget);
}

bool pc_exit_requested(const struct pc *pc, int *status)
{
    if (pc->exit_pending && status)
        *status = pc->exit_status;
    return pc->exit_pending;
}

/* A reset (triple fault or the guest's request): reboot as a PC does, or
 * stop under -no-reboot. Returns true if the machine goes on. */
static bool pc_reboot(struct pc *pc, const char *why)
{
    if (pc->cfg.no_reboot) {
        fprintf(stderr, "glass: %s; stopping (-no-reboot)\n", why);
        return false;
    }
    if (pc->cfg.log_mask & LOG_INT)
        fprintf(pc->log, "glass: %s; resetting\n", why);
    char err[HW_ERR_MAX];
    if (pc_reset(pc, err, sizeof(err)) != 0) {
        fprintf(stderr, "glass: reset: %s\n", err);
        return false;
    }
    return true;
}

/* -d stats: what a benchmark needs from one run. */
static void print_stats(struct pc *pc, const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
    uint64_t n = pc->cpu->icount;
    fprintf(pc->log, "glass: %llu instructions in %.3f s: %.1f MIPS\n", (unsigned long long)n, s,
            s > 0 ? (double)n / s / 1e6 : 0.0);
}

int pc_run(struct pc *pc)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = pc_run_loop(pc);
    /* However the run ended (power-off, debug exit, Ctrl-A x, a halt
     * for good), what the guest wrote to a serial port goes to the host:
     * with -serial-timing line the last bytes may still wait in a FIFO. */
    for (int i = 0; i < 2; i++)
        uart_flush(pc->uart[i]);
    if (pc->cfg.log_mask & LOG_STATS)
        print_stats(pc, &t0);
    if (pc->cfg.log_mask & LOG_JIT)
        cpu_exec_print_stats(pc->cpu, pc->log);
    return status;
}

/* Waits for host input at most `ns`: the frontend's wait (it wakes at
 * once when its user types), or a sleep. */
static void pc_wait(struct pc *pc, uint64_t ns)
{
    if (ns == 0)
        return;
    if (pc->cfg.wait_input) {
        pc->cfg.wait_input(pc->cfg.poll_opaque, ns);
        return;
    }
    struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_SEC), .tv_nsec = (long)(ns % NS_PER_SEC) };
    nanosleep(&ts, NULL);
}

/* Sleeps until the next timer is due, at most PC_IDLE_POLL_NS: a halted
 * CPU waits for an interrupt without spinning the host. */
static void pc_idle(struct pc *pc)
{
    uint64_t ns = vclock_time_to_next(pc->clock);
    if (ns > PC_IDLE_POLL_NS)
        ns = PC_IDLE_POLL_NS;
    pc_wait(pc, ns);
}

/* Whether anything can ever wake a halted CPU: an interrupt it accepts
 * (IF set, or an NMI) from a device that may still raise one. */
static bool pc_can_wake(struct pc *pc)
{
    return (cpu_get_eflags(pc->cpu) & FL_IF) || pc->cpu->nmi_pending;
}

void pc_pause(struct pc *pc)
{
    if (pc->paused)
        return;
    pc->paused = true;
    vclock_pause(pc->clock);
}

void pc_resume(struct pc *pc)
{
    if (!pc->paused)
        return;
    pc->paused = false;
    vclock_resume(pc->clock);
    /* Continuing from a breakpoint runs the instruction under it. */
    cpu_dbg_resume(pc->cpu);
}

bool pc_paused(const struct pc *pc)
{
    return pc->paused;
}

enum cpu_exit pc_debug_step(struct pc *pc)
{
    enum cpu_exit why = cpu_exec_step(pc->cpu);
    if (why == CPU_EXIT_SHUTDOWN)
        pc->shutdown_pending = true;
    return why;
}

void pc_request_reset(struct pc *pc)
{
    pc_reset_request(pc);
}

void pc_power_button(struct pc *pc)
{
    piix4_pm_power_button(pc->pm);
}

void pc_key_event(struct pc *pc, unsigned usage, bool pressed)
{
    i8042_key_event(pc->kbc, usage, pressed);
}

void pc_mouse_event(struct pc *pc, int dx, int dy, int dz, unsigned buttons)
{
    i8042_mouse_event(pc->kbc, dx, dy, dz, buttons);
}

static void print_block_info(struct pc *pc, FILE *out)
{
    static const char *const where[4] = { "ide0 primary master", "ide1 primary slave",
                                          "ide2 secondary master", "ide3 secondary slave" };
    for (int i = 0; i < 4; i++) {
        const struct block *b = pc->drives[i];
        if (!b) {
            fprintf(out, "%s: empty\n", where[i]);
            continue;
        }
        fprintf(out, "%s: %s %s, %llu bytes%s\n", where[i], pc->cfg.drive[i].cdrom ? "cdrom" : "disk",
                block_path(b), (unsigned long long)block_size(b),
                block_read_only(b) ? ", read-only" : "");
    }
}

void pc_print_info(struct pc *pc, enum pc_info what, FILE *out)
{
    switch (what) {
    case PC_INFO_PIC: pic_print_info(pc->pic, out); break;
    case PC_INFO_PIT: pit_print_info(pc->pit, out); break;
    case PC_INFO_PCI: pci_bus_print_info(pc->pci, out); break;
    case PC_INFO_BLOCK: print_block_info(pc, out); break;
    }
}

int pc_screen_render(struct pc *pc, uint32_t *pixels, int *width, int *height, int stride)
{
    return vga_render(pc->vga, pixels, width, height, stride);
}

size_t pc_screen_text(struct pc *pc, char *buf, size_t len)
{
    return vga_text_snapshot(pc->vga, buf, len);
}

/* A paused machine's turn of the loop: wait for its user. */
#define PC_PAUSED_WAIT_NS 20000000ull

static int pc_run_loop(struct pc *pc)
{
    for (;;) {
        enum cpu_exit why = CPU_EXIT_BUDGET;
        if (pc->paused) {
            pc_wait(pc, PC_PAUSED_WAIT_NS);
        } else {
            why = cpu_exec(pc->cpu, PC_SLICE);
            debugcon_flush(pc->debugcon); /* before the board's own words */
            if (why == CPU_EXIT_DEBUG) {
                pc_pause(pc);
                if (pc->cfg.stopped)
                    pc->cfg.stopped(pc->cfg.poll_opaque, &pc->cpu->dbg.stop);
            }
        }
        vclock_run_timers(pc->clock);
        if (pc->cfg.poll && !pc->cfg.poll(pc->cfg.poll_opaque))
            return 0; /* the user quit (Ctrl-A x, the monitor's quit) */
        if (pc->exit_pending)
            break;
        if (pc->reset_pending) {
            if (!pc_reboot(pc, "the guest requested a reset"))
                return 0;
            continue;
        }
        if (pc->shutdown_pending) {
            pc->shutdown_pending = false;
            why = CPU_EXIT_SHUTDOWN;
        }
        if (why == CPU_EXIT_DIVERGED) {
            fprintf(stderr, "glass: lockstep: the JIT and the interpreter disagree (the log "
                            "has both states)\n");
            fflush(pc->log);
            return 3;
        }
        if (why == CPU_EXIT_SHUTDOWN) {
            if (!pc_reboot(pc, "triple fault"))
                return 0;
        } else if (why == CPU_EXIT_HALT) {
            if (!pc_can_wake(pc)) {
                fprintf(stderr, "glass: CPU halted with interrupts disabled\n");
                return 0;
            }
            pc_idle(pc);
            vclock_run_timers(pc->clock);
        }
    }
    if (pc->cfg.debugcon)
        fflush(pc->cfg.debugcon);
    fflush(pc->log);
    return pc->exit_status;
}

struct cpu *pc_cpu(struct pc *pc)
{
    return pc->cpu;
}

struct phys_mem *pc_phys(struct pc *pc)
{
    return pc->phys;
}

struct io_space *pc_io(struct pc *pc)
{
    return pc->io;
}

uint8_t *pc_ram(struct pc *pc)
{
    return pc->ram;
}

uint8_t pc_post_code(const struct pc *pc)
{
    return post_last(pc->post);
}

struct vga *pc_vga(struct pc *pc)
{
    return pc->vga;
}
