/*
 * hw/rtc.c — Motorola MC146818A real-time clock plus CMOS RAM, as wired in
 * the IBM PC/AT: index port 0x70 (bit 7 of a write gates NMI, a board
 * function), data port 0x71, interrupt output on IRQ 8.
 *
 * The time and date registers themselves are the clock's state, as in the
 * chip: an update cycle reads them, adds one second and writes them back
 * in the data mode selected by register B. A guest that switches BCD/binary
 * or 12/24-hour mode without rewriting the registers sees what the chip
 * would show, and writing the registers (with SET=1, or at any time) makes
 * the clock continue from the written time. Once-per-second update cycles
 * run from a virtual timer aligned to the divider chain; the periodic
 * interrupt runs from a second timer only while PIE is set (otherwise PF
 * is worked out when register C is read, so an idle 8 kHz rate costs no
 * host time).
 */
#include <stdlib.h>
#include <string.h>

#include "hw/rtc.h"

/* 32.768 kHz time base (datasheet "Divider stages"); UIP leads the update
 * cycle by 244 us (datasheet "Update cycle", tBUC). */
#define RTC_HZ 32768u
#define RTC_UIP_LEAD_NS 244000u
/* Leaving divider reset: the first update is half a second later
 * (datasheet, register A description of DV2-DV0). */
#define RTC_FIRST_UPDATE_NS (NS_PER_SEC / 2)

struct rtc {
    struct vclock *clk;
    struct irq_line irq;
    struct vtimer *update_timer;
    struct vtimer *periodic_timer;

    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    bool nmi_masked;
    bool irq_level;
    bool dse_fall_done;   /* the October fall-back happened today */
    uint64_t div_base_ns; /* virtual time the divider chain last left reset */
    uint64_t next_update_ns;
    uint64_t pf_seen_ns;  /* PF accounted for up to this time (PIE=0) */
};

#define F(name, type, member, count) { name, type, offsetof(struct rtc, member), count }
static const struct dev_field rtc_fields[] = {
    F("cmos", DEV_FIELD_BYTES, cmos, RTC_CMOS_SIZE),
    F("index", DEV_FIELD_U8, index, 1),
    F("nmi_masked", DEV_FIELD_BOOL, nmi_masked, 1),
    F("irq_level", DEV_FIELD_BOOL, irq_level, 1),
    F("dse_fall_done", DEV_FIELD_BOOL, dse_fall_done, 1),
    F("div_base_ns", DEV_FIELD_U64, div_base_ns, 1),
    F("next_update_ns", DEV_FIELD_U64, next_update_ns, 1),
    F("pf_seen_ns", DEV_FIELD_U64, pf_seen_ns, 1),
    F("update_timer", DEV_FIELD_TIMER, update_timer, 1),
    F("periodic_timer", DEV_FIELD_TIMER, periodic_timer, 1),
    { NULL, 0, 0, 0 },
};
#undef F

const struct dev_state_desc rtc_state_desc = { "mc146818", 1, rtc_fields };

/* ---- time base arithmetic (no overflow for any 64-bit ns value) ---- */

