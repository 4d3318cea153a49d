/*
 * hw/pit.c — Intel 8254 programmable interval timer (ports 40h-43h) and
 * system control port B (61h), which on the PC/AT carries the 8254's
 * channel 2 gate and OUT2, the speaker data bit and the refresh toggle.
 *
 * References: Intel 8254 Programmable Interval Timer datasheet (order
 * 231164): "Control Word Format", "Write Operations", "Read Operations"
 * (counter latch, read-back command, status byte), "Mode Definitions"
 * (modes 0-5), Figure "Gate Pin Operations Summary"; IBM PC/AT Technical
 * Reference, "System Timers" and "I/O Port 61h".
 *
 * Time: the counters are never ticked. The 1.193182 MHz CLK is a global
 * pulse train: pulse j happens at the first nanosecond t with
 * floor(t * F / 1e9) >= j. A running counter remembers which pulse loaded
 * its counting element (CE) and with what count; its count and OUT at any
 * pulse are pure functions of the pulses elapsed since ("segment"). The
 * only timer is channel 0's, armed for the pulse of OUT0's next change,
 * so IRQ 0 edges come at exact pulses and nothing drifts.
 */
#include <stdlib.h>

#include "hw/pit.h"

#define NO_TICK UINT64_MAX
/* Port 61h bit 4 toggles on every DRAM refresh request: channel 1 is
 * programmed by the PC/AT BIOS for 18 CLKs (15.08 us); Glass toggles it
 * with that period whatever channel 1 does, as delay loops rely on it. */
#define REFRESH_TICKS 18

/* Port 61h */
#define P61_GATE2 0x01
#define P61_SPKR 0x02
#define P61_WRITABLE 0x0f /* gate, speaker, parity/IOCHK check enables */
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

enum { CH_IDLE, CH_RUN, CH_FROZEN };

struct pit_channel {
    uint8_t ctrl;        /* RW1 RW0 M2 M1 M0 BCD as written: status bits 5-0 */
    uint8_t mode;        /* 0-5 (6 and 7 are 2 and 3) */
    uint8_t rw;          /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint8_t state;       /* CH_IDLE: not counting (unprogrammed, waiting for a
                          * trigger, gate low in modes 2/3); CH_RUN; CH_FROZEN:
                          * modes 0/4 with gate low, k held at frozen_k */
    bool gate;
    bool have_count;     /* a count was written since the control word */
    uint16_t cr;         /* count register, as written */
    uint32_t n;          /* the count the CE was loaded with, 1..65536 */
    uint64_t load_tick;  /* the CLK pulse that loaded it */
    uint32_t phase;      /* pulses into the mode 2/3 cycle at load_tick */
    bool next_pending;   /* modes 2/3: a new count takes over at next_tick */
    uint64_t next_tick;
    uint32_t next_n;
    uint32_t next_phase;
    uint64_t frozen_k;   /* CH_FROZEN: decrements done when counting stopped */
    uint32_t hold;       /* the count while idle or before the load pulse */
    bool idle_out;       /* OUT while idle or before the load pulse */
    uint64_t null_until; /* status NULL COUNT until this pulse */
    uint8_t wbyte;       /* 1: the next count write is the MSB */
    uint8_t wlsb;
    uint8_t rbyte;       /* 1: the next unlatched read is the MSB */
    bool latched;
    uint16_t latch;
    uint8_t latch_byte;  /* 1: the next latched read is the MSB */
    bool status_latched;
    uint8_t status;
};

struct pit {
    struct pit_channel ch[3];
    uint8_t port61;        /* the writable bits */
    bool irq_level;        /* what irq0 was last set to */
    uint64_t armed_tick;   /* the pulse the timer is armed for */
    struct vtimer *timer;
    struct vclock *clk;
    struct irq_line irq0;
};

/* ------------------------------------------------------------ time */

static uint64_t ns_to_tick(uint64_t ns)
{
    return (ns / NS_PER_SEC) * PIT_FREQ_HZ + (ns % NS_PER_SEC) * PIT_FREQ_HZ / NS_PER_SEC;
}

