/*
 * frontend/ — the glass program: command-line options, the log and the
 * instruction trace. frontend/main.c ties them to the board (hw/hw.h).
 */
#ifndef GLASS_FRONTEND_H
#define GLASS_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

/* ------------------------------------------------------------------ */
/* Options (frontend/options.c)                                        */
/* ------------------------------------------------------------------ */

enum debugcon_kind { DEBUGCON_STDIO, DEBUGCON_FILE, DEBUGCON_NULL };

/* A host end of a serial port (-serial). */
enum serial_kind { SERIAL_DEFAULT, SERIAL_STDIO, SERIAL_FILE, SERIAL_NULL, SERIAL_NONE };
struct serial_opt {
    enum serial_kind kind;
    const char *path; /* SERIAL_FILE */
};
#define OPT_SERIAL_MAX 2 /* COM1, COM2 */

/* An IDE drive (-hda/-hdb/-hdc/-hdd, -cdrom, -drive): index 0-3 is
 * primary master, primary slave, secondary master, secondary slave. */
#define OPT_PATH_MAX 4096
struct drive_opt {
    const char *file; /* NULL: no drive at this index */
    char file_buf[OPT_PATH_MAX]; /* -drive's file= value (file points here) */
    bool cdrom;
    bool readonly;
};
#define OPT_DRIVE_MAX 4

/* -tb-size's upper bound (MiB): the cache and its block records stay a
 * small part of the host's memory. */
#define TB_SIZE_MAX_MB 512u

/* -display: the window (frontend/display_sdl.c) or none. DISPLAY_DEFAULT
 * is SDL when a display server is there (options_display). */
enum display_kind { DISPLAY_DEFAULT, DISPLAY_NONE, DISPLAY_SDL };

struct options {
    uint64_t ram_size;       /* bytes */
    const char *kernel;
    const char *append;
    const char *initrd;
    const char *bios;
    struct serial_opt serial[OPT_SERIAL_MAX];
    unsigned serial_count;   /* -serial options seen */
    bool serial_line_timing; /* -serial-timing line */
    struct drive_opt drive[OPT_DRIVE_MAX];
    char boot_order[8];      /* -boot: drive letters in order, e.g. "cd" */
    enum debugcon_kind debugcon;
    const char *debugcon_path; /* DEBUGCON_FILE */
    bool nographic;
    enum display_kind display; /* -display */
    bool no_reboot;
    unsigned log_mask;       /* LOG_* of cpu.h and hw.h */
    const char *log_file;    /* -D, or NULL for stderr */
    int engine;              /* -accel: enum cpu_engine, -1 for the default */
    unsigned tb_size_mb;     /* -tb-size, 0 for the default */
    bool singlestep;         /* -singlestep */
    bool lockstep;           /* -accel jit,lockstep */
};

enum options_result {
    OPTIONS_RUN,   /* run the machine */
    OPTIONS_EXIT,  /* --help, --version or -d help was printed: exit 0 */
    OPTIONS_ERROR, /* err holds the message: exit 1 */
};

/* Parses the command line (argv[0] is the program). Help texts go to
 * `out`. Arguments are kept by pointer, not copied. */
enum options_result options_parse(struct options *o, int argc, char *const argv[], FILE *out,
                                  char *err, size_t errlen);

/* -m's argument: a number of MiB, or with a K, M or G suffix. Returns 0
 * and the size in bytes, or -1 if it is not a size. Range checks are the
 * caller's. */
int options_parse_size(const char *s, uint64_t *bytes);

/* The display to open: -display's, or without one, SDL if Glass has it,
 * -nographic is not given and $DISPLAY or $WAYLAND_DISPLAY names a
 * server, else none. */
enum display_kind options_display(const struct options *o);

/* -d's argument: names separated by commas. Returns 0, or -1 with the
 * unknown name in err. */
int options_parse_log(const char *list, unsigned *mask, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Instruction trace, -d exec (frontend/trace.c)                       */
/* ------------------------------------------------------------------ */

struct trace;

/* Disassembles to `log`. Returns NULL if Capstone cannot be opened. */
struct trace *trace_new(FILE *log);
void trace_free(struct trace *t);
/* The struct cpu trace_insn callback; opaque is the struct trace. Writes
 * "CS:EIP  bytes  mnemonic operands". */
void trace_insn(void *opaque, struct cpu *cpu, const uint8_t *bytes, unsigned len);
/* The struct cpu trace_code callback: a heading, then each instruction
 * of `bytes` as "address  mnemonic operands" (-d in_asm, out_asm). */
void trace_code(void *opaque, const char *heading, uint64_t addr, const uint8_t *bytes,
                size_t len, unsigned bits);

#endif
