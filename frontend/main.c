/*
 * frontend/main.c — the glass program: parse the command line, open the
 * log and the debug console, build the board and run it. The exit status
 * is the board's (see pc_run), or 1 for any error before the guest runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "hw/hw.h"

/* Opens -debugcon's output. stdout is made unbuffered-by-flush by the
 * device itself; a file is truncated as QEMU's file: backend does. */
static FILE *open_debugcon(const struct options *o)
{
    switch (o->debugcon) {
    case DEBUGCON_STDIO: return stdout;
    case DEBUGCON_FILE: return fopen(o->debugcon_path, "wb");
    case DEBUGCON_NULL: break;
    }
    return NULL;
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

    /* Parsed, but the devices behind them are not on the board yet. */
    for (unsigned i = 0; i < OPT_DRIVE_MAX; i++)
        if (o.drive[i].file) {
            fprintf(stderr, "glass: %s: IDE drives are not on the board yet\n", o.drive[i].file);
            return 1;
        }
    if (o.initrd) {
        fprintf(stderr, "glass: -initrd %s: Linux boot is not on the board yet\n", o.initrd);
        return 1;
    }
    if (o.serial_count) {
        fprintf(stderr, "glass: -serial: serial ports are not on the board yet\n");
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
    if ((o.log_mask & LOG_EXEC) && !(trace = trace_new(log))) {
        fprintf(stderr, "glass: -d exec: cannot open the Capstone disassembler\n");
        return 1;
    }

    const struct pc_config cfg = {
        .ram_size = o.ram_size,
        .kernel = o.kernel,
        .append = o.append,
        .bios = o.bios,
        .debugcon = debugcon,
        .no_reboot = o.no_reboot,
        .log_mask = o.log_mask,
        .log = log,
        .trace_insn = trace ? trace_insn : NULL,
        .trace_opaque = trace,
    };
    struct pc *pc = pc_new(&cfg, err, sizeof(err));
    if (!pc) {
        fprintf(stderr, "glass: %s\n", err);
        return 1;
    }
    int status = pc_run(pc);
    pc_free(pc);
    trace_free(trace);
    if (debugcon && debugcon != stdout)
        fclose(debugcon);
    if (log != stderr)
        fclose(log);
    fflush(stdout);
    return status;
}
