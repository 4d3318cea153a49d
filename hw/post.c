/*
 * hw/post.c — port 0x80 (and 0x190), where PC firmware writes its POST (power-on
 * self-test) progress codes for a diagnostic card to display. Glass keeps
 * the last code (so a hung boot can be diagnosed) and prints each one to
 * the log with -d ioport. Reads return all ones: the card only listens.
 */
#include <stdlib.h>

#include "hw/hw.h"

struct post {
    FILE *log;
    uint8_t last;
};

static uint64_t post_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)size;
    return 0xff;
}

static void post_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct post *p = opaque;
    (void)size;
    p->last = (uint8_t)val;
    if (p->log)
        fprintf(p->log, "glass: POST code %02x (port %03llx)\n", p->last, (unsigned long long)addr);
}

static const struct mem_ops post_ops = {
    .read = post_read,
    .write = post_write,
};

struct post *post_new(struct io_space *io, uint16_t port, FILE *log)
{
    struct post *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->log = log;
    if (io_register(io, port, 1, &post_ops, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

int post_add_port(struct post *p, struct io_space *io, uint16_t port)
{
    return io_register(io, port, 1, &post_ops, p);
}

void post_free(struct post *p)
{
    free(p);
}

uint8_t post_last(const struct post *p)
{
    return p->last;
}
