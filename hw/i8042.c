/*
 * hw/i8042.c — the keyboard controller of the PC/AT and PS/2 (Intel 8042
 * running IBM's firmware; IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard/auxiliary device controller").
 *
 * The controller has one output buffer shared by three sources: its own
 * command responses, the keyboard and the auxiliary device. It fills the
 * buffer from them in that order of priority whenever the guest has
 * emptied it, and only from a device whose clock the command byte leaves
 * enabled (a disabled device keeps its bytes, as the real one waits for
 * the clock line). Keyboard bytes pass through the set 2 -> set 1
 * translation when XLAT is on. IRQ 1 / IRQ 12 follow "output buffer full
 * with keyboard / aux data" gated by the command byte's INT / INT2.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/i8042.h"

/* Input port as our board wires it: bit 7 keyboard not inhibited, bit 5
 * no manufacturing jumper, bit 4 256 KiB+ on the system board. */
#define I8042_INPORT 0xb0
/* Self-test and interface-test answers. */
#define I8042_SELFTEST_OK 0x55
#define I8042_IFTEST_OK 0x00
#define I8042_CQ_SIZE 4

struct i8042 {
    struct irq_line irq_kbd, irq_aux;
    struct sysctl_callbacks cb;
    struct ps2_kbd *kbd;
    struct ps2_mouse *mouse;

    uint8_t status;
    uint8_t ram[32];        /* controller RAM; byte 0 is the command byte */
    uint8_t outport;
    uint8_t obuf;
    uint8_t pending;        /* command waiting for its data byte, or 0 */
    uint8_t cq[I8042_CQ_SIZE]; /* controller responses waiting for the buffer */
    uint8_t cq_aux;         /* bit i: cq[i] is auxiliary data (D3) */
    uint8_t cq_count;
    bool xlat_f0;           /* translating: an F0 prefix was swallowed */
    bool irq_kbd_level, irq_aux_level;
    bool filling;
};

#define CF(name, type, member, count) { name, type, offsetof(struct i8042, member), count }
static const struct dev_field i8042_fields[] = {
    CF("status", DEV_FIELD_U8, status, 1),
    CF("ram", DEV_FIELD_BYTES, ram, 32),
    CF("outport", DEV_FIELD_U8, outport, 1),
    CF("obuf", DEV_FIELD_U8, obuf, 1),
    CF("pending", DEV_FIELD_U8, pending, 1),
    CF("cq", DEV_FIELD_BYTES, cq, I8042_CQ_SIZE),
    CF("cq_aux", DEV_FIELD_U8, cq_aux, 1),
    CF("cq_count", DEV_FIELD_U8, cq_count, 1),
    CF("xlat_f0", DEV_FIELD_BOOL, xlat_f0, 1),
    CF("irq_kbd_level", DEV_FIELD_BOOL, irq_kbd_level, 1),
    CF("irq_aux_level", DEV_FIELD_BOOL, irq_aux_level, 1),
    { NULL, 0, 0, 0 },
};
#undef CF
const struct dev_state_desc i8042_state_desc = { "i8042", 1, i8042_fields };

static uint8_t cmdbyte(const struct i8042 *c)
{
    return c->ram[0];
}

static void update_irqs(struct i8042 *c)
{
    bool full = c->status & I8042_STR_OBF;
    bool aux = c->status & I8042_STR_AUXB;
    bool k = full && !aux && (cmdbyte(c) & I8042_CMD_INT);
    bool a = full && aux && (cmdbyte(c) & I8042_CMD_INT2);
    if (k != c->irq_kbd_level) {
        c->irq_kbd_level = k;
        irq_set(&c->irq_kbd, k);
    }
    if (a != c->irq_aux_level) {
        c->irq_aux_level = a;
        irq_set(&c->irq_aux, a);
    }
}

static void fill_obuf(struct i8042 *c, uint8_t v, bool aux)
{
    c->obuf = v;
    c->status |= I8042_STR_OBF;
    if (aux)
        c->status |= I8042_STR_AUXB;
    else
        c->status &= (uint8_t)~I8042_STR_AUXB;
}

/* Moves the next byte into an empty output buffer. */
static void refill(struct i8042 *c)
{
    if (c->filling)
        return;
    c->filling = true;
    while (!(c->status & I8042_STR_OBF)) {
        if (c->cq_count) {
            bool aux = c->cq_aux & 1;
            uint8_t v = c->cq[0];
            memmove(c->cq, c->cq + 1, I8042_CQ_SIZE - 1);
            c->cq_aux >>= 1;
            c->cq_count--;
            fill_obuf(c, v, aux);
        } else if (!(cmdbyte(c) & I8042_CMD_DIS) && ps2_kbd_has_data(c->kbd)) {
            uint8_t v = ps2_kbd_read(c->kbd);
            if (cmdbyte(c) & I8042_CMD_XLAT) {
                if (v == 0xf0) { /* break prefix: sets bit 7 of the next code */
                    c->xlat_f0 = true;
                    continue;
                }
                v = (uint8_t)(ps2_xlat_set2_to_set1(v) | (c->xlat_f0 ? 0x80 : 0));
                c->xlat_f0 = false;
            }
            fill_obuf(c, v, false);
        } else if (!(cmdbyte(c) & I8042_CMD_DIS2) && ps2_mouse_has_data(c->mouse)) {
            fill_obuf(c, ps2_mouse_read(c->mouse), true);
        } else {
            break;
        }
    }
    c->filling = false;
    update_irqs(c);
}