/* The first nanosecond at which pulse `tick` has happened. */
static uint64_t tick_to_ns(uint64_t tick)
{
    uint64_t r = tick % PIT_FREQ_HZ;
    return (tick / PIT_FREQ_HZ) * NS_PER_SEC + (r * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static uint64_t now_tick(const struct pit *p)
{
    return ns_to_tick(vclock_ns(p->clk));
}

/* ------------------------------------------------------------ counting */

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? 10000 : 65536;
}

/* The count register as a number of pulses: 0 is the largest count. */
static uint32_t count_value(const struct pit_channel *c, uint16_t raw)
{
    if (!c->bcd)
        return raw ? raw : 65536;
    uint32_t v = (raw >> 12 & 15) * 1000u + (raw >> 8 & 15) * 100u + (raw >> 4 & 15) * 10u +
                 (raw & 15);
    v %= 10000; /* invalid BCD digits: stay in range */
    return v ? v : 10000;
}

static uint16_t to_display(const struct pit_channel *c, uint32_t count)
{
    if (!c->bcd)
        return (uint16_t)count;
    return (uint16_t)((count / 1000 % 10) << 12 | (count / 100 % 10) << 8 | (count / 10 % 10) << 4 |
                      count % 10);
}

/* Square wave: OUT is high for the first `hi` pulses of each n. */
static uint32_t mode3_high(uint32_t n)
{
    return (n + 1) / 2;
}

struct view {
    uint32_t count; /* 0..modulus-1 */
    bool out;
};

/* Count and OUT k pulses after the CE was loaded with n (phase: pulses
 * into the cycle at the load), per "Mode Definitions". */
static struct view seg_eval(const struct pit_channel *c, uint32_t n, uint64_t k, uint32_t phase)
{
    uint32_t m = modulus(c);
    struct view v;
    switch (c->mode) {
    case 2: /* n, n-1, ..., 1: OUT low while the count is 1, reload */
        if (n < 2) { /* illegal count 1: no pulses */
            v.count = n % m;
            v.out = true;
            break;
        }
        {
            uint32_t r = (uint32_t)((k + phase) % n);
            v.count = (n - r) % m;
            v.out = r != n - 1;
        }
        break;
    case 3: { /* decrement by two; odd counts load n-1, high half one longer */
        uint32_t hi = mode3_high(n);
        uint32_t base = (n & 1) ? n - 1 : n;
        uint32_t r = (uint32_t)((k + phase) % n);
        if (r < hi) {
            v.count = (base - 2 * r) % m;
            v.out = true;
        } else {
            v.count = (base - 2 * (r - hi)) % m;
            v.out = false;
        }
        break;
    }
    default: /* 0, 1, 4, 5: count down, wrap after zero */
        v.count = (uint32_t)(((uint64_t)n + m - k % m) % m);
        if (c->mode == 0 || c->mode == 1)
            v.out = k >= n; /* 0: high at terminal count; 1: low for n pulses */
        else
            v.out = k != n; /* 4, 5: one pulse low at terminal count */
        break;
    }
    return v;
}

/* Pulses after k until OUT next changes, or NO_TICK. */
static uint64_t seg_next(const struct pit_channel *c, uint32_t n, uint64_t k, uint32_t phase)
{
    switch (c->mode) {
    case 2: {
        if (n < 2)
            return NO_TICK;
        uint32_t r = (uint32_t)((k + phase) % n);
        return r < n - 1 ? n - 1 - r : 1;
    }
    case 3: {
        uint32_t hi = mode3_high(n);
        if (hi == n)
            return NO_TICK;
        uint32_t r = (uint32_t)((k + phase) % n);
        return r < hi ? hi - r : n - r;
    }
    case 0:
    case 1:
        return k < n ? n - k : NO_TICK;
    default: /* 4, 5 */
        if (k < n)
            return n - k;
        return k == n ? 1 : NO_TICK;
    }
}

/* The segment in effect at pulse t (a pending mode 2/3 reload may have
 * taken over). */
static void seg_at(const struct pit_channel *c, uint64_t t, uint32_t *n, uint64_t *l, uint32_t *ph)
{
    if (c->next_pending && t >= c->next_tick) {
        *n = c->next_n;
        *l = c->next_tick;
        *ph = c->next_phase;
    } else {
        *n = c->n;
        *l = c->load_tick;
        *ph = c->phase;
    }
}

static struct view eval(const struct pit_channel *c, uint64_t t)
{
    if (c->state == CH_IDLE)
        return (struct view){ c->hold, c->idle_out };
    if (c->state == CH_FROZEN)
        return seg_eval(c, c->n, c->frozen_k, c->phase);
    uint32_t n, ph;
    uint64_t l;
    seg_at(c, t, &n, &l, &ph);
    if (t < l)
        return (struct view){ c->hold, c->idle_out };
    return seg_eval(c, n, t - l, ph);
}

/* The pulse after t at which OUT changes, or NO_TICK. */
static uint64_t next_change(const struct pit_channel *c, uint64_t t)
{
    if (c->state != CH_RUN)
        return NO_TICK;
    uint32_t n, ph;
    uint64_t l, res;
    seg_at(c, t, &n, &l, &ph);
    if (t < l) {
        if (seg_eval(c, n, 0, ph).out != c->idle_out)
            return l;
        uint64_t d = seg_next(c, n, 0, ph);
        res = d == NO_TICK ? NO_TICK : l + d;
    } else {
        uint64_t d = seg_next(c, n, t - l, ph);
        res = d == NO_TICK ? NO_TICK : t + d;
    }
    if (c->next_pending && t < c->next_tick && res > c->next_tick)
        res = c->next_tick;
    return res;
}

/* Makes a pending reload that has happened by pulse t the current one. */
static void fold(struct pit_channel *c, uint64_t t)
{
    if (c->next_pending && t >= c->next_tick) {
        c->n = c->next_n;
        c->load_tick = c->next_tick;
        c->phase = c->next_phase;
        c->next_pending = false;
    }
}

/* The CE is (re)loaded with n at pulse l; until then it shows what it
 * shows at pulse t. */
static void load(struct pit_channel *c, uint64_t t, uint64_t l, uint32_t n, uint32_t phase)
{
    struct view v = eval(c, t);
    c->hold = v.count;
    c->idle_out = v.out;
    c->n = n;
    c->load_tick = l;
    c->phase = phase;
    c->next_pending = false;
    c->state = CH_RUN;
}

/* ------------------------------------------------------------ IRQ 0 */

static void set_irq(struct pit *p, bool level)
{
    if (level != p->irq_level) {
        p->irq_level = level;
        irq_set(&p->irq0, level);
    }
}

static void arm(struct pit *p, uint64_t tick)
{
    p->armed_tick = tick;
    if (tick == NO_TICK)
        vtimer_cancel(p->timer);
    else
        vtimer_arm(p->timer, tick_to_ns(tick));
}

static void timer_cb(void *opaque)
{
    struct pit *p = opaque;
    const struct pit_channel *c = &p->ch[0];
    uint64_t now = now_tick(p);
    uint64_t t = p->armed_tick;
    /* Deliver the edge this timer was armed for even if the host clock
     * ran past it (a mode 2 pulse is one CLK long), and a few after it;
     * beyond that, catch up to now. */
    for (int i = 0; i < 4 && t <= now; i++) {
        set_irq(p, eval(c, t).out);
        t = next_change(c, t);
    }
    if (t != NO_TICK && t <= now) {
        set_irq(p, eval(c, now).out);
        t = next_change(c, now);
    }
    fold(&p->ch[0], now);
    arm(p, t);
}

/* The CPU runs slices of instructions between the board's timer runs,
 * so a register access can come after an OUT0 change that is due but
 * not yet delivered. Deliver it first: on the chip it happened before
 * the access (a count written after a mode 4 strobe must not hide the
 * strobe's IRQ 0 edge). */
static void catch_up(struct pit *p)
{
    if (p->armed_tick != NO_TICK && p->armed_tick <= now_tick(p))
        timer_cb(p);
}

/* After a change to channel 0 at pulse t (a register access or a gate
 * edge): OUT0 at t, and when it changes next. The host clock may have
 * moved past that next change already (the process can be preempted
 * between reading the clock for the access and here): deliver it now
 * rather than look for the next change after "now", which would skip it
 * (a mode 4 strobe lost this way stops a one-shot clockevent for good). */
static void resched(struct pit *p, uint64_t t)
{
    set_irq(p, eval(&p->ch[0], t).out);
    arm(p, next_change(&p->ch[0], t));
    catch_up(p);
}

static void changed(struct pit *p, int n, uint64_t t)
{
    if (n == 0)
        resched(p, t);
}

/* ------------------------------------------------------------ gate */

void pit_set_gate(struct pit *p, int n, bool level)
{
    if (n < 0 || n > 2)
        return;
    struct pit_channel *c = &p->ch[n];
    uint64_t t = now_tick(p);
    fold(c, t);
    bool rising = level && !c->gate, falling = !level && c->gate;
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4: /* gate low suspends counting, high resumes it */
        if (falling && c->state == CH_RUN) {
            c->frozen_k = t >= c->load_tick ? t - c->load_tick : 0;
            c->state = CH_FROZEN;
        } else if (rising && c->state == CH_FROZEN) {
            uint64_t l = t - c->frozen_k; /* next pulse decrements again */
            if (l > c->load_tick)
                c->load_tick = l;
            c->state = CH_RUN;
        }
        break;
    case 1:
    case 5: /* rising edge (re)triggers: CE loaded on the next pulse */
        if (rising && c->have_count) {
            load(c, t, t + 1, count_value(c, c->cr), 0);
            c->null_until = t + 1;
        }
        break;
    default: /* 2, 3: low stops counting with OUT high; rising reloads */
        if (falling && c->state == CH_RUN) {
            c->hold = eval(c, t).count;
            c->idle_out = true;
            c->state = CH_IDLE;
        } else if (rising && c->have_count) {
            load(c, t, t + 1, count_value(c, c->cr), 0);
            c->null_until = t + 1;
        }
        break;
    }
    changed(p, n, t);
}