static uint64_t ns_to_ticks(uint64_t ns)
{
    return (ns / NS_PER_SEC) * RTC_HZ + (ns % NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

/* The first nanosecond at or after tick `t`. */
static uint64_t ticks_to_ns(uint64_t t)
{
    return (t / RTC_HZ) * NS_PER_SEC + ((t % RTC_HZ) * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

/* The divider runs for DV = 000/001/010 (time bases for 4.19 MHz,
 * 1.05 MHz, 32.768 kHz crystals; we emulate the PC's 32.768 kHz crystal
 * whatever the guest selects) and the test modes; 11x holds it in reset. */
static bool divider_running(const struct rtc *rtc)
{
    return ((rtc->cmos[RTC_REG_A] >> 4) & 6) != 6;
}

/* Periodic interrupt period in 32.768 kHz ticks for rate select RS3-RS0
 * (datasheet table "Periodic interrupt rate"): 0 = none; 1 and 2 repeat
 * the 256 Hz and 128 Hz taps; 3..15 give 8192 Hz down to 2 Hz. */
static uint32_t periodic_ticks(const struct rtc *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & 0x0f;
    if (rs == 0 || !divider_running(rtc))
        return 0;
    if (rs <= 2)
        return 1u << (rs + 6);
    return 1u << (rs - 1);
}

/* ---- interrupt output ---- */

static void update_irq(struct rtc *rtc)
{
    uint8_t c = rtc->cmos[RTC_REG_C] & 0x70;
    uint8_t b = rtc->cmos[RTC_REG_B];
    /* IRQF = PF.PIE + AF.AIE + UF.UIE (datasheet, register C). */
    bool level = (c & b & (RTC_C_PF | RTC_C_AF | RTC_C_UF)) != 0;
    if (level)
        rtc->cmos[RTC_REG_C] |= RTC_C_IRQF;
    else
        rtc->cmos[RTC_REG_C] &= (uint8_t)~RTC_C_IRQF;
    if (level != rtc->irq_level) {
        rtc->irq_level = level;
        irq_set(&rtc->irq, level);
    }
}

/* ---- periodic interrupt ---- */

/* Index of the last periodic edge at or before `ns`. */
static uint64_t periodic_edge(const struct rtc *rtc, uint64_t ns, uint32_t period)
{
    if (ns < rtc->div_base_ns)
        return 0;
    return ns_to_ticks(ns - rtc->div_base_ns) / period;
}

/* With PIE clear the timer is off: set PF if an edge went by since the
 * last look. */
static void pf_sync(struct rtc *rtc)
{
    uint64_t now = vclock_ns(rtc->clk);
    uint32_t period = periodic_ticks(rtc);
    if (period && !(rtc->cmos[RTC_REG_B] & RTC_B_PIE) &&
        periodic_edge(rtc, now, period) > periodic_edge(rtc, rtc->pf_seen_ns, period))
        rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    rtc->pf_seen_ns = now;
}

static void periodic_rearm(struct rtc *rtc)
{
    uint32_t period = periodic_ticks(rtc);
    if (!period || !(rtc->cmos[RTC_REG_B] & RTC_B_PIE)) {
        vtimer_cancel(rtc->periodic_timer);
        return;
    }
    uint64_t now = vclock_ns(rtc->clk);
    uint64_t k = periodic_edge(rtc, now, period) + 1;
    vtimer_arm(rtc->periodic_timer, rtc->div_base_ns + ticks_to_ns(k * period));
}

static void periodic_fire(void *opaque)
{
    struct rtc *rtc = opaque;
    rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    rtc->pf_seen_ns = vclock_ns(rtc->clk);
    update_irq(rtc);
    periodic_rearm(rtc);
}

/* ---- calendar ---- */

static bool binary_mode(const struct rtc *rtc)
{
    return rtc->cmos[RTC_REG_B] & RTC_B_DM;
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0x0f);
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned rd(const struct rtc *rtc, unsigned reg)
{
    uint8_t v = rtc->cmos[reg];
    return binary_mode(rtc) ? v : from_bcd(v);
}

static void wr(struct rtc *rtc, unsigned reg, unsigned v)
{
    rtc->cmos[reg] = binary_mode(rtc) ? (uint8_t)v : to_bcd(v);
}

/* Hours as 0-23 whatever the mode; in 12-hour mode bit 7 is PM and the
 * hour runs 12, 1, ..., 11 (datasheet, "Time, calendar and alarm"). */
static unsigned rd_hour(const struct rtc *rtc, unsigned reg)
{
    uint8_t v = rtc->cmos[reg];
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return binary_mode(rtc) ? v : from_bcd(v);
    unsigned h = binary_mode(rtc) ? (v & 0x7fu) : from_bcd(v & 0x7f);
    return h % 12 + ((v & 0x80) ? 12 : 0);
}

static void wr_hour(struct rtc *rtc, unsigned reg, unsigned h)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H) {
        wr(rtc, reg, h);
        return;
    }
    unsigned h12 = h % 12 ? h % 12 : 12;
    wr(rtc, reg, h12);
    if (h >= 12)
        rtc->cmos[reg] |= 0x80;
}

static unsigned full_year(const struct rtc *rtc)
{
    unsigned c = from_bcd(rtc->cmos[RTC_CENTURY]);
    if (c < 19 || c > 99)
        c = 20;
    return c * 100 + rd(rtc, RTC_YEAR) % 100;
}

static unsigned days_in_month(unsigned mon, unsigned year)
{
    static const uint8_t dim[13] = { 31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return dim[mon <= 12 ? mon : 0];
}

/* One update cycle: the time advances a second (datasheet, "Update
 * cycle"), with the two daylight-saving jumps when DSE is set. */
static void advance_second(struct rtc *rtc)
{
    unsigned sec = rd(rtc, RTC_SEC), min = rd(rtc, RTC_MIN);
    unsigned hour = rd_hour(rtc, RTC_HOUR);
    unsigned wday = rd(rtc, RTC_WDAY), mday = rd(rtc, RTC_MDAY);
    unsigned mon = rd(rtc, RTC_MONTH), year = rd(rtc, RTC_YEAR);
    bool new_day = false;

    if (++sec >= 60) {
        sec = 0;
        if (++min >= 60) {
            min = 0;
            if (++hour >= 24) {
                hour = 0;
                new_day = true;
            }
        }
    }
    if (new_day) {
        wday = wday >= 7 ? 1 : wday + 1;
        if (++mday > days_in_month(mon, full_year(rtc))) {
            mday = 1;
            if (++mon > 12) {
                mon = 1;
                if (++year >= 100) {
                    year = 0;
                    /* The chip has no century; PC chipsets carry into the
                     * BIOS century byte, kept in BCD. */
                    unsigned c = from_bcd(rtc->cmos[RTC_CENTURY]);
                    rtc->cmos[RTC_CENTURY] = to_bcd(c + 1 <= 99 ? c + 1 : 0);
                }
            }
        }
    }
    /* DSE: on the last Sunday in April 1:59:59 AM goes to 3:00:00 AM; on
     * the last Sunday in October the first 1:59:59 AM goes to 1:00:00 AM. */
    if (rtc->cmos[RTC_REG_B] & RTC_B_DSE) {
        bool last_sunday = wday == 1 && mday + 7 > days_in_month(mon, 2000);
        if (min == 0 && sec == 0 && hour == 2 && last_sunday) {
            if (mon == 4) {
                hour = 3;
            } else if (mon == 10 && !rtc->dse_fall_done) {
                hour = 1;
                rtc->dse_fall_done = true;
            }
        }
        if (mon != 10)
            rtc->dse_fall_done = false;
    }
    wr(rtc, RTC_SEC, sec);
    wr(rtc, RTC_MIN, min);
    wr_hour(rtc, RTC_HOUR, hour);
    wr(rtc, RTC_WDAY, wday);
    wr(rtc, RTC_MDAY, mday);
    wr(rtc, RTC_MONTH, mon);
    wr(rtc, RTC_YEAR, year);
}

/* An alarm byte of 11xxxxxx matches anything ("don't care", datasheet
 * "Alarm"); otherwise it must equal the time byte as stored. */
static bool alarm_match(const struct rtc *rtc, unsigned alarm, unsigned time)
{
    uint8_t a = rtc->cmos[alarm];
    return (a & 0xc0) == 0xc0 || a == rtc->cmos[time];
}

static void update_fire(void *opaque)
{
    struct rtc *rtc = opaque;
    rtc->next_update_ns += NS_PER_SEC;
    vtimer_arm(rtc->update_timer, rtc->next_update_ns);
    /* SET=1 inhibits the update cycle: the time holds, no UF/AF. */
    if (rtc->cmos[RTC_REG_B] & RTC_B_SET)
        return;
    advance_second(rtc);
    rtc->cmos[RTC_REG_C] |= RTC_C_UF;
    if (alarm_match(rtc, RTC_SEC_ALARM, RTC_SEC) && alarm_match(rtc, RTC_MIN_ALARM, RTC_MIN) &&
        alarm_match(rtc, RTC_HOUR_ALARM, RTC_HOUR))
        rtc->cmos[RTC_REG_C] |= RTC_C_AF;
    update_irq(rtc);
}

/* ---- register file ---- */

static uint8_t reg_read(struct rtc *rtc, uint8_t idx)
{
    switch (idx) {
    case RTC_REG_A: {
        uint8_t a = rtc->cmos[RTC_REG_A] & 0x7f;
        uint64_t now = vclock_ns(rtc->clk);
        if (divider_running(rtc) && !(rtc->cmos[RTC_REG_B] & RTC_B_SET) &&
            now + RTC_UIP_LEAD_NS >= rtc->next_update_ns)
            a |= RTC_A_UIP;
        return a;
    }
    case RTC_REG_C: {
        /* Reading C clears every flag and releases IRQ 8. */
        pf_sync(rtc);
        uint8_t c = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        update_irq(rtc);
        return c;
    }
    case RTC_REG_D:
        return RTC_D_VRT; /* the battery is always good */
    default:
        return rtc->cmos[idx];
    }
}

static void reg_write(struct rtc *rtc, uint8_t idx, uint8_t val)
{
    switch (idx) {
    case RTC_REG_A: {
        bool was_running = divider_running(rtc);
        pf_sync(rtc);
        rtc->cmos[RTC_REG_A] = val & 0x7f; /* UIP is read-only */
        if (divider_running(rtc) && !was_running) {
            uint64_t now = vclock_ns(rtc->clk);
            rtc->div_base_ns = now;
            rtc->pf_seen_ns = now;
            rtc->next_update_ns = now + RTC_FIRST_UPDATE_NS;
            vtimer_arm(rtc->update_timer, rtc->next_update_ns);
        } else if (!divider_running(rtc)) {
            vtimer_cancel(rtc->update_timer);
        }
        periodic_rearm(rtc);
        break;
    }
    case RTC_REG_B:
        pf_sync(rtc);
        /* SET going to 1 clears UIE (datasheet, register B). */
        if (val & RTC_B_SET)
            val &= (uint8_t)~RTC_B_UIE;
        rtc->cmos[RTC_REG_B] = val;
        update_irq(rtc);
        periodic_rearm(rtc);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        rtc->cmos[idx] = val;
        break;
    }
}

static uint64_t rtc_io_read(void *opaque, uint64_t addr, unsigned size)
{
    struct rtc *rtc = opaque;
    (void)size;
    if (addr == RTC_PORT_INDEX)
        return 0xff; /* the index latch is write-only on the AT */
    return reg_read(rtc, rtc->index);
}

static void rtc_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct rtc *rtc = opaque;
    (void)size;
    if (addr == RTC_PORT_INDEX) {
        rtc->index = val & 0x7f;
        rtc->nmi_masked = (val & 0x80) != 0;
    } else {
        reg_write(rtc, rtc->index, (uint8_t)val);
    }
}

static const struct mem_ops rtc_ops = { .read = rtc_io_read, .write = rtc_io_write };

/* ---- public ---- */

struct rtc *rtc_new(struct io_space *io, struct vclock *clk, struct irq_line irq,
                    const struct tm *base)
{
    struct rtc *rtc = calloc(1, sizeof(*rtc));
    if (!rtc)
        return NULL;
    rtc->clk = clk;
    rtc->irq = irq;
    rtc->update_timer = vtimer_new(clk, update_fire, rtc);
    rtc->periodic_timer = vtimer_new(clk, periodic_fire, rtc);
    if (!rtc->update_timer || !rtc->periodic_timer ||
        io_register(io, RTC_PORT_INDEX, 2, &rtc_ops, rtc) != 0) {
        rtc_free(rtc);
        return NULL;
    }
    /* As a BIOS leaves it: 32.768 kHz divider, 1024 Hz rate; BCD 24-hour. */
    rtc->cmos[RTC_REG_A] = 0x26;
    rtc->cmos[RTC_REG_B] = RTC_B_24H;
    rtc->cmos[RTC_REG_D] = RTC_D_VRT;

    struct tm t = { .tm_year = 100, .tm_mday = 1, .tm_wday = 6 };
    if (base)
        t = *base;
    unsigned year = (unsigned)(t.tm_year + 1900);
    wr(rtc, RTC_SEC, t.tm_sec > 59 ? 59 : (unsigned)t.tm_sec);
    wr(rtc, RTC_MIN, (unsigned)t.tm_min % 60);
    wr_hour(rtc, RTC_HOUR, (unsigned)t.tm_hour % 24);
    wr(rtc, RTC_WDAY, (unsigned)t.tm_wday % 7 + 1);
    wr(rtc, RTC_MDAY, (unsigned)t.tm_mday % 32);
    wr(rtc, RTC_MONTH, (unsigned)t.tm_mon % 12 + 1);
    wr(rtc, RTC_YEAR, year % 100);
    rtc->cmos[RTC_CENTURY] = to_bcd(year / 100 % 100);

    uint64_t now = vclock_ns(clk);
    rtc->div_base_ns = now;
    rtc->pf_seen_ns = now;
    rtc->next_update_ns = now + NS_PER_SEC;
    vtimer_arm(rtc->update_timer, rtc->next_update_ns);
    return rtc;
}

void rtc_free(struct rtc *rtc)
{
    if (!rtc)
        return;
    if (rtc->update_timer)
        vtimer_free(rtc->update_timer);
    if (rtc->periodic_timer)
        vtimer_free(rtc->periodic_timer);
    free(rtc);
}

bool rtc_nmi_masked(const struct rtc *rtc)
{
    return rtc->nmi_masked;
}

void rtc_cmos_set(struct rtc *rtc, uint8_t idx, uint8_t val)
{
    if (idx < RTC_CMOS_SIZE && idx != RTC_REG_C && idx != RTC_REG_D)
        rtc->cmos[idx] = val;
}

uint8_t rtc_cmos_get(const struct rtc *rtc, uint8_t idx)
{
    return idx < RTC_CMOS_SIZE ? rtc->cmos[idx] : 0;
}

void rtc_cmos_update_checksum(struct rtc *rtc)
{
    uint16_t sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum = (uint16_t)(sum + rtc->cmos[i]);
    rtc->cmos[0x2e] = (uint8_t)(sum >> 8);
    rtc->cmos[0x2f] = (uint8_t)sum;
}

static void cmos_set16(struct rtc *rtc, uint8_t idx, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    rtc->cmos[idx] = (uint8_t)v;
    rtc->cmos[idx + 1] = (uint8_t)(v >> 8);
}

void rtc_cmos_set_memory(struct rtc *rtc, uint64_t below_4g, uint64_t above_4g)
{
    const uint64_t mib = 1ull << 20;
    cmos_set16(rtc, 0x15, 640);
    uint64_t ext_kib = below_4g > mib ? (below_4g - mib) >> 10 : 0;
    cmos_set16(rtc, 0x17, ext_kib);
    cmos_set16(rtc, 0x30, ext_kib);
    uint64_t above16 = below_4g > 16 * mib ? (below_4g - 16 * mib) >> 16 : 0;
    cmos_set16(rtc, 0x34, above16);
    uint64_t high = above_4g >> 16;
    if (high > 0xffffff)
        high = 0xffffff;
    rtc->cmos[0x5b] = (uint8_t)high;
    rtc->cmos[0x5c] = (uint8_t)(high >> 8);
    rtc->cmos[0x5d] = (uint8_t)(high >> 16);
    rtc_cmos_update_checksum(rtc);
}
