/*
 * test_uart.c — the 16550A of hw/uart.c driven through its ports on a bare
 * io_space with a manual clock: reset values, divisor latch and character
 * time, transmit timing and FIFO, THRE interrupt semantics as Linux's 8250
 * driver expects them, receive trigger levels and the character timeout,
 * IIR priorities, loopback (data, modem lines, break), overrun, OUT2
 * gating, and what Linux's autoconfig probes. Tests that call
 * setup_115200 run with the line's true timing (UART_TIMING_LINE); the
 * others, and the uart_fast tests, with the default zero transmit time.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "hw/uart.h"

#define B UART_COM1_BASE

struct tirq {
    int level;
    int raises; /* low -> high transitions */
};

static void tirq_fn(void *opaque, int n, int level)
{
    struct tirq *t = opaque;
    (void)n;
    if (level && !t->level)
        t->raises++;
    t->level = level;
}

struct tchr {
    uint8_t out[8192];
    size_t len;
};

static void tchr_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct tchr *t = opaque;
    for (size_t i = 0; i < len && t->len < sizeof(t->out); i++)
        t->out[t->len++] = buf[i];
}

static struct io_space *io;
static struct vclock *clk;
static struct tirq tirq;
static struct tchr tchr;
static struct chardev chr;
static struct uart *u;

static void setup(void)
{
    io = io_new();
    clk = vclock_new_manual();
    memset(&tirq, 0, sizeof(tirq));
    memset(&tchr, 0, sizeof(tchr));
    memset(&chr, 0, sizeof(chr));
    chr.write = tchr_write;
    chr.be_opaque = &tchr;
    struct irq_line line;
    irq_connect(&line, tirq_fn, &tirq, 4);
    u = uart_new(io, B, clk, &line, &chr);
    cr_assert_not_null(u);
}

static void teardown(void)
{
    uart_free(u);
    vclock_free(clk);
    io_free(io);
}

static uint8_t rd(unsigned reg)
{
    return (uint8_t)io_read(io, (uint16_t)(B + reg), 1);
}

static void wr(unsigned reg, uint8_t v)
{
    io_write(io, (uint16_t)(B + reg), v, 1);
}

/* 115200 baud, 8N1, true timing: one character = 10 bits = 86805 ns. */
static uint64_t setup_115200(void)
{
    uart_set_timing(u, UART_TIMING_LINE);
    wr(UART_LCR, UART_LCR_DLAB);
    wr(UART_DLL, 1);
    wr(UART_DLM, 0);
    wr(UART_LCR, 0x03);
    return uart_char_time_ns(u);
}

static size_t push(const char *s)
{
    return chardev_push(&chr, (const uint8_t *)s, strlen(s));
}

TestSuite(uart, .init = setup, .fini = teardown);

