/*
 * hw/uart.c — PC16550D UART (hw/uart.h), written from the National
 * Semiconductor PC16550D datasheet. Citations name the register whose
 * description (datasheet section 8, "Registers") states the behaviour.
 *
 * Transmission is timed on the virtual clock: a byte written to THR moves
 * to the transmitter shift register (TSR) as soon as it is free, and
 * leaves it one transmit time later. With UART_TIMING_LINE that is the
 * character time (start bit, 5-8 data bits, parity, 1/1.5/2 stop bits at
 * the divisor's baud rate); the transmitter state is then brought up to
 * date lazily on every register access (so a guest polling LSR progresses
 * at the clock's pace whatever the timer granularity of the board loop),
 * and by a vtimer, so that the THRE interrupt also comes when nobody
 * polls. With UART_TIMING_FAST (the default) the transmit time is zero:
 * the same sequence of events happens inside the THR write itself. The
 * guest still sees the datasheet's order: THR write clears the THRE
 * interrupt (IIR), THR empties into the TSR (THRE rises and latches the
 * interrupt again), the TSR empties (TEMT); it just finds all of it done
 * by its next register access. The INTR pin follows each step (it falls
 * with the write, rises when THR empties), so every THR write with ETBEI
 * on gives the edge-triggered PIC a new rising edge, as on the chip: a
 * driver that answers each THRE interrupt with a THR write (and perhaps
 * never reads IIR) keeps going. No interrupt storm can come of it: THRE
 * only rises again after a THR write, an ETBEI enable or a FIFO reset,
 * each a guest action.
 *
 * Receiving: the host's bytes arrive through the chardev as fast as the
 * receive FIFO (or, in 16450 mode, the single RBR) has room; the rest
 * waits on the host side, so no host byte is ever overrun. In loopback the
 * chardev is disconnected and the TSR feeds the receiver (MCR).
 *
 * The receiver keeps the true character time of the programmed line in
 * both timings: the character timeout is 4 of them (IIR, "character
 * timeout indication"; 4.2 ms at 9600 baud), and a loopback break takes
 * one. The timeout is how a driver learns that a residue below the
 * trigger level will not grow for now: at zero it would fire as soon as
 * the first bytes landed, turning the trigger level into a level of 1 (an
 * interrupt per arrival instead of per 8 bytes), while no throughput
 * hangs on it (a full trigger level interrupts at once, and typed input
 * does not notice 4 ms). Its length is the one the guest programmed and
 * may rely on, and QEMU, whose transmitter is instant too, times it the
 * same way.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/uart.h"

#define FIFO_SIZE 16

struct uart {
    struct io_space *io;
    struct vclock *clk;
    struct irq_line irq;
    struct chardev *chr;
    uint16_t base;
    uint8_t timing; /* enum uart_timing */

    /* Registers. */
    uint8_t ier, fcr, lcr, mcr, msr, scr, dll, dlm;
    uint8_t rbr_last;     /* what RBR reads when the receiver is empty */
    bool oe;              /* LSR.OE: sticky until LSR is read */
    bool thr_ipending;    /* THRE interrupt latched (IIR, priority 3) */
    bool timeout_ipending; /* character timeout indication (IIR) */
    bool irq_level;       /* what the irq line was last set to */
    bool break_on;        /* loopback break condition in force */

    /* Receiver FIFO: data and, per byte, its PE/FE/BI bits (LSR: the
     * error bits belong to the character at the top of the FIFO). */
    uint8_t rx[FIFO_SIZE];
    uint8_t rx_flags[FIFO_SIZE];
    uint8_t rx_head, rx_count;

    /* Transmitter FIFO (THR in 16450 mode) and shift register. */
    uint8_t tx[FIFO_SIZE];
    uint8_t tx_head, tx_count;
    uint8_t tsr;
    bool tsr_full;
    uint64_t tx_done; /* when the byte in the TSR has been sent */

    struct vtimer *tx_timer;      /* TSR finishes its byte */
    struct vtimer *timeout_timer; /* 4 character times of receiver silence */
    struct vtimer *break_timer;   /* loopback: break seen for a character time */
};