/* ------------------------------------------------------------ registers */

/* A complete count was written ("Write Operations", per-mode rules). */
static void commit_count(struct pit_channel *c, uint64_t t)
{
    uint32_t n = count_value(c, c->cr);
    c->have_count = true;
    switch (c->mode) {
    case 0: /* OUT low; loaded on the next pulse, counting needs GATE */
    case 4:
        load(c, t, t + 1, n, 0);
        if (c->mode == 0)
            c->idle_out = false;
        if (!c->gate) {
            c->state = CH_FROZEN;
            c->frozen_k = 0;
        }
        c->null_until = t + 1;
        break;
    case 1:
    case 5: /* waits for a gate trigger; a running one-shot goes on */
        c->null_until = NO_TICK;
        break;
    default: /* 2, 3 */
        if (c->state == CH_RUN && t >= c->load_tick) {
            /* "the new count is loaded at the end of the current cycle"
             * (mode 2) / "half-cycle" (mode 3) */
            uint32_t r = (uint32_t)((t - c->load_tick + c->phase) % c->n);
            if (c->mode == 2) {
                c->next_tick = t + (c->n < 2 ? 1 : c->n - r);
                c->next_phase = 0;
            } else if (r < mode3_high(c->n)) {
                c->next_tick = t + mode3_high(c->n) - r;
                c->next_phase = mode3_high(n) % n; /* starts with the low half */
            } else {
                c->next_tick = t + c->n - r;
                c->next_phase = 0;
            }
            c->next_n = n;
            c->next_pending = true;
            c->null_until = c->next_tick;
        } else if (c->state == CH_RUN) {
            c->n = n; /* not loaded yet: the load pulse takes the new one */
            c->null_until = c->load_tick;
        } else if (c->gate) {
            load(c, t, t + 1, n, 0);
            c->null_until = t + 1;
        } else {
            c->hold = n % modulus(c); /* loaded, but GATE holds it */
            c->idle_out = true;
            c->null_until = t + 1;
        }
        break;
    }
}