Test(uart, reset_values)
{
    cr_assert_eq(rd(UART_IER), 0);
    cr_assert_eq(rd(UART_IIR), 0x01);
    cr_assert_eq(rd(UART_LCR), 0);
    cr_assert_eq(rd(UART_MCR), 0);
    cr_assert_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    cr_assert_eq(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
    wr(UART_SCR, 0x5a);
    cr_assert_eq(rd(UART_SCR), 0x5a);
    cr_assert_eq(tirq.level, 0);
    /* Unused bits read 0: IER 7:4, MCR 7:5. */
    wr(UART_IER, 0xf0);
    cr_assert_eq(rd(UART_IER), 0);
    wr(UART_MCR, 0xe0);
    cr_assert_eq(rd(UART_MCR), 0);
}

Test(uart, divisor_latch_and_char_time)
{
    wr(UART_LCR, 0x83);
    wr(UART_DLL, 0x0c);
    wr(UART_DLM, 0x01);
    cr_assert_eq(rd(UART_DLL), 0x0c);
    cr_assert_eq(rd(UART_DLM), 0x01);
    wr(UART_LCR, 0x03);
    cr_assert_eq(rd(UART_IER), 0, "DLM must not alias IER");
    /* The character time is the wire's whatever the timing.
     * divisor 0x10c = 268 -> 429.85 baud; 10 bits = 23263888 ns */
    cr_assert_eq(uart_char_time_ns(u), 10ull * 268 * 16 * NS_PER_SEC / UART_XTAL_HZ);
    cr_assert_eq(setup_115200(), 86805);
    /* 7E2: start + 7 + parity + 2 stop = 11 bits */
    wr(UART_LCR, 0x02 | UART_LCR_PARITY | UART_LCR_STOP);
    cr_assert_eq(uart_char_time_ns(u), 11ull * 16 * NS_PER_SEC / UART_XTAL_HZ);
    /* 5 bits with 1.5 stop bits: 1 + 5 + 1.5 = 7.5 bits */
    wr(UART_LCR, UART_LCR_STOP);
    cr_assert_eq(uart_char_time_ns(u), 15ull * 16 * NS_PER_SEC / (2 * UART_XTAL_HZ));
    uart_set_timing(u, UART_TIMING_FAST);
    wr(UART_LCR, 0x03);
    cr_assert_eq(uart_char_time_ns(u), 86805);
}

Test(uart, transmit_takes_a_character_time)
{
    uint64_t ct = setup_115200();
    wr(UART_THR, 'A');
    /* THR moved to the idle shift register at once. */
    cr_assert_eq(rd(UART_LSR) & 0x60, UART_LSR_THRE);
    wr(UART_THR, 'B');
    cr_assert_eq(rd(UART_LSR) & 0x60, 0);
    vclock_advance(clk, ct - 1);
    cr_assert_eq(tchr.len, 0);
    vclock_advance(clk, 1);
    cr_assert_eq(tchr.len, 1);
    cr_assert_eq(tchr.out[0], 'A');
    cr_assert_eq(rd(UART_LSR) & 0x60, UART_LSR_THRE);
    vclock_advance(clk, ct);
    cr_assert_eq(tchr.len, 2);
    cr_assert_eq(tchr.out[1], 'B');
    cr_assert_eq(rd(UART_LSR) & 0x60, UART_LSR_THRE | UART_LSR_TEMT);
}

Test(uart, polled_console_progresses_without_timers)
{
    /* The LSR read brings the transmitter up to date itself: the clock
     * is moved without running the timers' list in between (a host clock
     * between two board slices). */
    uint64_t ct = setup_115200();
    for (int i = 0; i < 5; i++) {
        while (!(rd(UART_LSR) & UART_LSR_THRE))
            vclock_advance(clk, ct / 4);
        wr(UART_THR, (uint8_t)('0' + i));
    }
    while ((rd(UART_LSR) & UART_LSR_TEMT) == 0)
        vclock_advance(clk, ct / 4);
    cr_assert_eq(tchr.len, 5);
    cr_assert_eq(memcmp(tchr.out, "01234", 5), 0);
}

Test(uart, tx_fifo_holds_16_and_drops_the_rest)
{
    uint64_t ct = setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE);
    cr_assert_eq(rd(UART_IIR) & 0xc0, 0xc0);
    for (int i = 0; i < 20; i++)
        wr(UART_THR, (uint8_t)('a' + i));
    /* 1 in the shift register + 16 in the FIFO; 3 lost. */
    vclock_advance(clk, 100 * ct);
    cr_assert_eq(tchr.len, 17);
    cr_assert_eq(memcmp(tchr.out, "abcdefghijklmnopq", 17), 0);
    cr_assert_eq(rd(UART_LSR) & 0x60, 0x60);
}

Test(uart, thre_interrupt_semantics)
{
    uint64_t ct = setup_115200();
    wr(UART_MCR, UART_MCR_OUT2);
    cr_assert_eq(tirq.level, 0);
    /* Enabling ETBEI with THR empty raises it. */
    wr(UART_IER, UART_IER_ETBEI);
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI);
    /* Reading IIR while it is the source clears it. */
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
    /* Linux's THRE test: IER=0, IER=THRI, IIR shows THRI again. */
    wr(UART_IER, 0);
    wr(UART_IER, UART_IER_ETBEI);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI);
    /* A write to THR clears it; THR empties into the shift register at
     * once, which raises it again; a second byte waits in THR. */
    wr(UART_THR, 'x');
    cr_assert_eq(tirq.level, 1);
    wr(UART_THR, 'y');
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
    int raises = tirq.raises;
    vclock_advance(clk, ct);
    cr_assert_eq(tirq.level, 1, "THR emptied again after one character");
    cr_assert_eq(tirq.raises, raises + 1);
    /* Disabling ETBEI drops the line without reading IIR. */
    wr(UART_IER, 0);
    cr_assert_eq(tirq.level, 0);
}