static void notify(void *opaque)
{
    refill(opaque);
}

/* A byte of the controller's own for the output buffer. */
static void respond(struct i8042 *c, uint8_t v, bool aux)
{
    if (c->cq_count >= I8042_CQ_SIZE)
        return;
    c->cq[c->cq_count] = v;
    if (aux)
        c->cq_aux |= (uint8_t)(1u << c->cq_count);
    else
        c->cq_aux &= (uint8_t)~(1u << c->cq_count);
    c->cq_count++;
    refill(c);
}

static void set_cmdbyte(struct i8042 *c, uint8_t v)
{
    c->ram[0] = v;
    if (v & I8042_CMD_SYS)
        c->status |= I8042_STR_SYS;
    else
        c->status &= (uint8_t)~I8042_STR_SYS;
    refill(c); /* an enabled clock may deliver; INT bits may change the lines */
}

static void write_outport(struct i8042 *c, uint8_t v)
{
    uint8_t old = c->outport;
    /* Bits 4 and 5 are the firmware's IRQ outputs, not latched from here. */
    c->outport = (uint8_t)((v & ~0x30) | (old & 0x30));
    if (((old ^ v) & I8042_OUT_A20) && c->cb.a20)
        c->cb.a20(c->cb.opaque, (v & I8042_OUT_A20) != 0);
    if (!(v & I8042_OUT_RESET)) {
        /* The reset line goes low: the CPU resets; the line comes back
         * high with the controller's next power-on state. */
        c->outport |= I8042_OUT_RESET;
        if (c->cb.reset)
            c->cb.reset(c->cb.opaque);
    }
}

static void command(struct i8042 *c, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd <= 0x3f) { /* read controller RAM */
        respond(c, c->ram[cmd & 0x1f], false);
        return;
    }
    if (cmd >= 0x60 && cmd <= 0x7f) { /* write controller RAM: data follows */
        c->pending = cmd;
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse output port bits 0-3 low for 6 us where the command's bit
         * is 0: only the reset line (bit 0) has an effect worth a pulse. */
        if (!(cmd & 0x01) && c->cb.reset)
            c->cb.reset(c->cb.opaque);
        return;
    }
    switch (cmd) {
    case 0xa4: /* test password installed: none */
        respond(c, 0xf1, false);
        break;
    case 0xa5: /* load password: bytes up to a 0 follow */
        c->pending = cmd;
        break;
    case 0xa7: /* disable auxiliary device */
        set_cmdbyte(c, cmdbyte(c) | I8042_CMD_DIS2);
        break;
    case 0xa8: /* enable auxiliary device */
        set_cmdbyte(c, cmdbyte(c) & (uint8_t)~I8042_CMD_DIS2);
        break;
    case 0xa9: /* auxiliary interface test */
    case 0xab: /* keyboard interface test */
        respond(c, I8042_IFTEST_OK, false);
        break;
    case 0xaa: /* self test; a passing test sets the system flag */
        c->status |= I8042_STR_SYS;
        respond(c, I8042_SELFTEST_OK, false);
        break;
    case 0xad: /* disable keyboard */
        set_cmdbyte(c, cmdbyte(c) | I8042_CMD_DIS);
        break;
    case 0xae: /* enable keyboard */
        set_cmdbyte(c, cmdbyte(c) & (uint8_t)~I8042_CMD_DIS);
        break;
    case 0xc0: /* read input port */
        respond(c, I8042_INPORT, false);
        break;
    case 0xc1: /* poll input port low nibble into status bits 7-4 */
        c->status = (uint8_t)((c->status & 0x0f) | (I8042_INPORT & 0x0f) << 4);
        break;
    case 0xc2: /* poll input port high nibble into status bits 7-4 */
        c->status = (uint8_t)((c->status & 0x0f) | (I8042_INPORT & 0xf0));
        break;
    case 0xd0: { /* read output port; bits 4/5 show the IRQ outputs */
        uint8_t v = (uint8_t)((c->outport & 0xcf) | (c->irq_kbd_level ? 0x10 : 0) |
                              (c->irq_aux_level ? 0x20 : 0));
        respond(c, v, false);
        break;
    }
    case 0xd1: /* write output port */
    case 0xd2: /* write keyboard output buffer */
    case 0xd3: /* write auxiliary output buffer */
    case 0xd4: /* write to auxiliary device */
        c->pending = cmd;
        break;
    case 0xdd: /* A20 off (the HP Vectra's shortcut, common since) */
        write_outport(c, c->outport & (uint8_t)~I8042_OUT_A20);
        break;
    case 0xdf: /* A20 on */
        write_outport(c, c->outport | I8042_OUT_A20);
        break;
    case 0xe0: /* read test inputs: keyboard clock/data lines low */
        respond(c, 0x00, false);
        break;
    default:
        break; /* A6, AC, ... : nothing the board has */
    }
}

