/*
 * hw/debugcon.c — the Bochs/QEMU debug console: every byte written to port
 * 0xE9 goes to the host at once, so that a guest's last words before a
 * crash are never lost in a buffer. Reads return 0xE9, which is how a
 * guest detects the console (Bochs "port E9 hack", QEMU isa-debugcon).
 */
#include <stdlib.h>

#include "hw/hw.h"

struct debugcon {
    FILE *out;
};

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)size;
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct debugcon *dc = opaque;
    (void)addr;
    (void)size;
    if (!dc->out)
        return;
    /* Only the low byte is a character; the port is one byte wide, so
     * wider writes reach it already split by the I/O space. */
    fputc((int)(val & 0xff), dc->out);
    fflush(dc->out);
}

static const struct mem_ops debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
};

struct debugcon *debugcon_new(struct io_space *io, uint16_t port, FILE *out)
{
    struct debugcon *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return NULL;
    dc->out = out;
    if (io_register(io, port, 1, &debugcon_ops, dc) != 0) {
        free(dc);
        return NULL;
    }
    return dc;
}

void debugcon_free(struct debugcon *dc)
{
    free(dc);
}
