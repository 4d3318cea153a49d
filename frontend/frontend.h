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
#include <sys/types.h>

#include "cpu/cpu.h"
#include "hw/hw.h"

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
    struct log_filter log_filter; /* -d dfilter=, window=; -dfilter */
    bool log_filtered;       /* one of them was given */
    const char *monitor;     /* -monitor: "stdio", "none", tcp:HOST:PORT, unix:PATH */
    char monitor_buf[OPT_PATH_MAX]; /* its address without the ,server... flags */
    bool monitor_wait;       /* -monitor ...,server without nowait: wait for a client */
    const char *gdb;         /* -gdb tcp:HOST:PORT or -s; NULL: no gdbstub */
    bool start_paused;       /* -S */
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

/* A dfilter range: START..END (inclusive) or START+LENGTH, numbers in
 * C notation (0x... hex). Adds it to the filter. Returns 0, or -1 with
 * a message. */
int options_parse_range(const char *s, size_t len, struct log_filter *f, char *err,
                        size_t errlen);
/* -d window=FIRST..LAST: instruction counts (inclusive). */
int options_parse_window(const char *s, struct log_filter *f, char *err, size_t errlen);

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

/* ------------------------------------------------------------------ */
/* Monitor (frontend/monitor.c)                                        */
/* ------------------------------------------------------------------ */

struct monitor;

/* The longest command line (longer ones are refused whole). */
#define MONITOR_LINE_MAX 1024

struct monitor *monitor_new(struct pc *pc);
void monitor_free(struct monitor *m);

enum monitor_result { MONITOR_OK, MONITOR_QUIT };
/* Runs one command line; its answer (or why it was refused) goes to
 * `out`. MONITOR_QUIT after "quit". */
enum monitor_result monitor_execute(struct monitor *m, const char *line, FILE *out);
bool monitor_quit_requested(const struct monitor *m);
/* info registers' text. */
void monitor_print_registers(struct cpu *cpu, FILE *out);

/*
 * A monitor session over a byte stream (a terminal, a socket): bytes in,
 * lines run, answers and prompts out through `write`. `echo` repeats
 * what is typed (a terminal in raw mode shows nothing by itself).
 */
struct monitor_session;
struct monitor_session *monitor_session_new(struct monitor *mon,
                                            void (*write)(void *opaque, const void *buf,
                                                          size_t len),
                                            void *opaque, bool echo);
void monitor_session_free(struct monitor_session *s);
void monitor_session_input(struct monitor_session *s, const uint8_t *buf, size_t n);
void monitor_session_prompt(struct monitor_session *s);
/* A message that is no answer (a breakpoint hit while running). */
void monitor_session_print(struct monitor_session *s, const char *text);

/* QEMU's sendkey name of a key ("ctrl", "delete", "a", "f5", "kp_7"...)
 * as a USB HID usage ID, or -1 (frontend/keys.c). */
int key_usage(const char *name, size_t len);

/* screendump (frontend/screendump.c): the display as a PNG. Returns 0
 * with the picture's size, or -1 with a message. */
int screendump(struct pc *pc, const char *path, int *width, int *height, char *err,
               size_t errlen);
/* Writes XRGB8888 pixels (`width` per row) as an RGB PNG. */
int png_write_xrgb(const char *path, const uint32_t *pixels, int width, int height,
                   char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* gdbstub (frontend/gdbstub.c)                                        */
/* ------------------------------------------------------------------ */

/* The largest packet accepted (its data, between '$' and '#'); longer
 * ones are refused with '-'. Told to gdb as PacketSize. */
#define GDB_PACKET_MAX 16384

struct gdbstub;
/* A gdb connection's protocol: bytes received go to gdbstub_input,
 * replies come out through `write`; qRcmd runs on `mon` (may be NULL). */
struct gdbstub *gdbstub_new(struct pc *pc, struct monitor *mon,
                            void (*write)(void *opaque, const void *buf, size_t len),
                            void *opaque);
void gdbstub_free(struct gdbstub *g);
void gdbstub_input(struct gdbstub *g, const uint8_t *buf, size_t n);
/* The board stopped at a breakpoint or watchpoint: the stop reply, if
 * gdb is waiting for one. */
void gdbstub_stopped(struct gdbstub *g, const struct cpu_dbg_stop *why);
/* The machine ended with exit status `status` (W packet). */
void gdbstub_exited(struct gdbstub *g, int status);
/* gdb detached (D) or asked to kill (k): the session ends. */
bool gdbstub_detached(const struct gdbstub *g);
bool gdbstub_kill_requested(const struct gdbstub *g);

/* ------------------------------------------------------------------ */
/* Sockets (frontend/sockets.c)                                        */
/* ------------------------------------------------------------------ */

struct listener;
/* Listens on "tcp:HOST:PORT" (HOST empty: 127.0.0.1) or "unix:PATH".
 * Returns NULL with a message. */
struct listener *listener_open(const char *addr, char *err, size_t errlen);
int listener_fd(const struct listener *l);
/* A waiting connection's fd (non-blocking), or -1; `wait` blocks until
 * one comes. */
int listener_accept(struct listener *l, bool wait);
void listener_free(struct listener *l);
/* Reads what has arrived: > 0 bytes, 0 nothing yet, -1 closed or failed. */
ssize_t conn_read(int fd, void *buf, size_t len);
/* Writes it all, waiting a bounded time for a slow reader. 0 or -1. */
int conn_write_all(int fd, const void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Sessions (frontend/session.c): the board's poll/wait callbacks      */
/* ------------------------------------------------------------------ */

struct chardev;
struct sessions;
/* Opens the -monitor and -gdb sockets. `serial` are COM1/COM2's host
 * ends, `stdio` the one of them on the terminal (or NULL). */
struct sessions *sessions_new(const struct options *o, struct chardev *serial[2],
                              struct chardev *stdio, char *err, size_t errlen);
/* Once the machine exists: the monitor, and a client -monitor ...,server
 * waits for. */
int sessions_attach(struct sessions *s, struct pc *pc, char *err, size_t errlen);
/* The machine ended with `status`: gdb is told. */
void sessions_finish(struct sessions *s, int status);
void sessions_free(struct sessions *s);
/* struct pc_config's poll, wait_input and stopped; opaque is the
 * struct sessions. */
bool sessions_poll(void *opaque);
void sessions_wait(void *opaque, uint64_t max_ns);
void sessions_stopped(void *opaque, const struct cpu_dbg_stop *why);

#endif