Test(uart, out2_gates_the_irq_line)
{
    wr(UART_IER, UART_IER_ETBEI);
    cr_assert_eq(tirq.level, 0);
    wr(UART_MCR, UART_MCR_OUT2);
    cr_assert_eq(tirq.level, 1);
    wr(UART_MCR, 0);
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI, "IIR still shows it");
}

Test(uart, rx_trigger_level)
{
    setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE | 0x40); /* trigger 4 */
    wr(UART_IER, UART_IER_ERBFI);
    wr(UART_MCR, UART_MCR_OUT2);
    cr_assert_eq(push("abc"), 3);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(push("d"), 1);
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_RDI);
    cr_assert_eq(rd(UART_RBR), 'a');
    cr_assert_eq(tirq.level, 0, "below the trigger level again");
    cr_assert_eq(rd(UART_RBR), 'b');
    cr_assert_eq(rd(UART_RBR), 'c');
    cr_assert_eq(rd(UART_RBR), 'd');
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    /* Trigger levels 8 and 14. */
    wr(UART_FCR, UART_FCR_ENABLE | 0x80);
    push("1234567");
    cr_assert_eq(tirq.level, 0);
    push("8");
    cr_assert_eq(tirq.level, 1);
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | 0xc0);
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "FCR bit 1 cleared the FIFO");
    push("1234567890123");
    cr_assert_eq(tirq.level, 0);
    push("4");
    cr_assert_eq(tirq.level, 1);
}

Test(uart, rx_fifo_room_and_16450_mode)
{
    wr(UART_FCR, UART_FCR_ENABLE);
    cr_assert_eq(push("0123456789abcdefXYZ"), 16);
    cr_assert_eq(push("X"), 0);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(rd(UART_RBR), "0123456789abcdef"[i]);
    /* Empty: RBR keeps its last value. */
    cr_assert_eq(rd(UART_RBR), 'f');
    wr(UART_FCR, 0);
    cr_assert_eq(rd(UART_IIR) & 0xc0, 0);
    cr_assert_eq(push("pq"), 1);
    cr_assert_eq(rd(UART_RBR), 'p');
    cr_assert_eq(push("q"), 1);
}

Test(uart, character_timeout)
{
    uint64_t ct = setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE | 0x80); /* trigger 8 */
    wr(UART_IER, UART_IER_ERBFI);
    wr(UART_MCR, UART_MCR_OUT2);
    push("ab");
    vclock_advance(clk, 4 * ct - 1);
    cr_assert_eq(tirq.level, 0);
    vclock_advance(clk, 1);
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
    cr_assert_eq(rd(UART_RBR), 'a');
    cr_assert_eq(tirq.level, 0, "reading RBR clears the timeout");
    /* One byte left: the timer restarted at the read. */
    vclock_advance(clk, 4 * ct - 1);
    cr_assert_eq(tirq.level, 0);
    vclock_advance(clk, 1);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
    cr_assert_eq(rd(UART_RBR), 'b');
    vclock_advance(clk, 100 * ct);
    cr_assert_eq(tirq.level, 0, "an empty FIFO has no timeout");
    cr_assert_eq(rd(UART_IIR), 0xc1);
    /* A new byte restarts the count. */
    push("c");
    vclock_advance(clk, 3 * ct);
    push("d");
    vclock_advance(clk, 3 * ct);
    cr_assert_eq(tirq.level, 0);
    vclock_advance(clk, ct);
    cr_assert_eq(tirq.level, 1);
}

Test(uart, no_timeout_in_16450_mode)
{
    uint64_t ct = setup_115200();
    wr(UART_IER, UART_IER_ERBFI);
    wr(UART_MCR, UART_MCR_OUT2);
    push("a");
    cr_assert_eq(rd(UART_IIR), UART_IIR_RDI);
    vclock_advance(clk, 10 * ct);
    cr_assert_eq(rd(UART_IIR), UART_IIR_RDI);
    rd(UART_RBR);
    cr_assert_eq(tirq.level, 0);
}

