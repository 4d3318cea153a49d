/*
 * hw/ — the board and its devices. This is the folder's one public header:
 * the frontend builds a machine with pc_new() and runs it with pc_run();
 * unit tests build single devices on a bare io_space, or a whole board.
 *
 * Devices see memory/ (to register their ports) and nothing of the CPU;
 * only pc.c wires devices to the CPU.
 */
#ifndef GLASS_HW_H
#define GLASS_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "memory/memory.h"

/* Room for one error message of the loaders and the board. */
#define HW_ERR_MAX 512

/* ------------------------------------------------------------------ */
/* Character backend (serial ports)                                    */
/* ------------------------------------------------------------------ */

/*
 * The host side of a serial line. The frontend makes one (stdio, a file,
 * null) and hands it to the device. Output: the device calls
 * chr->write. Input: the frontend calls chardev_push() with bytes from
 * the host, which hands them to the device's receive callback as far as
 * the device's can_receive allows (the rest stays with the frontend).
 */
struct chardev {
    void (*write)(void *be_opaque, const uint8_t *buf, size_t len);
    void *be_opaque;
    /* Installed by the device (chardev_attach). */
    size_t (*can_receive)(void *dev_opaque);
    void (*receive)(void *dev_opaque, const uint8_t *buf, size_t len);
    void *dev_opaque;
};

static inline void chardev_attach(struct chardev *c, size_t (*can_receive)(void *),
                                  void (*receive)(void *, const uint8_t *, size_t), void *opaque)
{
    c->can_receive = can_receive;
    c->receive = receive;
    c->dev_opaque = opaque;
}

/* Returns how many of the `len` bytes the device took. */
static inline size_t chardev_push(struct chardev *c, const uint8_t *buf, size_t len)
{
    if (!c->receive || !c->can_receive)
        return len; /* nobody listens: the bytes are dropped */
    size_t room = c->can_receive(c->dev_opaque);
    if (room > len)
        room = len;
    if (room)
        c->receive(c->dev_opaque, buf, room);
    return room;
}

static inline void chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
    if (c && c->write)
        c->write(c->be_opaque, buf, len);
}

/* ------------------------------------------------------------------ */
/* The board (hw/pc.c)                                                 */
/* ------------------------------------------------------------------ */

#define PC_RAM_MIN (1ull << 20)   /* 1 MiB */
#define PC_RAM_MAX (3ull << 30)   /* 3 GiB: the top GiB is for ROM and MMIO */
#define PC_RAM_DEFAULT (128ull << 20)

/* Board-level log categories, next to the CPU's LOG_* bits in cpu.h. */
#define LOG_IOPORT (1u << 8) /* every port access, and POST codes */
#define LOG_STATS (1u << 9)  /* at exit: instructions run, time, guest MIPS */

struct pc_config {
    uint64_t ram_size;     /* bytes, a multiple of 4 KiB in [PC_RAM_MIN, PC_RAM_MAX] */
    const char *kernel;    /* multiboot kernel, or NULL */
    const char *append;    /* kernel command line after the file name, or NULL */
    const char *bios;      /* firmware image, or NULL */
    FILE *debugcon;        /* where port 0xE9 output goes; NULL discards it */
    bool debugcon_gather;  /* written after each slice, not per byte (a file) */
    bool no_reboot;        /* a triple fault or reset request ends the run */
    unsigned log_mask;     /* LOG_* of cpu.h and LOG_IOPORT */
    FILE *log;             /* log output (stderr if NULL) */
    /* -d exec: called before each instruction (see struct cpu). */
    void (*trace_insn)(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len);
    /* -d in_asm/out_asm (see struct cpu). */
    void (*trace_code)(void *opaque, const char *heading, uint64_t addr, const uint8_t *bytes,
                       size_t len, unsigned bits);
    void *trace_opaque;
    const char *initrd;    /* Linux initial ramdisk (with a bzImage kernel), or NULL */
    /* Serial ports COM1, COM2: host ends made by the frontend, or NULL
     * (the port exists with nothing attached). */
    struct chardev *serial[2];
    /* -serial-timing line: the UARTs send at the programmed baud rate
     * instead of as fast as the host end takes the bytes. */
    bool serial_line_timing;
    /* IDE drives: index 0-3 = primary master/slave, secondary master/slave. */
    struct pc_drive {
        const char *file; /* raw image, NULL: none */
        bool cdrom;
        bool readonly;
    } drive[4];
    const char *boot_order; /* "c", "d", "cd"...: for the BIOS; NULL = "cd" */
    /* The execution engine (enum cpu_engine of translate/translate.h),
     * the JIT's translation cache size in bytes (0: the default) and
     * -singlestep. */
    int engine;
    size_t jit_code_size;
    bool jit_first_sight;  /* cpu.h jit_first_sight */
    bool singlestep;
    bool lockstep;         /* -accel jit,lockstep */
    /* Called between CPU slices: the frontend reads host input (serial
     * stdin) here. Returns false when the user asked to quit. */
    bool (*poll)(void *opaque);
    void *poll_opaque;
    /* Waits at most `max_ns` for host input, while the machine is paused
     * or its CPU halted (NULL: the board sleeps instead). poll runs
     * after it. */
    void (*wait_input)(void *opaque, uint64_t max_ns);
    /* A debugger's breakpoint or watchpoint stopped the CPU; the machine
     * is paused (pc_paused) when it is called. Takes poll_opaque. */
    void (*stopped)(void *opaque, const struct cpu_dbg_stop *why);
    bool start_paused;     /* -S: the CPU waits for a debugger or "cont" */
    /* -d dfilter= and window= (NULL: log everything); kept by pointer. */
    const struct log_filter *log_filter;
};