static void write_count(struct pit *p, int n, uint8_t val)
{
    struct pit_channel *c = &p->ch[n];
    uint64_t t = now_tick(p);
    fold(c, t);
    switch (c->rw) {
    case 1:
        c->cr = val;
        break;
    case 2:
        c->cr = (uint16_t)(val << 8);
        break;
    default:
        if (!c->wbyte) {
            c->wlsb = val;
            c->wbyte = 1;
            if (c->mode == 0 && c->state != CH_IDLE) {
                /* mode 0: "writing the first byte disables counting" */
                struct view v = eval(c, t);
                c->hold = v.count;
                c->idle_out = v.out;
                c->state = CH_IDLE;
                changed(p, n, t);
            }
            return;
        }
        c->wbyte = 0;
        c->cr = (uint16_t)(c->wlsb | val << 8);
        break;
    }
    commit_count(c, t);
    changed(p, n, t);
    /* The count is loaded into the CE on the next CLK pulse ("Write
     * Operations"); on a PC the OUT that wrote it lasts an ISA I/O cycle,
     * about 1 us, longer than a PIT pulse (838 ns), so the instruction
     * after it already sees the count running. Glass's OUT takes ~0.1 us:
     * it waits for that pulse, or a guest reading the counter at once
     * sees the old contents. Linux counts on this: its quick TSC
     * calibration reads the counter back once as the microsecond's delay
     * for the load, then expects MSB 0FFh; without the wait that failed
     * in about half of Debian's boots under the JIT ("Fast TSC calibration
     * failed", then the PM timer). */
    if (c->null_until == t + 1)
        vclock_wait_until(p->clk, tick_to_ns(t + 1));
}