Test(uart, loopback_data_and_modem_lines)
{
    uint64_t ct = setup_115200();
    /* Linux autoconfig: MCR = LOOP | OUT2 | RTS -> MSR high nibble 0x90. */
    wr(UART_MCR, UART_MCR_LOOP | 0x0a);
    cr_assert_eq(rd(UART_MSR) & 0xf0, 0x90);
    wr(UART_MCR, UART_MCR_LOOP | 0x05);
    cr_assert_eq(rd(UART_MSR), UART_MSR_DSR | UART_MSR_RI | 0x0b,
                 "CTS, DSR, DCD changed; RI went on (no TERI)");
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
    cr_assert_eq(rd(UART_MSR), UART_MSR_DSR | UART_MSR_TERI);
    cr_assert_eq(rd(UART_MSR), UART_MSR_DSR, "deltas cleared by the read");
    /* Data goes to the receiver, not to the host. */
    cr_assert_eq(push("h"), 0, "host input is disconnected");
    wr(UART_THR, 'Z');
    vclock_advance(clk, ct);
    cr_assert_eq(tchr.len, 0);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    cr_assert_eq(rd(UART_RBR), 'Z');
    /* 7-bit words lose bit 7 on the way. */
    wr(UART_LCR, 0x02);
    wr(UART_THR, 0xff);
    vclock_advance(clk, ct);
    cr_assert_eq(rd(UART_RBR), 0x7f);
    /* Interrupts show in IIR but the PC's IRQ is off in loopback. */
    wr(UART_IER, UART_IER_EDSSI);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    cr_assert_eq(rd(UART_IIR), UART_IIR_MSI);
    cr_assert_eq(tirq.level, 0);
    rd(UART_MSR);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
    wr(UART_MCR, 0);
    cr_assert_eq(rd(UART_MSR) & 0xf0, 0xb0);
    cr_assert_eq(push("h"), 1);
}

Test(uart, loopback_overrun_and_line_status)
{
    uint64_t ct = setup_115200();
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_IER, UART_IER_ELSI);
    wr(UART_THR, '1');
    wr(UART_THR, '2');
    vclock_advance(clk, 2 * ct);
    /* 16450 mode: the second byte overwrote RBR and set OE. */
    cr_assert_eq(rd(UART_IIR), UART_IIR_RLSI);
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_OE, 0, "LSR read cleared OE");
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
    cr_assert_eq(rd(UART_RBR), '2');
    /* FIFO mode: the 17th byte is lost, the FIFO kept. */
    wr(UART_FCR, UART_FCR_ENABLE);
    for (int i = 0; i < 17; i++) {
        wr(UART_THR, (uint8_t)('A' + i));
        vclock_advance(clk, ct);
    }
    cr_assert_eq(rd(UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(rd(UART_RBR), 'A' + i);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
}

Test(uart, loopback_break)
{
    uint64_t ct = setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE);
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_LCR, 0x03 | UART_LCR_SBC);
    vclock_advance(clk, ct);
    uint8_t lsr = rd(UART_LSR);
    cr_assert_eq(lsr & (UART_LSR_DR | UART_LSR_BI | UART_LSR_FE | UART_LSR_FIFOE),
                 UART_LSR_DR | UART_LSR_BI | UART_LSR_FE | UART_LSR_FIFOE);
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_BI | UART_LSR_FIFOE), 0, "cleared by the read");
    cr_assert_eq(rd(UART_RBR), 0);
    vclock_advance(clk, 10 * ct);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0, "one break character per break");
}

Test(uart, iir_priorities)
{
    uint64_t ct = setup_115200();
    wr(UART_MCR, UART_MCR_LOOP);
    rd(UART_MSR);
    /* Overrun (line status) + data (RDA) + THRE + modem delta. */
    wr(UART_THR, '1');
    wr(UART_THR, '2');
    vclock_advance(clk, 2 * ct);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    wr(UART_IER, 0x0f);
    cr_assert_eq(rd(UART_IIR), UART_IIR_RLSI);
    rd(UART_LSR);
    cr_assert_eq(rd(UART_IIR), UART_IIR_RDI);
    rd(UART_RBR);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI);
    cr_assert_eq(rd(UART_IIR), UART_IIR_MSI);
    rd(UART_MSR);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
}

