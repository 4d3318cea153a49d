/*
 * hw/ide_internal.h — private to hw/ide.c (the ATA channel: task file,
 * ATA commands, PIO/DMA data phases, ports) and hw/atapi.c (the ATAPI
 * packet device behind it): the channel and device state, and the helpers
 * each file calls in the other. The public API is hw/ide.h.
 */
#ifndef GLASS_HW_IDE_INTERNAL_H
#define GLASS_HW_IDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/ide.h"

/* Status register (ATA-6 7.15.6). */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80
/* Error register (ATA-6 7.11). */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC 0x40

#define IDE_BUF_SIZE (128u * 1024u) /* >= 256 sectors, >= 64 ATAPI sectors */

enum drive_kind { DRIVE_NONE, DRIVE_DISK, DRIVE_CDROM };

/* What the timer does when it fires. */
enum pending {
    PEND_NONE,
    PEND_EXEC,      /* run the command just written */
    PEND_PIO_NEXT,  /* ATA PIO: offer the next data block / write the last one */
    PEND_DMA,       /* ATA or ATAPI DMA: move the data */
    PEND_PACKET,    /* ATAPI: the 12-byte packet arrived */
    PEND_ATAPI_NEXT,/* ATAPI PIO: offer the next chunk */
    PEND_RESET,     /* SRST released: finish the reset */
};

/* What a DRQ data phase is for. */
enum xfer {
    XFER_NONE,
    XFER_PIO_IN,    /* ATA read to host */
    XFER_PIO_OUT,   /* ATA write from host */
    XFER_PACKET,    /* ATAPI command packet from host */
    XFER_ATAPI_IN,  /* ATAPI data to host */
};

struct ide_drive {
    uint8_t kind;     /* enum drive_kind */
    uint8_t status;
    uint8_t error;
    bool intrq;       /* the device asserts INTRQ (before nIEN gating) */
    /* Geometry (IDENTIFY words 1/3/6 and the current 54-56). */
    uint16_t cyls, heads, spt;
    uint16_t cur_heads, cur_spt;
    uint64_t sectors; /* disk: 512-byte sectors */
    uint8_t mult;     /* READ/WRITE MULTIPLE block size, 0 = disabled */
    uint8_t xfer_mode;/* SET FEATURES 03h value (08h|pio, 20h|mwdma, 40h|udma) */
    bool write_cache;
    bool standby;
    /* Command in progress. */
    uint8_t cmd;
    uint8_t pending;  /* enum pending */
    uint8_t xfer;     /* enum xfer */
    bool lba48;
    bool is_write;
    bool dma_wait;    /* DMA command waiting for the engine's Start bit */
    uint64_t lba;     /* next sector (ATA) or block (ATAPI) */
    uint32_t remaining; /* sectors (ATA) / blocks (ATAPI) still to move */
    uint32_t block;   /* sectors in the current DRQ block (ATA) */
    uint32_t pos, end; /* data port pointer in buf, end of the DRQ block */
    uint32_t fill;    /* ATAPI: valid bytes in buf (pos..fill unread) */
    uint64_t atapi_left; /* ATAPI: bytes of the response not yet sent */
    uint16_t bcl;     /* ATAPI byte count limit */
    bool atapi_dma;
    /* ATAPI. */
    uint8_t packet[12];
    uint8_t sense_key, asc, ascq;
    bool tray_open;
    bool locked;
    bool unit_attention;
    uint8_t media_event; /* GET EVENT STATUS media event code, 0 = none */
    struct block *blk;
    struct vtimer *timer; /* each device works on its own (DEVICE RESET, SRST) */
    struct ide_bus *bus;
    uint8_t buf[IDE_BUF_SIZE];
};

struct ide_bus {
    /* Command block shadow registers: both devices latch every write
     * (ATA-6 6.x); hob_* hold the previous value for 48-bit commands. */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select;   /* device/head */
    uint8_t devctl;
    bool irq_level;
    struct ide_drive drive[2];
    struct vclock *clk;
    struct irq_line irq;
    const struct ide_dma_ops *dma;
    void *dma_opaque;
};

/* hw/ide.c: shared with the packet device. */

/* The device asserts INTRQ (the line follows if it is selected and nIEN
 * is clear). */
void ide_raise_intrq(struct ide_bus *b, struct ide_drive *d);
/* Ends the command with ERR and `err` in the error register, and INTRQ. */
void ide_ata_error(struct ide_bus *b, struct ide_drive *d, uint8_t err);
/* Runs the DMA data phase now if the bus-master engine is started, or
 * shows DRQ and waits for ide_bus_dma_kick. */
void ide_dma_start_or_wait(struct ide_bus *b, struct ide_drive *d);
/* IDENTIFY data: the ATA string format, the words both device kinds
 * share, and the word-255 integrity signature copied with the words to buf. */
void ide_id_string(uint16_t *w, const char *s, unsigned words);
void ide_id_common(struct ide_bus *b, struct ide_drive *d, uint16_t *w);
void ide_id_finish(uint8_t *buf, uint16_t *w);

/* hw/atapi.c: the packet device, as the channel drives it. */

/* IDENTIFY PACKET DEVICE data into d->buf. */
void atapi_identify(struct ide_bus *b, struct ide_drive *d);
/* PACKET (A0h) written: DRQ for the 12-byte command packet. */
void atapi_cmd_packet(struct ide_bus *b, struct ide_drive *d);
/* The packet arrived (PEND_PACKET): run it. */
void atapi_command(struct ide_bus *b, struct ide_drive *d);
/* PIO data-in: offer the next chunk, or end the command (PEND_ATAPI_NEXT). */
void atapi_next_chunk(struct ide_bus *b, struct ide_drive *d);
/* DMA data-in with the engine started. */
void atapi_dma_run(struct ide_bus *b, struct ide_drive *d);

#endif