static const struct dev_field uart_fields[] = {
    { "ier", DEV_FIELD_U8, offsetof(struct uart, ier), 1 },
    { "fcr", DEV_FIELD_U8, offsetof(struct uart, fcr), 1 },
    { "lcr", DEV_FIELD_U8, offsetof(struct uart, lcr), 1 },
    { "mcr", DEV_FIELD_U8, offsetof(struct uart, mcr), 1 },
    { "msr", DEV_FIELD_U8, offsetof(struct uart, msr), 1 },
    { "scr", DEV_FIELD_U8, offsetof(struct uart, scr), 1 },
    { "dll", DEV_FIELD_U8, offsetof(struct uart, dll), 1 },
    { "dlm", DEV_FIELD_U8, offsetof(struct uart, dlm), 1 },
    { "rbr_last", DEV_FIELD_U8, offsetof(struct uart, rbr_last), 1 },
    { "oe", DEV_FIELD_BOOL, offsetof(struct uart, oe), 1 },
    { "thr_ipending", DEV_FIELD_BOOL, offsetof(struct uart, thr_ipending), 1 },
    { "timeout_ipending", DEV_FIELD_BOOL, offsetof(struct uart, timeout_ipending), 1 },
    { "irq_level", DEV_FIELD_BOOL, offsetof(struct uart, irq_level), 1 },
    { "break_on", DEV_FIELD_BOOL, offsetof(struct uart, break_on), 1 },
    { "timing", DEV_FIELD_U8, offsetof(struct uart, timing), 1 },
    { "rx", DEV_FIELD_BYTES, offsetof(struct uart, rx), FIFO_SIZE },
    { "rx_flags", DEV_FIELD_BYTES, offsetof(struct uart, rx_flags), FIFO_SIZE },
    { "rx_head", DEV_FIELD_U8, offsetof(struct uart, rx_head), 1 },
    { "rx_count", DEV_FIELD_U8, offsetof(struct uart, rx_count), 1 },
    { "tx", DEV_FIELD_BYTES, offsetof(struct uart, tx), FIFO_SIZE },
    { "tx_head", DEV_FIELD_U8, offsetof(struct uart, tx_head), 1 },
    { "tx_count", DEV_FIELD_U8, offsetof(struct uart, tx_count), 1 },
    { "tsr", DEV_FIELD_U8, offsetof(struct uart, tsr), 1 },
    { "tsr_full", DEV_FIELD_BOOL, offsetof(struct uart, tsr_full), 1 },
    { "tx_done", DEV_FIELD_U64, offsetof(struct uart, tx_done), 1 },
    { "tx_timer", DEV_FIELD_TIMER, offsetof(struct uart, tx_timer), 1 },
    { "timeout_timer", DEV_FIELD_TIMER, offsetof(struct uart, timeout_timer), 1 },
    { "break_timer", DEV_FIELD_TIMER, offsetof(struct uart, break_timer), 1 },
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc uart_state_desc = { "uart16550a", 2, uart_fields };

/* FCR bits 7:6 -> receiver FIFO trigger level (FCR description,
 * "RCVR FIFO Trigger Level"). */
static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

/* The external modem inputs when not in loopback: a terminal that is
 * present and ready (DCD, DSR, CTS asserted, no ring). */
#define MSR_LINES_EXTERNAL (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

/* ------------------------------------------------------------ helpers */

static bool fifo_mode(const struct uart *u)
{
    return u->fcr & UART_FCR_ENABLE;
}

/* 16 in FIFO mode; in 16450 mode THR and RBR hold one byte each. */
static unsigned fifo_cap(const struct uart *u)
{
    return fifo_mode(u) ? FIFO_SIZE : 1;
}

uint64_t uart_char_time_ns(const struct uart *u)
{
    /* In half bits: start + data + parity, then 1 stop bit, or with LCR
     * bit 2 set 1.5 (5-bit words) or 2 (LCR). */
    unsigned wlen = 5 + (u->lcr & UART_LCR_WLEN);
    unsigned half_bits = 2 * (1 + wlen + ((u->lcr & UART_LCR_PARITY) ? 1 : 0));
    half_bits += (u->lcr & UART_LCR_STOP) ? (wlen == 5 ? 3 : 4) : 2;
    /* Divisor 0 is not a valid setting; the 16-bit divider then counts
     * through its whole range, which we model as 65536. */
    uint64_t div = (uint64_t)u->dll | ((uint64_t)u->dlm << 8);
    if (div == 0)
        div = 65536;
    /* One bit = 16 * div / XTAL seconds. */
    return half_bits * div * 16 * NS_PER_SEC / (2ull * UART_XTAL_HZ);
}

/* How long the TSR holds a byte (uart.h, enum uart_timing). */
static uint64_t tx_time_ns(const struct uart *u)
{
    return u->timing == UART_TIMING_LINE ? uart_char_time_ns(u) : 0;
}

static uint8_t rx_top_flags(const struct uart *u)
{
    return u->rx_count ? u->rx_flags[u->rx_head] : 0;
}

/* LSR.OE/PE/FE/BI as the CPU would see them now. */
static uint8_t line_errors(const struct uart *u)
{
    return (u->oe ? UART_LSR_OE : 0) | rx_top_flags(u);
}

static bool rx_data_ready(const struct uart *u)
{
    if (!u->rx_count)
        return false;
    if (!fifo_mode(u))
        return true;
    return u->rx_count >= rx_trigger_levels[u->fcr >> 6];
}

/* Interrupt identification by priority (the IIR description's interrupt
 * control table). */
static uint8_t uart_iid(const struct uart *u)
{
    if ((u->ier & UART_IER_ELSI) && line_errors(u))
        return UART_IIR_RLSI;
    if ((u->ier & UART_IER_ERBFI) && rx_data_ready(u))
        return UART_IIR_RDI;
    if ((u->ier & UART_IER_ERBFI) && u->timeout_ipending)
        return UART_IIR_CTI;
    if ((u->ier & UART_IER_ETBEI) && u->thr_ipending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_EDSSI) && (u->msr & 0x0f))
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

/* The INTR pin, gated as a PC does: the IRQ driver is enabled by the
 * OUT2 pin, which loopback forces inactive (MCR), so in loopback the
 * interrupts show in IIR but do not reach the PIC. */
static void update_irq(struct uart *u)
{
    bool level = uart_iid(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2) &&
                 !(u->mcr & UART_MCR_LOOP);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

static void arm_if_changed(struct vtimer *t, uint64_t deadline)
{
    if (!vtimer_armed(t) || vtimer_deadline(t) != deadline)
        vtimer_arm(t, deadline);
}

/* ------------------------------------------------------------ receiver */

/* The character timeout (IIR): it fires when nothing went into or out of
 * a non-empty receive FIFO for 4 character times. `at` is the time of the
 * last FIFO activity. */
static void restart_rx_timeout(struct uart *u, uint64_t at)
{
    if (fifo_mode(u) && u->rx_count)
        arm_if_changed(u->timeout_timer, at + 4 * uart_char_time_ns(u));
    else
        vtimer_cancel(u->timeout_timer);
}

/* A character finished arriving in the receiver shift register at time
 * `at`, with its PE/FE/BI bits. */
static void rx_put(struct uart *u, uint8_t byte, uint8_t flags, uint64_t at)
{
    if (u->rx_count < fifo_cap(u)) {
        unsigned i = (u->rx_head + u->rx_count) % FIFO_SIZE;
        u->rx[i] = byte;
        u->rx_flags[i] = flags;
        u->rx_count++;
    } else {
        u->oe = true;
        /* 16450: the new character overwrites RBR (LSR bit 1);
         * FIFO mode: the FIFO is kept and the shift register's character
         * is lost. */
        if (!fifo_mode(u)) {
            u->rx[u->rx_head] = byte;
            u->rx_flags[u->rx_head] = flags;
        }
    }
    u->timeout_ipending = false;
    restart_rx_timeout(u, at);
}

static void rx_clear(struct uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->timeout_ipending = false;
    vtimer_cancel(u->timeout_timer);
}

static uint8_t rx_read(struct uart *u)
{
    if (u->rx_count) {
        u->rbr_last = u->rx[u->rx_head];
        u->rx_flags[u->rx_head] = 0;
        u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
        u->rx_count--;
    }
    /* Reading the FIFO clears a timeout indication and restarts the
     * timer (IIR). */
    u->timeout_ipending = false;
    restart_rx_timeout(u, vclock_ns(u->clk));
    return u->rbr_last;
}

static size_t uart_can_receive(void *opaque)
{
    struct uart *u = opaque;
    if (u->mcr & UART_MCR_LOOP)
        return 0; /* the serial input is disconnected in loopback (MCR) */
    return fifo_cap(u) - u->rx_count;
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart *u = opaque;
    uint64_t now = vclock_ns(u->clk);
    for (size_t i = 0; i < len; i++)
        rx_put(u, buf[i], 0, now);
    update_irq(u);
}

/* ------------------------------------------------------------ transmitter */

/* THR (or the transmit FIFO) just became empty: THRE rises, which latches
 * the THRE interrupt (IIR: "Transmitter Holding Register Empty"). */
static void thre_rises(struct uart *u)
{
    u->thr_ipending = true;
}

static uint8_t tx_pop(struct uart *u)
{
    uint8_t b = u->tx[u->tx_head];
    u->tx_head = (u->tx_head + 1) % FIFO_SIZE;
    u->tx_count--;
    return b;
}

/* Moves the next byte from THR/FIFO into the idle TSR, starting at `at`. */
static void tsr_load(struct uart *u, uint64_t at)
{
    u->tsr = tx_pop(u);
    u->tsr_full = true;
    u->tx_done = at + tx_time_ns(u);
    if (!u->tx_count)
        thre_rises(u);
}

static void shift_out(struct uart *u, uint8_t byte, uint64_t at)
{
    if (u->mcr & UART_MCR_LOOP) {
        /* Loopback: the TSR output goes to the receiver (MCR). Bits above
         * the word length are not sent. */
        uint8_t mask = (uint8_t)(0xff >> (3 - (u->lcr & UART_LCR_WLEN)));
        rx_put(u, byte & mask, 0, at);
    } else {
        chardev_write(u->chr, &byte, 1);
    }
}

/* Runs the transmitter up to the present. */
static void tx_catch_up(struct uart *u)
{
    uint64_t now = vclock_ns(u->clk);
    while (u->tsr_full && now >= u->tx_done) {
        uint64_t at = u->tx_done;
        u->tsr_full = false;
        shift_out(u, u->tsr, at);
        if (u->tx_count)
            tsr_load(u, at);
    }
    if (u->tsr_full)
        arm_if_changed(u->tx_timer, u->tx_done);
    else
        vtimer_cancel(u->tx_timer);
}

static void thr_write(struct uart *u, uint8_t val)
{
    if (u->tx_count < fifo_cap(u)) {
        u->tx[(u->tx_head + u->tx_count) % FIFO_SIZE] = val;
        u->tx_count++;
    } else if (!fifo_mode(u)) {
        u->tx[u->tx_head] = val; /* 16450: THR is simply overwritten */
    } /* else: a 17th byte in a full FIFO is lost */
    /* Writing THR clears the THRE interrupt (IIR), and INTR with it: when
     * THR empties again below (at once if the TSR is idle) the rise is a
     * new edge for the PIC, not a level that never moved. */
    u->thr_ipending = false;
    update_irq(u);
    if (!u->tsr_full)
        tsr_load(u, vclock_ns(u->clk));
}

static void tx_clear(struct uart *u)
{
    bool was_empty = !u->tx_count;
    u->tx_head = 0;
    u->tx_count = 0;
    if (!was_empty)
        thre_rises(u);
}

/* ------------------------------------------------------------ modem, break */

static uint8_t modem_lines(const struct uart *u)
{
    if (!(u->mcr & UART_MCR_LOOP))
        return MSR_LINES_EXTERNAL;
    /* Loopback (MCR): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
    uint8_t m = u->mcr, l = 0;
    if (m & UART_MCR_RTS) l |= UART_MSR_CTS;
    if (m & UART_MCR_DTR) l |= UART_MSR_DSR;
    if (m & UART_MCR_OUT1) l |= UART_MSR_RI;
    if (m & UART_MCR_OUT2) l |= UART_MSR_DCD;
    return l;
}

/* Recomputes MSR bits 7:4 and latches the delta bits 3:0 (MSR): DCTS,
 * DDSR and DDCD on any change, TERI when RI goes from on to off. */
static void update_msr(struct uart *u)
{
    uint8_t old = u->msr & 0xf0, now = modem_lines(u);
    uint8_t changed = old ^ now;
    uint8_t delta = u->msr & 0x0f;
    if (changed & UART_MSR_CTS) delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR) delta |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD) delta |= UART_MSR_DDCD;
    if ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) delta |= UART_MSR_TERI;
    u->msr = now | delta;
}

