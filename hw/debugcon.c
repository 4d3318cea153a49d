/*
 * hw/debugcon.c — the Bochs/QEMU debug console: every byte written to port
 * 0xE9 goes to the host. To a terminal at once, byte by byte, so that it
 * interleaves with the serial console's output as the guest wrote them;
 * to a file gathered (the board flushes after every slice, before it
 * says anything on stderr, and at exit): a test suite that reports
 * megabytes through the port (test386's 3 MB of results) made one
 * write(2) a byte, 2 M system calls and 4.5 of its 5.3 s. Reads return
 * 0xE9, which is how a guest detects the console (Bochs "port E9 hack",
 * QEMU isa-debugcon).
 */
#include <stdlib.h>

#include "hw/hw.h"

struct debugcon {
    FILE *out;
    bool gather;
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
    if (!dc->gather)
        fflush(dc->out);
}

static const struct mem_ops debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
};

struct debugcon *debugcon_new(struct io_space *io, uint16_t port, FILE *out, bool gather)
{
    struct debugcon *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return NULL;
    dc->out = out;
    dc->gather = gather;
    if (io_register(io, port, 1, &debugcon_ops, dc) != 0) {
        free(dc);
        return NULL;
    }
    return dc;
}

void debugcon_flush(struct debugcon *dc)
{
    if (dc->out && dc->gather)
        fflush(dc->out);
}

void debugcon_free(struct debugcon *dc)
{
    free(dc);
}
