/*
 * hw/rtc.h — Motorola MC146818A real-time clock with its 128 bytes of CMOS
 * RAM, at ports 0x70 (index; bit 7 masks NMI) and 0x71 (data), IRQ 8.
 */
#ifndef GLASS_HW_RTC_H
#define GLASS_HW_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "hw/dev.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_CMOS_SIZE 128

/* Register numbers (MC146818A, "Address map"). */
enum {
    RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02, RTC_MIN_ALARM = 0x03,
    RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05, RTC_WDAY = 0x06, RTC_MDAY = 0x07,
    RTC_MONTH = 0x08, RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
    RTC_CENTURY = 0x32, /* the PC/AT BIOS convention (BCD) */
};

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04   /* 1 = binary, 0 = BCD */
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

struct rtc;

/*
 * Builds the clock on `io`. `irq` is IRQ 8's wire. `base` is the date and
 * time the clock shows at virtual time "now" (the board passes the host's
 * wall time; tests pass a fixed date); NULL means 2000-01-01 00:00:00.
 * The registers come up as a PC BIOS leaves them: A = 0x26 (32.768 kHz,
 * 1024 Hz periodic rate), B = 0x02 (24-hour, BCD), D = VRT.
 */
struct rtc *rtc_new(struct io_space *io, struct vclock *clk, struct irq_line irq,
                    const struct tm *base);
void rtc_free(struct rtc *rtc);

/* Port 0x70 bit 7 as last written: NMI is masked while it is set. */
bool rtc_nmi_masked(const struct rtc *rtc);

/* NVRAM for the board/firmware (idx < 128; others are ignored / read 0). */
void rtc_cmos_set(struct rtc *rtc, uint8_t idx, uint8_t val);
uint8_t rtc_cmos_get(const struct rtc *rtc, uint8_t idx);
/*
 * Fills the memory-size bytes PC BIOSes keep in CMOS, then the checksum:
 * 0x15/0x16 base memory in KiB (640), 0x17/0x18 and 0x30/0x31 KiB above
 * 1 MiB (at most 65535), 0x34/0x35 64 KiB units above 16 MiB (at most
 * 0xFFFF), 0x5B-0x5D 64 KiB units above 4 GiB. `below_4g` is the RAM
 * size up to the PCI hole, `above_4g` what is mapped from 4 GiB up.
 */
void rtc_cmos_set_memory(struct rtc *rtc, uint64_t below_4g, uint64_t above_4g);
/* Stores at 0x2E (high) / 0x2F (low) the 16-bit sum of bytes 0x10-0x2D,
 * the IBM PC/AT standard CMOS checksum. */
void rtc_cmos_update_checksum(struct rtc *rtc);

extern const struct dev_state_desc rtc_state_desc;

#endif