/* In loopback, setting break (LCR bit 6) holds the receiver's input at
 * spacing: after one character time it receives a break, a zero
 * character with BI and FE (LSR), once per break. */
static void update_break(struct uart *u)
{
    bool on = (u->lcr & UART_LCR_SBC) && (u->mcr & UART_MCR_LOOP);
    if (!on)
        vtimer_cancel(u->break_timer);
    else if (!u->break_on)
        vtimer_arm(u->break_timer, vclock_ns(u->clk) + uart_char_time_ns(u));
    u->break_on = on;
}

/* ------------------------------------------------------------ timers */

static void tx_timer_cb(void *opaque)
{
    struct uart *u = opaque;
    tx_catch_up(u);
    update_irq(u);
}

static void timeout_timer_cb(void *opaque)
{
    struct uart *u = opaque;
    if (fifo_mode(u) && u->rx_count)
        u->timeout_ipending = true;
    update_irq(u);
}

static void break_timer_cb(void *opaque)
{
    struct uart *u = opaque;
    /* Stays unarmed until the break is released and set again. */
    rx_put(u, 0, UART_LSR_BI | UART_LSR_FE, vclock_ns(u->clk));
    update_irq(u);
}

/* ------------------------------------------------------------ registers */

static uint8_t lsr_read(struct uart *u)
{
    uint8_t v = line_errors(u);
    if (u->rx_count)
        v |= UART_LSR_DR;
    if (!u->tx_count)
        v |= UART_LSR_THRE;
    if (!u->tx_count && !u->tsr_full)
        v |= UART_LSR_TEMT;
    if (fifo_mode(u)) {
        for (unsigned i = 0; i < u->rx_count; i++)
            if (u->rx_flags[(u->rx_head + i) % FIFO_SIZE])
                v |= UART_LSR_FIFOE;
    }
    /* Reading LSR clears OE, and PE/FE/BI of the character at the top
     * (LSR); bit 7 goes when no error is left in the FIFO. */
    u->oe = false;
    if (u->rx_count)
        u->rx_flags[u->rx_head] = 0;
    return v;
}