Test(uart, fifo_enable_clears_and_trigger_needs_fcr0)
{
    wr(UART_FCR, UART_FCR_ENABLE);
    push("abc");
    wr(UART_FCR, 0xc0); /* FCR0 = 0: FIFOs off and cleared, trigger not set */
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    cr_assert_eq(rd(UART_IIR), 0x01);
    wr(UART_FCR, UART_FCR_ENABLE);
    wr(UART_IER, UART_IER_ERBFI);
    push("a");
    cr_assert_eq(rd(UART_IIR), 0xc4, "trigger level 1");
}

Test(uart, linux_autoconfig_probes)
{
    /* Scratch, IER readback. */
    wr(UART_IER, 0x0f);
    cr_assert_eq(rd(UART_IER), 0x0f);
    wr(UART_IER, 0);
    /* FIFO type: IIR bits 7:6 = 11 -> 16550A. */
    wr(UART_FCR, UART_FCR_ENABLE);
    cr_assert_eq(rd(UART_IIR) >> 6, 3);
    /* 16650 probe: LCR = 0xBF makes +2 EFR on those; on a 16550A it is
     * still IIR, non-zero. */
    wr(UART_LCR, 0xbf);
    cr_assert_neq(rd(2), 0);
    /* 16750 probe: FCR bit 5 must not give a 64-byte FIFO (IIR bit 5). */
    wr(UART_LCR, 0x80);
    wr(UART_FCR, UART_FCR_ENABLE | 0x20);
    wr(UART_LCR, 0);
    cr_assert_eq(rd(UART_IIR) & 0x20, 0);
}

Test(uart, reset_and_hostile_guest)
{
    wr(UART_FCR, UART_FCR_ENABLE);
    for (int i = 0; i < 5000; i++) {
        wr((unsigned)(i % 8), (uint8_t)(i * 37));
        rd((unsigned)((i * 3) % 8));
        if (i % 64 == 0)
            vclock_advance(clk, 1000);
    }
    io_write(io, B, 0x41424344, 4);
    (void)io_read(io, B + 6, 4);
    uart_reset(u);
    cr_assert_eq(rd(UART_IIR), 0x01);
    cr_assert_eq(rd(UART_LCR), 0);
    cr_assert_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    cr_assert_eq(tirq.level, 0);
    cr_assert_str_eq(uart_state_desc.name, "uart16550a");
}

/* ------------------------------------------------------------ timing */

/* Linux's 8250 interrupt handler (serial8250_handle_irq in the loop of
 * serial8250_interrupt): read IIR; on THRE write up to tx_loadsz (16)
 * bytes and, once the buffer is empty, stop (ETBEI off); go round while
 * IIR shows an interrupt, at most PASS_LIMIT (512) times. Returns the
 * passes that found an interrupt. */
static unsigned linux_8250_irq(const uint8_t *buf, size_t *pos, size_t len)
{
    unsigned passes = 0;
    while (passes < 512) {
        uint8_t iir = rd(UART_IIR);
        if (iir & UART_IIR_NO_INT)
            break;
        passes++;
        if ((iir & UART_IIR_ID_MASK) == UART_IIR_THRI) {
            for (int n = 0; n < 16 && *pos < len; n++)
                wr(UART_THR, buf[(*pos)++]);
            if (*pos == len)
                wr(UART_IER, rd(UART_IER) & ~UART_IER_ETBEI);
        }
    }
    return passes;
}

static void fill_pattern(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + i / 256);
}

/* In these tests the clock never moves unless the test moves it: what
 * the fast timing does, it does inside the port accesses. */

Test(uart, fast_timing_sends_at_once)
{
    wr(UART_THR, 'A');
    cr_assert_eq(tchr.len, 1, "the byte reached the host end inside the write");
    cr_assert_eq(tchr.out[0], 'A');
    cr_assert_eq(rd(UART_LSR) & 0x60, UART_LSR_THRE | UART_LSR_TEMT);
    /* 16450 mode: THR is empty again at every write, nothing is
     * overwritten. */
    for (int i = 0; i < 40; i++)
        wr(UART_THR, (uint8_t)('a' + i % 26));
    cr_assert_eq(tchr.len, 41);
    /* FIFO mode: the FIFO never fills, no 17th byte is lost. */
    wr(UART_FCR, UART_FCR_ENABLE);
    for (int i = 0; i < 1000; i++) {
        wr(UART_THR, (uint8_t)i);
        cr_assert_eq(rd(UART_LSR) & 0x60, UART_LSR_THRE | UART_LSR_TEMT);
    }
    cr_assert_eq(tchr.len, 1041);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tchr.out[41 + i], (uint8_t)i);
    cr_assert_eq(vclock_time_to_next(clk), UINT64_MAX, "no timer left armed");
}

