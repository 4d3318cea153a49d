/*
 * memory/ioport.c — the 64 Ki-port I/O space (SDM Vol. 1 ch. 18).
 *
 * A flat table gives every port its handler and the number of the
 * registration that claimed it, so a multi-byte access can tell whether
 * one handler owns all of its ports (then it gets the access whole, as a
 * 16/32-bit device register expects) or not (then it is split into byte
 * accesses, as the PC's bus does for an 8-bit device). Bytes past port
 * 0xFFFF belong to nothing: they read as ones and writes to them vanish.
 */
#include <stdlib.h>

#include "memory/memory.h"

#define IO_PORTS 0x10000u

struct io_port {
    const struct mem_ops *ops; /* NULL: unclaimed */
    void *opaque;
    uint32_t owner; /* registration number, 0 when unclaimed */
};

struct io_space {
    struct io_port port[IO_PORTS];
    uint32_t registrations;
    void (*trace)(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size);
    void *trace_opaque;
    uint64_t accesses;
    void (*before)(void *opaque);
    void *before_opaque;
};

struct io_space *io_new(void)
{
    return calloc(1, sizeof(struct io_space));
}

void io_free(struct io_space *io)
{
    free(io);
}

int io_register(struct io_space *io, uint16_t base, unsigned count,
                const struct mem_ops *ops, void *opaque)
{
    if (!io || !ops || count == 0 || count > IO_PORTS - base)
        return -1;
    uint32_t owner = ++io->registrations;
    for (unsigned i = 0; i < count; i++)
        io->port[base + i] = (struct io_port){ ops, opaque, owner };
    return 0;
}

int io_unregister(struct io_space *io, uint16_t base, unsigned count)
{
    if (!io || count == 0 || count > IO_PORTS - base)
        return -1;
    for (unsigned i = 0; i < count; i++)
        io->port[base + i] = (struct io_port){ NULL, NULL, 0 };
    return 0;
}

static inline uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* True when ports [port, port+size) exist and one registration owns them all. */
static bool single_owner(const struct io_space *io, uint32_t port, unsigned size)
{
    if (port + size > IO_PORTS)
        return false;
    uint32_t owner = io->port[port].owner;
    for (unsigned i = 1; i < size; i++)
        if (io->port[port + i].owner != owner)
            return false;
    return true;
}

static uint32_t read_whole(const struct io_space *io, uint32_t port, unsigned size)
{
    if (port >= IO_PORTS)
        return ones(size);
    const struct io_port *p = &io->port[port];
    if (!p->ops || !p->ops->read)
        return ones(size);
    return (uint32_t)p->ops->read(p->opaque, port, size) & ones(size);
}

static void write_whole(const struct io_space *io, uint32_t port, uint32_t val, unsigned size)
{
    if (port >= IO_PORTS)
        return;
    const struct io_port *p = &io->port[port];
    if (p->ops && p->ops->write)
        p->ops->write(p->opaque, port, val & ones(size), size);
}

static inline bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

uint64_t io_accesses(const struct io_space *io)
{
    return io->accesses;
}

void io_set_before_access(struct io_space *io, void (*fn)(void *opaque), void *opaque)
{
    io->before = fn;
    io->before_opaque = opaque;
}

uint32_t io_read(struct io_space *io, uint16_t port, unsigned size)
{
    if (!size_ok(size))
        return 0;
    io->accesses++;
    if (io->before)
        io->before(io->before_opaque);
    uint32_t val;
    if (single_owner(io, port, size)) {
        val = read_whole(io, port, size);
    } else {
        val = 0;
        for (unsigned i = 0; i < size; i++)
            val |= read_whole(io, (uint32_t)port + i, 1) << (8 * i);
    }
    if (io->trace)
        io->trace(io->trace_opaque, false, port, val, size);
    return val;
}

/* The port's handler when a run of accesses may go to it in one call
 * (the before-access hook run), or NULL. */
static const struct io_port *rep_port(struct io_space *io, uint16_t port, unsigned size,
                                      bool write)
{
    if (!size_ok(size) || io->trace || !single_owner(io, port, size))
        return NULL;
    const struct io_port *p = &io->port[port];
    if (!p->ops || !(write ? p->ops->write_rep != NULL : p->ops->read_rep != NULL))
        return NULL;
    if (io->before)
        io->before(io->before_opaque);
    return p;
}

size_t io_read_rep(struct io_space *io, uint16_t port, unsigned size, uint8_t *dst, size_t count)
{
    const struct io_port *p = rep_port(io, port, size, false);
    if (!p)
        return 0;
    size_t n = p->ops->read_rep(p->opaque, port, size, dst, count);
    io->accesses += n;
    return n;
}

size_t io_write_rep(struct io_space *io, uint16_t port, unsigned size, const uint8_t *src,
                    size_t count)
{
    const struct io_port *p = rep_port(io, port, size, true);
    if (!p)
        return 0;
    size_t n = p->ops->write_rep(p->opaque, port, size, src, count);
    io->accesses += n;
    return n;
}

void io_write(struct io_space *io, uint16_t port, uint32_t val, unsigned size)
{
    if (!size_ok(size))
        return;
    io->accesses++;
    if (io->before)
        io->before(io->before_opaque);
    if (io->trace)
        io->trace(io->trace_opaque, true, port, val & ones(size), size);
    if (single_owner(io, port, size)) {
        write_whole(io, port, val, size);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        write_whole(io, (uint32_t)port + i, val >> (8 * i), 1);
}

void io_set_trace(struct io_space *io,
                  void (*fn)(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size),
                  void *opaque)
{
    io->trace = fn;
    io->trace_opaque = opaque;
}