static uint64_t uart_read(void *opaque, uint64_t addr, unsigned size)
{
    struct uart *u = opaque;
    (void)size;
    tx_catch_up(u);
    uint8_t v = 0xff;
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch ((addr - u->base) & 7) {
    case UART_RBR: v = dlab ? u->dll : rx_read(u); break;
    case UART_IER: v = dlab ? u->dlm : u->ier; break;
    case UART_IIR: {
        uint8_t id = uart_iid(u);
        /* Reading IIR while THRE is the source clears it. */
        if (id == UART_IIR_THRI)
            u->thr_ipending = false;
        v = id | (fifo_mode(u) ? UART_IIR_FIFO : 0);
        break;
    }
    case UART_LCR: v = u->lcr; break;
    case UART_MCR: v = u->mcr; break;
    case UART_LSR: v = lsr_read(u); break;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xf0; /* reading clears the delta bits */
        break;
    case UART_SCR: v = u->scr; break;
    }
    update_irq(u);
    return v;
}

static void fcr_write(struct uart *u, uint8_t val)
{
    bool was = fifo_mode(u);
    if (!(val & UART_FCR_ENABLE)) {
        /* FCR0 = 0: 16450 mode; the other bits are not programmed (FCR). */
        u->fcr = 0;
    } else {
        u->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
    }
    /* Changing FCR0 clears both FIFOs; bits 1 and 2 clear one each and
     * self-clear; the shift registers are left alone (FCR). */
    if (was != fifo_mode(u) || (val & UART_FCR_ENABLE && val & UART_FCR_CLEAR_RX))
        rx_clear(u);
    if (was != fifo_mode(u) || (val & UART_FCR_ENABLE && val & UART_FCR_CLEAR_TX))
        tx_clear(u);
    if (!u->tsr_full && u->tx_count)
        tsr_load(u, vclock_ns(u->clk));
}