struct pc;

/* Builds the machine and loads its firmware or kernel. On failure returns
 * NULL with a one-line message (naming the file at fault) in err. */
struct pc *pc_new(const struct pc_config *cfg, char *err, size_t errlen);
void pc_free(struct pc *pc);

/*
 * Runs the machine until it ends. Returns the process exit status:
 * (v << 1) | 1 after the guest wrote v to the debug-exit port; 0 when the
 * CPU halted and nothing can wake it, or when it reset or triple-faulted
 * under -no-reboot (a message on stderr says which).
 */
int pc_run(struct pc *pc);

/* Runs at most `budget` instructions (for tests); returns why it stopped. */
enum cpu_exit pc_step(struct pc *pc, uint64_t budget);
/* True once the guest wrote to the debug-exit port; *status gets the exit
 * status it asked for. */
bool pc_exit_requested(const struct pc *pc, int *status);
/* RESET of the whole machine, as the reset button: CPU to its power-on
 * state, A20 on, the -kernel image loaded again (RAM is otherwise kept).
 * Returns 0, or -1 with a message in err if the kernel cannot be
 * reloaded. */
int pc_reset(struct pc *pc, char *err, size_t errlen);

/*
 * Run control, for the monitor and the gdbstub (called from the poll
 * callback). A paused machine runs no instruction and no timer (its
 * clock stands still), yet the board keeps calling wait_input and poll.
 */
void pc_pause(struct pc *pc);
void pc_resume(struct pc *pc);
bool pc_paused(const struct pc *pc);
/* While paused: exactly one instruction (cpu_exec_step's rules: an
 * exception or INT n stops at its handler, no interrupt is taken).
 * Returns what cpu_exec_step returned; a triple fault resets the machine
 * at the next turn of the loop, as the guest's own would. */
enum cpu_exit pc_debug_step(struct pc *pc);
/* The reset button (system_reset): the machine resets between slices
 * (under -no-reboot it stops, as for the guest's own reset). */
void pc_request_reset(struct pc *pc);
/* The ACPI power button (system_powerdown): PWRBTN_STS in the PIIX4's
 * PM1 status, and an SCI if the guest enabled it; the guest decides. */
void pc_power_button(struct pc *pc);
/* A key pressed or released on the PS/2 keyboard behind the 8042.
 * `usage` is the key's USB HID usage ID (Keyboard page 07h, "HID Usage
 * Tables" chapter 10: 04h is A, E0h left Ctrl...). */
void pc_key_event(struct pc *pc, unsigned usage, bool pressed);
/* The window's mouse: dx right, dy down, dz wheel clicks towards the
 * user, buttons PS2_BTN_* (hw/ps2.h), to the PS/2 mouse. */
void pc_mouse_event(struct pc *pc, int dx, int dy, int dz, unsigned buttons);

/* What the monitor's info commands print. */
enum pc_info { PC_INFO_PIC, PC_INFO_PIT, PC_INFO_PCI, PC_INFO_BLOCK };
void pc_print_info(struct pc *pc, enum pc_info what, FILE *out);

/* The display as XRGB8888 pixels: vga_render's contract (hw/vga.h):
 * returns 0 with the size, or -1 with the size needed when `pixels` is
 * NULL or too small. */
int pc_screen_render(struct pc *pc, uint32_t *pixels, int *width, int *height, int stride);
/* The text screen as ASCII lines (empty in a graphics mode). */
size_t pc_screen_text(struct pc *pc, char *buf, size_t len);

struct cpu *pc_cpu(struct pc *pc);
struct phys_mem *pc_phys(struct pc *pc);
struct io_space *pc_io(struct pc *pc);
uint8_t *pc_ram(struct pc *pc);
uint8_t pc_post_code(const struct pc *pc);
/* The display the window shows (hw/vga.h, hw/vga_render.h). */
struct vga *pc_vga(struct pc *pc);

/* ------------------------------------------------------------------ */
/* Debug console, port 0xE9 (hw/debugcon.c)                            */
/* ------------------------------------------------------------------ */