Test(uart, fast_thre_interrupt_is_an_edge_per_write)
{
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_ETBEI);
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(tirq.raises, 1);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI);
    cr_assert_eq(tirq.level, 0, "reading IIR cleared it");
    /* A THR write clears it, THR empties at once and sets it again: IIR
     * shows it until read. */
    wr(UART_THR, 'x');
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(tirq.raises, 2);
    cr_assert_eq(rd(UART_IIR), UART_IIR_THRI);
    cr_assert_eq(rd(UART_IIR), UART_IIR_NO_INT);
    /* A driver that answers each THRE interrupt with a THR write and never
     * reads IIR: the line is high at each write, and each write must give
     * the (edge-triggered) PIC a new rising edge, as the real THRE does a
     * character later; a level that never moved would stall it. */
    wr(UART_THR, 'y');
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(tirq.level, 1);
        wr(UART_THR, (uint8_t)('0' + i));
        cr_assert_eq(tirq.raises, 4 + i);
    }
    /* The same in FIFO mode. */
    wr(UART_FCR, UART_FCR_ENABLE);
    int r = tirq.raises;
    for (int i = 0; i < 20; i++)
        wr(UART_THR, (uint8_t)i);
    cr_assert_eq(tirq.raises, r + 20);
    /* With a higher source pending the line stays high: INTR is one pin
     * for all sources (no edge). */
    wr(UART_IER, UART_IER_ETBEI | UART_IER_ERBFI);
    push("k");
    r = tirq.raises;
    wr(UART_THR, 'z');
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(tirq.raises, r);
    rd(UART_RBR);
    /* Nothing comes back by itself once the guest stops writing. */
    cr_assert_eq(rd(UART_IIR) & 0x0f, UART_IIR_THRI);
    cr_assert_eq(tirq.level, 0);
    vclock_advance(clk, NS_PER_SEC);
    cr_assert_eq(tirq.level, 0);
    cr_assert_eq(tirq.raises, r);
    cr_assert_eq(tchr.len, 33);
}

Test(uart, fast_linux_tx_burst_in_one_interrupt)
{
    static uint8_t buf[4096]; /* a tty's transmit buffer (UART_XMIT_SIZE) */
    fill_pattern(buf, sizeof(buf));
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX | 0x80);
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    /* start_tx: ETBEI on with THR empty raises the interrupt. */
    wr(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
    cr_assert_eq(tirq.level, 1);
    size_t pos = 0;
    unsigned passes = linux_8250_irq(buf, &pos, sizeof(buf));
    /* One interrupt moved it all, 16 bytes a pass, inside PASS_LIMIT. */
    cr_assert_eq(pos, sizeof(buf));
    cr_assert_eq(passes, sizeof(buf) / 16);
    cr_assert_eq(tchr.len, sizeof(buf));
    cr_assert_eq(memcmp(tchr.out, buf, sizeof(buf)), 0);
    /* Stopped: line low, nothing pending, nothing comes back by itself
     * (no storm); the edge the PIC latched meanwhile finds IIR quiet. */
    cr_assert_eq(tirq.level, 0);
    int r = tirq.raises;
    vclock_advance(clk, NS_PER_SEC);
    cr_assert_eq(tirq.raises, r);
    cr_assert_eq(linux_8250_irq(buf, &pos, sizeof(buf)), 0);
}

Test(uart, line_linux_tx_paced_by_the_baud_rate)
{
    static uint8_t buf[1024];
    fill_pattern(buf, sizeof(buf));
    uint64_t ct = setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX | 0x80);
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    uint64_t t0 = vclock_ns(clk);
    wr(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
    size_t pos = 0;
    unsigned irqs = 0;
    while (pos < sizeof(buf) && irqs < 1000) {
        for (int n = 0; !tirq.level && n < 1000; n++)
            vclock_advance(clk, ct / 8);
        cr_assert_eq(tirq.level, 1, "THRE came back when the FIFO emptied");
        irqs++;
        /* The FIFO holds what was written: IIR is quiet after one pass. */
        cr_assert_eq(linux_8250_irq(buf, &pos, sizeof(buf)), 1);
        cr_assert_eq(tirq.level, 0);
    }
    cr_assert_eq(irqs, sizeof(buf) / 16);
    while (!(rd(UART_LSR) & UART_LSR_TEMT))
        vclock_advance(clk, ct / 8);
    cr_assert_eq(tchr.len, sizeof(buf));
    cr_assert_eq(memcmp(tchr.out, buf, sizeof(buf)), 0);
    uint64_t took = vclock_ns(clk) - t0;
    cr_assert(took >= sizeof(buf) * ct && took < (sizeof(buf) + 32) * ct,
              "%llu ns for %zu characters of %llu ns", (unsigned long long)took, sizeof(buf),
              (unsigned long long)ct);
}