static void ier_write(struct uart *u, uint8_t val)
{
    uint8_t old = u->ier;
    u->ier = val & 0x0f;
    /* Enabling ETBEI while THR is empty raises the THRE interrupt at
     * once; Linux's 8250 driver relies on it to start transmission. */
    if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI) && !u->tx_count)
        u->thr_ipending = true;
}

static void uart_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    struct uart *u = opaque;
    uint8_t val = (uint8_t)val64;
    (void)size;
    tx_catch_up(u);
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch ((addr - u->base) & 7) {
    case UART_THR:
        if (dlab)
            u->dll = val;
        else
            thr_write(u, val);
        break;
    case UART_IER:
        if (dlab)
            u->dlm = val;
        else
            ier_write(u, val);
        break;
    case UART_FCR: fcr_write(u, val); break;
    case UART_LCR:
        u->lcr = val;
        update_break(u);
        break;
    case UART_MCR:
        /* Bits 7:5 are always 0 (MCR). Entering loopback stops host input
         * (uart_can_receive); leaving it lets the host's waiting bytes in
         * at the frontend's next poll. */
        u->mcr = val & 0x1f;
        update_msr(u);
        update_break(u);
        break;
    case UART_LSR:
        /* LSR is meant to be read only; the datasheet warns writing it
         * is for factory test. We ignore writes rather than let a guest
         * forge line errors. */
        break;
    case UART_MSR: break; /* read-only in practice, same reasoning */
    case UART_SCR: u->scr = val; break;
    }
    /* Runs what the write started (a byte into the TSR: in fast timing
     * its whole journey) and arms the timer for the rest. */
    tx_catch_up(u);
    update_irq(u);
}

