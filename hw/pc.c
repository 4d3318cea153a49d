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
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS, clock_gettime */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "hw/hw.h"
#include "translate/translate.h"

/* Instructions per interp_run call: the loop looks at the board's state
 * between calls; devices that need sooner attention set exit_request. */
#define PC_SLICE 100000

/* The 8259A answers an INTA cycle with no request pending with the
 * vector of its IRQ 7, the "spurious interrupt" (8259A datasheet). With no
 * PIC yet this is what a stray INTA gets, for the PC/AT BIOS's base 08h. */
#define SPURIOUS_VECTOR 0x0f

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
    bool exit_pending;
    int exit_status;
    bool reset_pending;
};

static int pc_intr_ack(void *opaque)
{
    (void)opaque;
    return SPURIOUS_VECTOR;
}

static void pc_reset_request(void *opaque)
{
    struct pc *pc = opaque;
    pc->reset_pending = true;
    pc->cpu->exit_request = 1;
}

static void pc_ferr(void *opaque, bool asserted)
{
    /* FERR# reaches IRQ 13 through the PIC, which does not exist yet. */
    (void)opaque;
    (void)asserted;
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

static void pc_trace_io(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size)
{
    struct pc *pc = opaque;
    fprintf(pc->log, "ioport %s %04x size %u value %0*x\n", write ? "write" : "read ", port,
            size, (int)size * 2, val);
}

/* Loads the kernel (again, after a reset) and sets the CPU up for it. */
static int load_kernel(struct pc *pc, char *err, size_t errlen)
{
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
    if (!cfg->kernel && !cfg->bios) {
        snprintf(err, errlen, "nothing to boot: give -kernel FILE or -bios FILE "
                 "(Glass has no built-in BIOS yet)");
        return -1;
    }
    return 0;
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
    const struct cpu_bus bus = {
        .mem = pc->phys,
        .io = pc->io,
        .opaque = pc,
        .intr_ack = pc_intr_ack,
        .reset_request = pc_reset_request,
        .ferr = pc_ferr,
    };
    pc->cpu = cpu_new(&bus);
    pc->debugcon = debugcon_new(pc->io, DEBUGCON_PORT, cfg->debugcon);
    pc->debug_exit = debug_exit_new(pc->io, DEBUG_EXIT_PORT, pc_guest_exit, pc);
    pc->post = post_new(pc->io, POST_PORT, (cfg->log_mask & LOG_IOPORT) ? pc->log : NULL);
    if (!pc->cpu || !pc->debugcon || !pc->debug_exit || !pc->post ||
        post_add_port(pc->post, pc->io, POST_PORT_ALT) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pc->cpu->log = pc->log;
    pc->cpu->log_mask = cfg->log_mask;
    pc->cpu->trace_insn = cfg->trace_insn;
    pc->cpu->trace_opaque = cfg->trace_opaque;
    if (cfg->log_mask & LOG_IOPORT)
        io_set_trace(pc->io, pc_trace_io, pc);

    if (cfg->bios)
        return rom_load(&pc->rom, pc->phys, cfg->bios, err, errlen);
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
    return pc;
}

void pc_free(struct pc *pc)
{
    if (!pc)
        return;
    if (pc->cpu) {
        interp_release(pc->cpu);
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
    /* A -bios image starts again from the reset vector by itself; a
     * -kernel is what a boot loader would load again after POST. */
    if (pc->cfg.kernel)
        return load_kernel(pc, err, errlen);
    return 0;
}

static int pc_run_loop(struct pc *pc);

enum cpu_exit pc_step(struct pc *pc, uint64_t budget)
{
    return interp_run(pc->cpu, budget);
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
    if (pc->cfg.log_mask & LOG_STATS)
        print_stats(pc, &t0);
    return status;
}

static int pc_run_loop(struct pc *pc)
{
    for (;;) {
        enum cpu_exit why = interp_run(pc->cpu, PC_SLICE);
        if (pc->exit_pending)
            break;
        if (pc->reset_pending) {
            if (!pc_reboot(pc, "the guest requested a reset"))
                return 0;
            continue;
        }
        if (why == CPU_EXIT_SHUTDOWN) {
            if (!pc_reboot(pc, "triple fault"))
                return 0;
        } else if (why == CPU_EXIT_HALT) {
            /* No device can raise an interrupt yet, so a halted CPU stays
             * halted: end the run rather than spin. */
            if (cpu_get_eflags(pc->cpu) & FL_IF)
                fprintf(stderr, "glass: CPU halted and no device can wake it\n");
            else
                fprintf(stderr, "glass: CPU halted with interrupts disabled\n");
            return 0;
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