Test(uart, fast_rx_timeout_counts_true_character_times)
{
    /* The reset divisor, 12: 9600 baud; 8N1. */
    wr(UART_LCR, 0x03);
    uint64_t ct = uart_char_time_ns(u);
    cr_assert_eq(ct, 10ull * 12 * 16 * NS_PER_SEC / UART_XTAL_HZ);
    wr(UART_FCR, UART_FCR_ENABLE | 0x80); /* trigger 8 */
    wr(UART_IER, UART_IER_ERBFI);
    wr(UART_MCR, UART_MCR_OUT2);
    push("ab");
    vclock_advance(clk, 4 * ct - 1);
    cr_assert_eq(tirq.level, 0);
    vclock_advance(clk, 1);
    cr_assert_eq(tirq.level, 1);
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_CTI);
    /* A full trigger level does not wait. */
    push("cdefgh");
    cr_assert_eq(rd(UART_IIR), 0xc0 | UART_IIR_RDI);
}

Test(uart, fast_loopback_and_break)
{
    wr(UART_LCR, 0x03);
    uint64_t ct = uart_char_time_ns(u);
    wr(UART_FCR, UART_FCR_ENABLE);
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_THR, 'Z');
    cr_assert_eq(rd(UART_LSR) & 0x61, 0x61, "sent and received inside the write");
    cr_assert_eq(rd(UART_RBR), 'Z');
    /* Sixteen fill the receive FIFO, the seventeenth overruns it. */
    for (int i = 0; i < 17; i++)
        wr(UART_THR, (uint8_t)('A' + i));
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(rd(UART_RBR), 'A' + i);
    cr_assert_eq(tchr.len, 0);
    /* A break is seen by the receiver after one true character time. */
    wr(UART_LCR, 0x03 | UART_LCR_SBC);
    vclock_advance(clk, ct - 1);
    cr_assert_eq(rd(UART_LSR) & UART_LSR_DR, 0);
    vclock_advance(clk, 1);
    cr_assert_eq(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_BI), UART_LSR_DR | UART_LSR_BI);
}

Test(uart, flush_sends_what_the_transmitter_holds)
{
    uint64_t ct = setup_115200();
    wr(UART_FCR, UART_FCR_ENABLE);
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_ETBEI);
    rd(UART_IIR);
    for (int i = 0; i < 10; i++)
        wr(UART_THR, (uint8_t)('0' + i));
    cr_assert_eq(tchr.len, 0);
    cr_assert_eq(tirq.level, 0);
    uart_flush(u);
    cr_assert_eq(tchr.len, 10);
    cr_assert_eq(memcmp(tchr.out, "0123456789", 10), 0);
    cr_assert_eq(rd(UART_LSR) & 0x60, 0x60);
    cr_assert_eq(tirq.level, 1, "the FIFO emptied: THRE interrupt");
    vclock_advance(clk, 100 * ct);
    cr_assert_eq(tchr.len, 10, "nothing sent twice");
    uart_flush(u);
    cr_assert_eq(tchr.len, 10);
}

Test(uart_nochr, works_without_a_backend)
{
    struct io_space *io2 = io_new();
    struct vclock *c2 = vclock_new_manual();
    struct uart *u2 = uart_new(io2, UART_COM2_BASE, c2, NULL, NULL);
    cr_assert_not_null(u2);
    io_write(io2, UART_COM2_BASE, 'x', 1);
    vclock_advance(c2, NS_PER_SEC);
    cr_assert_eq(io_read(io2, UART_COM2_BASE + UART_LSR, 1), 0x60);
    uart_free(u2);
    vclock_free(c2);
    io_free(io2);
}