static const struct mem_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
};

/* ------------------------------------------------------------ lifecycle */

void uart_reset(struct uart *u)
{
    /* PC16550D "UART Reset Configuration" table. The divisor latch and
     * SCR are not affected by MR. */
    u->ier = 0;
    u->fcr = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->oe = false;
    u->thr_ipending = false;
    u->tsr_full = false;
    u->tx_head = u->tx_count = 0;
    memset(u->rx_flags, 0, sizeof(u->rx_flags));
    rx_clear(u);
    vtimer_cancel(u->tx_timer);
    vtimer_cancel(u->break_timer);
    u->break_on = false;
    u->msr = modem_lines(u); /* bits 3:0 low after reset */
    update_irq(u);
}

void uart_set_timing(struct uart *u, enum uart_timing timing)
{
    u->timing = timing == UART_TIMING_LINE ? UART_TIMING_LINE : UART_TIMING_FAST;
}

void uart_flush(struct uart *u)
{
    tx_catch_up(u);
    uint64_t now = vclock_ns(u->clk);
    while (u->tsr_full) {
        u->tsr_full = false;
        shift_out(u, u->tsr, now);
        if (u->tx_count)
            tsr_load(u, now);
    }
    vtimer_cancel(u->tx_timer);
    update_irq(u);
}

struct uart *uart_new(struct io_space *io, uint16_t base, struct vclock *clk,
                      struct irq_line *irq, struct chardev *chr)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->io = io;
    u->clk = clk;
    if (irq)
        u->irq = *irq;
    u->chr = chr;
    u->base = base;
    u->timing = UART_TIMING_FAST;
    u->dll = 12; /* 9600 baud until the BIOS or the OS programs it */
    u->tx_timer = vtimer_new(clk, tx_timer_cb, u);
    u->timeout_timer = vtimer_new(clk, timeout_timer_cb, u);
    u->break_timer = vtimer_new(clk, break_timer_cb, u);
    if (!u->tx_timer || !u->timeout_timer || !u->break_timer ||
        io_register(io, base, UART_PORTS, &uart_ops, u) != 0) {
        vtimer_free(u->tx_timer);
        vtimer_free(u->timeout_timer);
        vtimer_free(u->break_timer);
        free(u);
        return NULL;
    }
    uart_reset(u);
    if (chr)
        chardev_attach(chr, uart_can_receive, uart_receive, u);
    return u;
}

void uart_free(struct uart *u)
{
    if (!u)
        return;
    if (u->chr)
        chardev_attach(u->chr, NULL, NULL, NULL);
    vtimer_free(u->tx_timer);
    vtimer_free(u->timeout_timer);
    vtimer_free(u->break_timer);
    free(u);
}