static void latch_count(struct pit *p, struct pit_channel *c)
{
    /* Further latch commands before the count is read are ignored. */
    if (c->latched)
        return;
    c->latch = to_display(c, eval(c, now_tick(p)).count);
    c->latched = true;
    c->latch_byte = 0;
}

static void latch_status(struct pit *p, struct pit_channel *c)
{
    if (c->status_latched)
        return;
    uint64_t t = now_tick(p);
    c->status = (uint8_t)((eval(c, t).out ? 0x80 : 0) | (t < c->null_until ? 0x40 : 0) |
                          (c->ctrl & 0x3f));
    c->status_latched = true;
}

static void write_control(struct pit *p, uint8_t val)
{
    int sc = val >> 6;
    if (sc == 3) {
        /* Read-back: bit 5 /COUNT, bit 4 /STATUS, bits 3-1 CNT2-CNT0. */
        for (int n = 0; n < 3; n++) {
            if (!(val & (2u << n)))
                continue;
            if (!(val & 0x20))
                latch_count(p, &p->ch[n]);
            if (!(val & 0x10))
                latch_status(p, &p->ch[n]);
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    if (!(val & 0x30)) {
        latch_count(p, c);
        return;
    }
    uint64_t t = now_tick(p);
    fold(c, t);
    /* "all Control Logic is immediately reset and OUT goes to a known
     * initial state": low in mode 0, high otherwise. The CE stops. */
    c->hold = eval(c, t).count;
    c->state = CH_IDLE;
    c->next_pending = false;
    c->ctrl = val & 0x3f;
    c->rw = (val >> 4) & 3;
    c->mode = (val >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4;
    c->bcd = val & 1;
    c->hold %= modulus(c);
    c->idle_out = c->mode != 0;
    c->have_count = false;
    c->null_until = NO_TICK;
    c->wbyte = 0;
    c->rbyte = 0;
    c->latched = false;
    c->status_latched = false;
    changed(p, sc, t);
}

static uint8_t read_count(struct pit *p, int n)
{
    struct pit_channel *c = &p->ch[n];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool msb;
    if (c->latched) {
        v = c->latch;
        if (c->rw == 3) {
            msb = c->latch_byte;
            c->latch_byte ^= 1;
            c->latched = !msb;
        } else {
            msb = c->rw == 2;
            c->latched = false;
        }
    } else {
        v = to_display(c, eval(c, now_tick(p)).count);
        if (c->rw == 3) {
            msb = c->rbyte;
            c->rbyte ^= 1;
        } else {
            msb = c->rw == 2;
        }
    }
    return (uint8_t)(msb ? v >> 8 : v);
}

static uint8_t read_port61(struct pit *p)
{
    uint64_t t = now_tick(p);
    return (uint8_t)((p->port61 & P61_WRITABLE) | ((t / REFRESH_TICKS) & 1 ? P61_REFRESH : 0) |
                     (eval(&p->ch[2], t).out ? P61_OUT2 : 0));
}

static uint64_t pit_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct pit *p = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        uint8_t b = 0xff; /* the control word register cannot be read */
        if (port >= PIT_PORT && port < PIT_PORT + 3)
            b = read_count(p, (int)(port - PIT_PORT));
        else if (port == PIT_PORT61)
            b = read_port61(p);
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void pit_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct pit *p = opaque;
    catch_up(p);
    for (unsigned i = 0; i < size; i++) {
        uint64_t port = addr + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (port >= PIT_PORT && port < PIT_PORT + 3) {
            write_count(p, (int)(port - PIT_PORT), b);
        } else if (port == PIT_PORT + 3) {
            write_control(p, b);
        } else if (port == PIT_PORT61) {
            p->port61 = b & P61_WRITABLE;
            pit_set_gate(p, 2, b & P61_GATE2);
        }
    }
}

static const struct mem_ops pit_ops = {
    .read = pit_io_read,
    .write = pit_io_write,
};

/* ------------------------------------------------------------ API */

bool pit_out(struct pit *p, int n)
{
    if (n < 0 || n > 2)
        return false;
    return eval(&p->ch[n], now_tick(p)).out;
}

bool pit_speaker(struct pit *p)
{
    return (p->port61 & P61_SPKR) && pit_out(p, 2);
}

void pit_reset(struct pit *p)
{
    for (int n = 0; n < 3; n++) {
        struct pit_channel *c = &p->ch[n];
        *c = (struct pit_channel){ 0 };
        c->ctrl = 0x30; /* LSB then MSB, mode 0, binary */
        c->rw = 3;
        c->state = CH_IDLE;
        c->null_until = NO_TICK;
        c->gate = n != 2; /* channels 0 and 1: GATE tied high */
    }
    p->port61 = 0;
    p->irq_level = true; /* force the line low below */
    set_irq(p, false);
    arm(p, NO_TICK);
}

struct pit *pit_new(struct io_space *io, struct vclock *clk, const struct irq_line *irq0)
{
    struct pit *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->clk = clk;
    if (irq0)
        p->irq0 = *irq0;
    p->timer = vtimer_new(clk, timer_cb, p);
    if (!p->timer || io_register(io, PIT_PORT, 4, &pit_ops, p) != 0 ||
        io_register(io, PIT_PORT61, 1, &pit_ops, p) != 0) {
        if (p->timer)
            vtimer_free(p->timer);
        free(p);
        return NULL;
    }
    pit_reset(p);
    return p;
}

void pit_free(struct pit *p)
{
    if (!p)
        return;
    vtimer_free(p->timer);
    free(p);
}

/* ------------------------------------------------------------ state */

#define CH_F(i, f, t) { "ch" #i "." #f, t, offsetof(struct pit, ch[i].f), 1 }
#define CH_FIELDS(i)                                                                           \
    CH_F(i, ctrl, DEV_FIELD_U8), CH_F(i, mode, DEV_FIELD_U8), CH_F(i, rw, DEV_FIELD_U8),          \
    CH_F(i, bcd, DEV_FIELD_BOOL), CH_F(i, state, DEV_FIELD_U8), CH_F(i, gate, DEV_FIELD_BOOL),    \
    CH_F(i, have_count, DEV_FIELD_BOOL), CH_F(i, cr, DEV_FIELD_U16), CH_F(i, n, DEV_FIELD_U32),   \
    CH_F(i, load_tick, DEV_FIELD_U64), CH_F(i, phase, DEV_FIELD_U32),                             \
    CH_F(i, next_pending, DEV_FIELD_BOOL), CH_F(i, next_tick, DEV_FIELD_U64),                     \
    CH_F(i, next_n, DEV_FIELD_U32), CH_F(i, next_phase, DEV_FIELD_U32),                           \
    CH_F(i, frozen_k, DEV_FIELD_U64), CH_F(i, hold, DEV_FIELD_U32),                               \
    CH_F(i, idle_out, DEV_FIELD_BOOL), CH_F(i, null_until, DEV_FIELD_U64),                        \
    CH_F(i, wbyte, DEV_FIELD_U8), CH_F(i, wlsb, DEV_FIELD_U8), CH_F(i, rbyte, DEV_FIELD_U8),      \
    CH_F(i, latched, DEV_FIELD_BOOL), CH_F(i, latch, DEV_FIELD_U16),                              \
    CH_F(i, latch_byte, DEV_FIELD_U8), CH_F(i, status_latched, DEV_FIELD_BOOL),                   \
    CH_F(i, status, DEV_FIELD_U8)

static const struct dev_field pit_fields[] = {
    CH_FIELDS(0),
    CH_FIELDS(1),
    CH_FIELDS(2),
    { "port61", DEV_FIELD_U8, offsetof(struct pit, port61), 1 },
    { "irq_level", DEV_FIELD_BOOL, offsetof(struct pit, irq_level), 1 },
    { "armed_tick", DEV_FIELD_U64, offsetof(struct pit, armed_tick), 1 },
    { "timer", DEV_FIELD_TIMER, offsetof(struct pit, timer), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc pit_state_desc = {
    .name = "i8254",
    .version = 1,
    .fields = pit_fields,
};

void pit_print_info(struct pit *p, FILE *out)
{
    static const char *const access[4] = { "latch", "lsb", "msb", "lsb/msb" };
    uint64_t t = now_tick(p);
    for (int n = 0; n < 3; n++) {
        const struct pit_channel *c = &p->ch[n];
        struct view v = eval(c, t);
        fprintf(out, "pit channel %d: mode %u %s%s count register %04x count %04x gate %u "
                "out %u%s\n", n, c->mode, access[c->rw & 3], c->bcd ? " bcd" : "",
                c->cr, to_display(c, v.count), c->gate, v.out,
                c->state == CH_IDLE ? " (idle)" : c->state == CH_FROZEN ? " (frozen)" : "");
    }
    fprintf(out, "pit port 61h: %02x\n", read_port61(p));
}
