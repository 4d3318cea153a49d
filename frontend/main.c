/*
 * frontend/main.c — the glass program: parse the command line, open the
 * log and the debug console, build the board and run it. The exit status
 * is the board's (see pc_run), or 1 for any error before the guest runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/chardev.h"
#include "frontend/display.h"
#include "frontend/frontend.h"
#include "hw/hw.h"
#include "translate/translate.h"

/* Opens -debugcon's output. stdout is made unbuffered-by-flush by the
 * device itself; a file is truncated as QEMU's file: backend does, and
 * written after each slice (hw/debugcon.c). */
static FILE *open_debugcon(const struct options *o)
{
    switch (o->debugcon) {
    case DEBUGCON_STDIO: return stdout;
    case DEBUGCON_FILE: return fopen(o->debugcon_path, "wb");
    case DEBUGCON_NULL: break;
    }
    return NULL;
}

/* The host ends of the serial ports. Without -serial, COM1 is the
 * terminal, window or not (the window has no text console of its own;
 * QEMU does the same with -nographic). Returns -1 with a message on a
 * bad backend. */
static int open_serial(const struct options *o, struct chardev *chr[2])
{
    chr[0] = chr[1] = NULL;
    if (o->serial_count == 0) {
        chr[0] = chardev_new_stdio();
        return chr[0] ? 0 : -1;
    }
    for (unsigned i = 0; i < o->serial_count; i++) {
        const struct serial_opt *s = &o->serial[i];
        switch (s->kind) {
        case SERIAL_STDIO: chr[i] = chardev_new_stdio(); break;
        case SERIAL_FILE: chr[i] = chardev_new_file(s->path); break;
        case SERIAL_NULL: chr[i] = chardev_new_null(); break;
        case SERIAL_NONE:
        case SERIAL_DEFAULT: continue;
        }
        if (!chr[i]) {
            fprintf(stderr, "glass: -serial %s%s: %s\n", s->kind == SERIAL_FILE ? "file:" : "",
                    s->kind == SERIAL_FILE ? s->path : "stdio", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* What the board's poll serves between CPU slices: the sessions
 * (serial input, the monitor, gdb) and the window. */
struct host_io {
    struct sessions *sessions;
    struct display *display; /* the window, or NULL */
};

/* The sessions' poll, then the window's frame when one is due; false
 * once the user quit (Ctrl-A x, the monitor) or closed the window. */
static bool poll_host(void *opaque)
{
    struct host_io *h = opaque;
    if (!sessions_poll(h->sessions))
        return false;
    return !h->display || display_poll(h->display);
}

static void wait_host(void *opaque, uint64_t max_ns)
{
    sessions_wait(((struct host_io *)opaque)->sessions, max_ns);
}

static void stopped_host(void *opaque, const struct cpu_dbg_stop *why)
{
    sessions_stopped(((struct host_io *)opaque)->sessions, why);
}

int main(int argc, char **argv)
{
    struct options o;
    char err[HW_ERR_MAX];
    switch (options_parse(&o, argc, argv, stdout, err, sizeof(err))) {
    case OPTIONS_RUN: break;
    case OPTIONS_EXIT: return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "glass: %s\n", err);
        return 1;
    }

    FILE *log = stderr;
    if (o.log_file && !(log = fopen(o.log_file, "w"))) {
        fprintf(stderr, "glass: -D %s: %s\n", o.log_file, strerror(errno));
        return 1;
    }
    FILE *debugcon = open_debugcon(&o);
    if (o.debugcon == DEBUGCON_FILE && !debugcon) {
        fprintf(stderr, "glass: -debugcon file:%s: %s\n", o.debugcon_path, strerror(errno));
        return 1;
    }
    struct trace *trace = NULL;
    if ((o.log_mask & (LOG_EXEC | LOG_IN_ASM | LOG_OUT_ASM)) && !(trace = trace_new(log))) {
        fprintf(stderr, "glass: -d: cannot open the Capstone disassembler\n");
        return 1;
    }

    struct chardev *serial[2];
    if (open_serial(&o, serial) != 0)
        return 1;
    /* The serial port on the terminal, if any: the monitor shares it. */
    struct chardev *stdio = NULL;
    for (unsigned i = 0; i < 2; i++)
        if (serial[i] && (o.serial_count == 0 || o.serial[i].kind == SERIAL_STDIO))
            stdio = serial[i];
    struct sessions *sessions = sessions_new(&o, serial, stdio, err, sizeof(err));
    if (!sessions) {
        fprintf(stderr, "glass: %s\n", err);
        for (int i = 0; i < 2; i++)
            if (serial[i])
                chardev_free(serial[i]);
        return 1;
    }
    struct host_io host = { .sessions = sessions };

    struct pc_config cfg = {
        .ram_size = o.ram_size,
        .kernel = o.kernel,
        .append = o.append,
        .bios = o.bios,
        .debugcon = debugcon,
        .debugcon_gather = o.debugcon == DEBUGCON_FILE,
        .no_reboot = o.no_reboot,
        .log_mask = o.log_mask,
        .log = log,
        .trace_insn = trace ? trace_insn : NULL,
        .trace_code = trace ? trace_code : NULL,
        .trace_opaque = trace,
        .initrd = o.initrd,
        .serial = { serial[0], serial[1] },
        .serial_line_timing = o.serial_line_timing,
        .boot_order = o.boot_order[0] ? o.boot_order : NULL,
        .engine = o.engine >= 0 ? o.engine
                  : cpu_exec_jit_available() ? CPU_ENGINE_JIT : CPU_ENGINE_INTERP,
        .jit_code_size = (size_t)o.tb_size_mb << 20,
        .jit_first_sight = true,
        .singlestep = o.singlestep,
        .lockstep = o.lockstep,
        .poll = poll_host,
        .wait_input = wait_host,
        .stopped = stopped_host,
        .poll_opaque = &host,
        .start_paused = o.start_paused,
        .log_filter = o.log_filtered ? &o.log_filter : NULL,
    };
    for (int i = 0; i < OPT_DRIVE_MAX && i < 4; i++)
        cfg.drive[i] = (struct pc_drive){ .file = o.drive[i].file, .cdrom = o.drive[i].cdrom,
                                          .readonly = o.drive[i].readonly };
    struct pc *pc = pc_new(&cfg, err, sizeof(err));
    if (!pc || sessions_attach(sessions, pc, err, sizeof(err)) != 0) {
        fprintf(stderr, "glass: %s\n", err);
        sessions_free(sessions);
        pc_free(pc);
        for (int i = 0; i < 2; i++)
            if (serial[i])
                chardev_free(serial[i]);
        return 1;
    }
    /* The window, once the machine it shows exists. */
    if (options_display(&o) == DISPLAY_SDL && !(host.display = display_sdl_new(pc, err,
                                                                                sizeof(err)))) {
        fprintf(stderr, "glass: %s\n", err);
        sessions_free(sessions);
        pc_free(pc);
        for (int i = 0; i < 2; i++)
            if (serial[i])
                chardev_free(serial[i]);
        return 1;
    }
    int status = pc_run(pc);
    display_free(host.display);
    sessions_finish(sessions, status);
    sessions_free(sessions);
    pc_free(pc);
    for (int i = 0; i < 2; i++)
        if (serial[i])
            chardev_free(serial[i]);
    trace_free(trace);
    if (debugcon && debugcon != stdout)
        fclose(debugcon);
    if (log != stderr)
        fclose(log);
    fflush(stdout);
    return status;
}