static void data_write(struct i8042 *c, uint8_t v)
{
    uint8_t p = c->pending;
    c->pending = 0;
    if (p >= 0x60 && p <= 0x7f) {
        if (p == 0x60)
            set_cmdbyte(c, v);
        else
            c->ram[p & 0x1f] = v;
        return;
    }
    switch (p) {
    case 0xa5:
        if (v != 0)
            c->pending = p; /* password bytes are swallowed up to the 0 */
        return;
    case 0xd1:
        write_outport(c, v);
        return;
    case 0xd2:
        respond(c, v, false);
        return;
    case 0xd3:
        respond(c, v, true);
        return;
    case 0xd4:
        ps2_mouse_write(c->mouse, v);
        return;
    default:
        break;
    }
    /* Plain data goes to the keyboard; sending to it enables its clock. */
    if (cmdbyte(c) & I8042_CMD_DIS)
        set_cmdbyte(c, cmdbyte(c) & (uint8_t)~I8042_CMD_DIS);
    ps2_kbd_write(c->kbd, v);
}

static uint64_t i8042_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct i8042 *c = opaque;
    (void)size;
    if (addr == I8042_PORT_STATUS)
        return c->status;
    /* Reading the data port empties the buffer (reading it empty again
     * gives the same byte); the next byte moves in at once. */
    uint8_t v = c->obuf;
    c->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXB);
    update_irqs(c);
    refill(c);
    return v;
}

static void i8042_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct i8042 *c = opaque;
    (void)size;
    if (addr == I8042_PORT_STATUS) {
        c->status |= I8042_STR_CMD;
        c->pending = 0;
        command(c, (uint8_t)val);
    } else {
        c->status &= (uint8_t)~I8042_STR_CMD;
        data_write(c, (uint8_t)val);
    }
}

static const struct mem_ops i8042_ops = { .read = i8042_io_read, .write = i8042_io_write };

void i8042_reset(struct i8042 *c)
{
    c->status = I8042_STR_INH;
    memset(c->ram, 0, sizeof(c->ram));
    /* As a BIOS leaves it: IRQ 1 on, translation on, mouse IRQ off. */
    c->ram[0] = I8042_CMD_INT | I8042_CMD_SYS | I8042_CMD_XLAT;
    c->status |= I8042_STR_SYS;
    /* Reset line high, A20 on: what the board's reset does to the gate.
     * Bits 7/6 are the keyboard data and clock lines, high while idle
     * (PS/2 Hardware Interface Technical Reference, output port). */
    c->outport = 0xc0 | I8042_OUT_RESET | I8042_OUT_A20;
    c->obuf = 0;
    c->pending = 0;
    c->cq_count = 0;
    c->cq_aux = 0;
    c->xlat_f0 = false;
    ps2_kbd_reset(c->kbd);
    ps2_mouse_reset(c->mouse);
    update_irqs(c);
}

struct i8042 *i8042_new(struct io_space *io, struct vclock *clk, struct irq_line irq_kbd,
                        struct irq_line irq_aux, const struct sysctl_callbacks *cb)
{
    struct i8042 *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->irq_kbd = irq_kbd;
    c->irq_aux = irq_aux;
    if (cb)
        c->cb = *cb;
    c->kbd = ps2_kbd_new(clk, notify, c);
    c->mouse = ps2_mouse_new(clk, notify, c);
    if (!c->kbd || !c->mouse || io_register(io, I8042_PORT_DATA, 1, &i8042_ops, c) != 0 ||
        io_register(io, I8042_PORT_STATUS, 1, &i8042_ops, c) != 0) {
        i8042_free(c);
        return NULL;
    }
    /* A20 comes up enabled, matching phys_new(). */
    i8042_reset(c);
    return c;
}

void i8042_free(struct i8042 *c)
{
    if (!c)
        return;
    ps2_kbd_free(c->kbd);
    ps2_mouse_free(c->mouse);
    free(c);
}

void i8042_key_event(struct i8042 *c, unsigned keycode, bool pressed)
{
    ps2_kbd_key_event(c->kbd, keycode, pressed);
}

void i8042_mouse_event(struct i8042 *c, int dx, int dy, int dz, unsigned buttons)
{
    ps2_mouse_event(c->mouse, dx, dy, dz, buttons);
}

bool i8042_a20(const struct i8042 *c)
{
    return c->outport & I8042_OUT_A20;
}

struct ps2_kbd *i8042_kbd(struct i8042 *c)
{
    return c->kbd;
}

struct ps2_mouse *i8042_mouse(struct i8042 *c)
{
    return c->mouse;
}
