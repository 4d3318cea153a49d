/*
 * hw/debug_exit.c — QEMU's isa-debug-exit, as test kernels use it: a write
 * of value v ends the emulator with exit status (v << 1) | 1, so that no
 * status a guest can ask for is 0 and "the guest exited" is told apart
 * from "the emulator stopped for another reason". The port range is 4
 * bytes wide (iosize=4) so that OUT DX, AX and OUT DX, EAX arrive whole.
 *
 * The device only reports the request; the board stops the CPU after the
 * OUT instruction completes and flushes the outputs.
 */
#include <stdlib.h>

#include "hw/hw.h"

struct debug_exit {
    void (*on_exit)(void *opaque, int status);
    void *opaque;
};

static uint64_t debug_exit_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    /* Nothing drives the bus on a read: all ones, as an empty port. */
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct debug_exit *de = opaque;
    (void)addr;
    (void)size;
    /* The status is an int as exit() takes it; the host keeps its low
     * 8 bits, as with QEMU. */
    de->on_exit(de->opaque, (int)(((uint32_t)val << 1) | 1u));
}

static const struct mem_ops debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
};

struct debug_exit *debug_exit_new(struct io_space *io, uint16_t port,
                                  void (*on_exit)(void *opaque, int status), void *opaque)
{
    struct debug_exit *de = calloc(1, sizeof(*de));
    if (!de)
        return NULL;
    de->on_exit = on_exit;
    de->opaque = opaque;
    if (io_register(io, port, DEBUG_EXIT_PORTS, &debug_exit_ops, de) != 0) {
        free(de);
        return NULL;
    }
    return de;
}

void debug_exit_free(struct debug_exit *de)
{
    free(de);
}