#define DEBUGCON_PORT 0xe9
/* What a read of the port returns (Bochs and QEMU: the port number), so
 * a guest can tell that the console exists. */
#define DEBUGCON_READBACK 0xe9

struct debugcon;
/* Bytes written to the port go to `out` at once (flushed per byte), or
 * with `gather` wait in `out`'s buffer until debugcon_flush; `out` NULL
 * discards them. `out` stays owned by the caller. */
struct debugcon *debugcon_new(struct io_space *io, uint16_t port, FILE *out, bool gather);
void debugcon_flush(struct debugcon *dc);
void debugcon_free(struct debugcon *dc);

/* ------------------------------------------------------------------ */
/* Debug exit, port 0xF4 (hw/debug_exit.c)                             */
/* ------------------------------------------------------------------ */

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PORTS 4 /* byte, word and dword writes all arrive whole */

struct debug_exit;
/* A write of v (1, 2 or 4 bytes) calls `on_exit(opaque, (v << 1) | 1)`. */
struct debug_exit *debug_exit_new(struct io_space *io, uint16_t port,
                                  void (*on_exit)(void *opaque, int status), void *opaque);
void debug_exit_free(struct debug_exit *de);

/* ------------------------------------------------------------------ */
/* POST code port 0x80 (hw/post.c)                                     */
/* ------------------------------------------------------------------ */

#define POST_PORT 0x80
/* Some test ROMs (test386.asm among them) write their codes to 0x190 as
 * well or instead; the board listens on both. */
#define POST_PORT_ALT 0x190

struct post;
/* `log` non-NULL: each code written is also printed there. */
struct post *post_new(struct io_space *io, uint16_t port, FILE *log);
/* Makes the same POST card listen on one more port. Returns 0 or -1. */
int post_add_port(struct post *p, struct io_space *io, uint16_t port);
void post_free(struct post *p);
uint8_t post_last(const struct post *p);

/* ------------------------------------------------------------------ */
/* Image files (hw/image_file.c)                                       */
/* ------------------------------------------------------------------ */

/* A whole host file in memory: page-aligned, zero-padded to a page. */
struct image_file {
    uint8_t *data;
    size_t size;
};

/* Reads `path` (at most `max` bytes). Returns 0, or -1 with the reason
 * in err (the caller names the file and the option). */
int image_file_read(const char *path, size_t max, struct image_file *img, char *err,
                    size_t errlen);
void image_file_free(struct image_file *img);

/* ------------------------------------------------------------------ */
/* Firmware image for -bios (hw/rom.c)                                 */
/* ------------------------------------------------------------------ */

#define ROM_SIZE_UNIT (64u << 10)
#define ROM_SIZE_MAX (256u << 10)
#define ROM_ISA_WINDOW (128u << 10) /* the part also seen below 1 MiB */

/* Reads a firmware image (a multiple of 64 KiB, at most 256 KiB) into
 * `rom` and maps it read-only ending at 4 GiB, and its last min(size,
 * 128 KiB) again ending at 1 MiB, as a PC's chipset decodes it. `rom`
 * must outlive the mapping (free it with image_file_free). Returns 0, or
 * -1 with a message in err. */
int rom_load(struct image_file *rom, struct phys_mem *pm, const char *path, char *err,
             size_t errlen);
/* Maps a firmware image already in memory the same way (read-only; the
 * memory must outlive the mapping). Returns 0, or -1 on a bad size. */
int rom_map(struct phys_mem *pm, const uint8_t *image, size_t size);

/* Glass's own BIOS (bios/), linked into the program (build/bios/bios_rom.c,
 * generated at build time). */
extern const unsigned char glass_bios_rom[];
extern const size_t glass_bios_rom_size;

/* ------------------------------------------------------------------ */
/* Multiboot v1 loader (hw/multiboot.c)                                */
/* ------------------------------------------------------------------ */

#define MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define MULTIBOOT_BOOT_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH 8192u

/* What the loader leaves for the CPU. */
struct multiboot_boot {
    uint32_t entry;     /* physical address to start at */
    uint32_t info_addr; /* physical address of the multiboot information */
    uint32_t load_start, load_end; /* the image's extent in RAM, bss included */
};

/*
 * Loads the multiboot kernel at `path` into `ram` (`ram_size` bytes mapped
 * from physical address 0) and builds the multiboot information (at 9000h
 * in conventional memory, or after the image if the image is there).
 * `append` is the command line after the kernel's file name (or NULL).
 * Returns 0, or -1 with a message naming the file in err; RAM may then
 * hold part of the image.
 */
int multiboot_load(uint8_t *ram, uint64_t ram_size, const char *path, const char *append,
                   struct multiboot_boot *boot, char *err, size_t errlen);
/* Puts the CPU in the machine state the multiboot spec (3.2) defines. */
void multiboot_enter(struct cpu *cpu, const struct multiboot_boot *boot);

#endif
