/*
 * hw/port92.c — PS/2 System Control Port A at 0x92 (IBM PS/2 Hardware
 * Interface Technical Reference, "System control port A"; the same port
 * in every PC chipset since): bit 1 is a fast A20 gate, bit 0 a fast CPU
 * reset on its 0 -> 1 transition. Bit 0 stays set after the reset and
 * reads back; the others are latched as written (bit 3, the CMOS
 * password lock, is only latched).
 */
#include <stdlib.h>

#include "hw/i8042.h"

struct port92 {
    struct sysctl_callbacks cb;
    uint8_t val;
};

static const struct dev_field port92_fields[] = {
    { "val", DEV_FIELD_U8, offsetof(struct port92, val), 1 },
    { NULL, 0, 0, 0 },
};
const struct dev_state_desc port92_state_desc = { "port92", 1, port92_fields };

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    struct port92 *p = opaque;
    (void)addr;
    (void)size;
    return p->val;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct port92 *p = opaque;
    uint8_t old = p->val;
    (void)addr;
    (void)size;
    p->val = (uint8_t)val;
    if (((old ^ p->val) & PORT92_A20) && p->cb.a20)
        p->cb.a20(p->cb.opaque, (p->val & PORT92_A20) != 0);
    if (!(old & PORT92_RESET) && (p->val & PORT92_RESET) && p->cb.reset)
        p->cb.reset(p->cb.opaque);
}

static const struct mem_ops port92_ops = { .read = port92_read, .write = port92_write };

struct port92 *port92_new(struct io_space *io, const struct sysctl_callbacks *cb)
{
    struct port92 *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (cb)
        p->cb = *cb;
    if (io_register(io, PORT92, 1, &port92_ops, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void port92_free(struct port92 *p)
{
    free(p);
}

/* System reset clears the port (A20 via this port off, reset bit 0); the
 * board sets its own A20 state at reset. */
void port92_reset(struct port92 *p)
{
    p->val = 0;
}

bool port92_a20(const struct port92 *p)
{
    return p->val & PORT92_A20;
}
