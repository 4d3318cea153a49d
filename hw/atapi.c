/*
 * hw/atapi.c — the ATAPI CD-ROM behind an ATA channel (SFF-8020i, MMC-2
 * command set, sense data per SPC): the PACKET protocol's device side
 * (command packet, PIO data-in chunks bounded by the byte count limit,
 * DMA), and the commands: INQUIRY, REQUEST SENSE, READ(10)/(12)/CD of
 * 2048-byte Mode 1 sectors, READ CAPACITY, READ TOC (formats 0-2), MODE
 * SENSE(10), GET CONFIGURATION, GET EVENT STATUS NOTIFICATION, tray and
 * lock, media change with UNIT ATTENTION.
 *
 * The channel (hw/ide.c) owns the task file, the timers and the data
 * port; it calls in here through hw/ide_internal.h.
 */
#include "hw/ide_internal.h"

#include <string.h>

/* ATAPI interrupt reason in the sector count register (SFF-8020 5.x). */
#define IR_COD 0x01
#define IR_IO 0x02
#define CD_SECTOR 2048u

/* SCSI sense keys (SPC) and the ASCs used here. */
#define SK_NOT_READY 0x02
#define SK_MEDIUM_ERROR 0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION 0x06
#define ASC_INV_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INV_FIELD_CDB 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT 0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* CDB and response fields are big-endian (SCSI byte order). */
static void put_be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t get_be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void atapi_identify(struct ide_bus *b, struct ide_drive *d)
{
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    ide_id_common(b, d, w);
    /* ATAPI, CD-ROM (05h), removable, DRQ within 50 us, 12-byte packets. */
    w[0] = 0x85c0;
    ide_id_string(&w[27], "Glass CD-ROM", 20);
    w[71] = 30;
    w[72] = 30;
    w[82] = 0x4014; /* NOP, PACKET, removable media */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x4014;
    w[87] = 0x4000;
    ide_id_finish(d->buf, w);
}

void atapi_cmd_packet(struct ide_bus *b, struct ide_drive *d)
{
    if (b->feature & 0x02) { /* OVL unsupported */
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    d->atapi_dma = b->feature & 0x01;
    d->bcl = (uint16_t)(b->hcyl << 8 | b->lcyl);
    /* Ready for the packet: C/D=1, I/O=0, DRQ, no INTRQ (word 0 DRQ type). */
    b->nsector = IR_COD;
    d->pos = 0;
    d->end = 12;
    d->xfer = XFER_PACKET;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

static bool cd_present(const struct ide_drive *d)
{
    return d->blk && !d->tray_open;
}

static uint32_t cd_blocks(const struct ide_drive *d)
{
    uint64_t n = d->blk ? block_size(d->blk) / CD_SECTOR : 0;
    return n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
}

static void atapi_done(struct ide_bus *b, struct ide_drive *d)
{
    d->xfer = XFER_NONE;
    d->error = 0;
    d->status = ST_DRDY | ST_DSC;
    b->nsector = IR_IO | IR_COD;
    ide_raise_intrq(b, d);
}

/* CHECK CONDITION: sense key in the error register's high nibble. */
static void atapi_check(struct ide_bus *b, struct ide_drive *d, uint8_t key, uint8_t asc,
                        uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->xfer = XFER_NONE;
    d->dma_wait = false;
    d->error = (uint8_t)(key << 4 | ER_ABRT);
    d->status = ST_DRDY | ST_ERR;
    b->nsector = IR_IO | IR_COD;
    ide_raise_intrq(b, d);
}

/* Starts the data-in phase of `len` bytes already in buf (or, for reads,
 * d->remaining blocks from d->lba streamed through buf). */
static void atapi_send(struct ide_bus *b, struct ide_drive *d, uint32_t len, uint32_t alloc)
{
    if (len > alloc)
        len = alloc;
    d->fill = len;
    d->pos = 0;
    d->atapi_left = len;
    d->remaining = 0;
    if (len == 0) {
        atapi_done(b, d);
        return;
    }
    if (d->atapi_dma)
        ide_dma_start_or_wait(b, d);
    else
        atapi_next_chunk(b, d);
}

/* Refills buf from the disc when it is empty and blocks remain. */
static bool atapi_refill(struct ide_drive *d)
{
    if (d->pos < d->fill || d->remaining == 0)
        return true;
    uint32_t n = d->remaining < IDE_BUF_SIZE / CD_SECTOR ? d->remaining : IDE_BUF_SIZE / CD_SECTOR;
    if (block_pread(d->blk, d->lba * CD_SECTOR, d->buf, (size_t)n * CD_SECTOR) != 0)
        return false;
    d->lba += n;
    d->remaining -= n;
    d->pos = 0;
    d->fill = n * CD_SECTOR;
    return true;
}

/* Offers the next PIO chunk: at most the byte count limit (SFF-8020 5.x),
 * its length in LBA mid/high, interrupt reason I/O=1 C/D=0. */
void atapi_next_chunk(struct ide_bus *b, struct ide_drive *d)
{
    if (d->atapi_left == 0) {
        atapi_done(b, d);
        return;
    }
    if (!atapi_refill(d)) {
        atapi_check(b, d, SK_MEDIUM_ERROR, 0x11, 0x00); /* unrecovered read error */
        return;
    }
    uint32_t limit = d->bcl ? d->bcl : 0xfffe;
    uint32_t avail = d->fill - d->pos;
    uint32_t n = avail;
    if (n > d->atapi_left)
        n = (uint32_t)d->atapi_left;
    if (n > limit)
        n = limit & ~1u; /* odd limits: whole words until the last chunk */
    if (n == 0)
        n = avail < 2 ? avail : 2;
    d->end = d->pos + n;
    d->atapi_left -= n;
    b->lcyl = (uint8_t)n;
    b->hcyl = (uint8_t)(n >> 8);
    b->nsector = IR_IO;
    d->xfer = XFER_ATAPI_IN;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_intrq(b, d);
}

void atapi_dma_run(struct ide_bus *b, struct ide_drive *d)
{
    d->dma_wait = false;
    while (d->atapi_left) {
        if (!atapi_refill(d)) {
            b->dma->done(b->dma_opaque);
            atapi_check(b, d, SK_MEDIUM_ERROR, 0x11, 0x00);
            return;
        }
        uint32_t n = d->fill - d->pos;
        if (n > d->atapi_left)
            n = (uint32_t)d->atapi_left;
        if (b->dma->rw(b->dma_opaque, d->buf + d->pos, n, true) != n) {
            b->dma->done(b->dma_opaque);
            atapi_check(b, d, SK_ILLEGAL_REQUEST, 0x4b, 0x00); /* data phase error */
            return;
        }
        d->pos += n;
        d->atapi_left -= n;
    }
    b->dma->done(b->dma_opaque);
    atapi_done(b, d);
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150; /* the 2-second pregap (MMC: LBA 0 = 00:02:00) */
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)((lba / 75) % 60);
    p[2] = (uint8_t)(lba % 75);
}

static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        put_be32(p, lba);
    }
}

static uint32_t read_toc(struct ide_drive *d, const uint8_t *c, bool *bad)
{
    uint8_t *o = d->buf;
    bool msf = c[1] & 2;
    uint8_t format = c[2] & 0x0f;
    if (!format)
        format = c[9] >> 6; /* SFF-8020 placed the format in the control byte */
    uint8_t track = c[6];
    uint32_t blocks = cd_blocks(d);
    uint32_t len = 4;
    *bad = false;
    memset(o, 0, 4 + 11 * 4);
    switch (format) {
    case 0: /* TOC: track 1 (data) and the lead-out AAh */
        if (track > 1 && track != 0xaa) {
            *bad = true;
            return 0;
        }
        o[2] = 1;
        o[3] = 1;
        if (track <= 1) {
            o[len + 1] = 0x14; /* ADR 1, control 4: data track */
            o[len + 2] = 1;
            put_addr(o + len + 4, 0, msf);
            len += 8;
        }
        o[len + 1] = 0x14;
        o[len + 2] = 0xaa;
        put_addr(o + len + 4, blocks, msf);
        len += 8;
        break;
    case 1: /* session info: one session, starting at track 1 */
        o[2] = 1;
        o[3] = 1;
        o[len + 1] = 0x14;
        o[len + 2] = 1;
        put_addr(o + len + 4, 0, msf);
        len += 8;
        break;
    case 2: { /* raw TOC: points A0h, A1h, A2h, then track 1; MSF always */
        o[2] = 1;
        o[3] = 1;
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        for (int i = 0; i < 4; i++) {
            uint8_t *e = o + len;
            e[0] = 1;       /* session */
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1)
                e[8] = 1;   /* first / last track number */
            else if (points[i] == 0xa2)
                lba_to_msf(e + 8, blocks);
            else
                lba_to_msf(e + 8, 0);
            len += 11;
        }
        break;
    }
    default:
        *bad = true;
        return 0;
    }
    put_be16(o, len - 2);
    return len;
}

/* MODE SENSE(10) pages (MMC-2 5.5): error recovery, CD audio control,
 * capabilities. Returns the page length written, 0 if unknown. */
static uint32_t mode_page(struct ide_drive *d, uint8_t page, bool changeable, uint8_t *p)
{
    uint32_t len;
    switch (page) {
    case 0x01:
        len = 8;
        memset(p, 0, len);
        p[0] = 0x01;
        p[1] = 6;
        if (!changeable)
            p[3] = 5; /* read retry count */
        return len;
    case 0x0e:
        len = 16;
        memset(p, 0, len);
        p[0] = 0x0e;
        p[1] = 14;
        if (!changeable) {
            p[2] = 0x04; /* immediate */
            p[8] = 1;    /* port 0: channel 0 */
            p[9] = 0xff;
            p[10] = 2;
            p[11] = 0xff;
        }
        return len;
    case 0x2a:
        len = 20;
        memset(p, 0, len);
        p[0] = 0x2a;
        p[1] = 18;
        if (!changeable) {
            p[2] = 0x00;  /* reads CD-ROM only */
            p[4] = 0x71;  /* audio play, composite, digital ports, multisession */
            p[5] = 0x00;
            /* lock supported, lock state, eject, tray loader (001b) */
            p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));
            put_be16(p + 8, 706);   /* max speed, kB/s (4x) */
            put_be16(p + 10, 256);  /* volume levels */
            put_be16(p + 12, 512);  /* buffer, KiB */
            put_be16(p + 14, 706);  /* current speed */
        }
        return len;
    }
    return 0;
}

static uint32_t get_configuration(struct ide_drive *d, const uint8_t *c)
{
    uint8_t rt = c[1] & 3;
    uint32_t start = get_be16(c + 2);
    bool media = cd_present(d);
    uint8_t *o = d->buf;
    memset(o, 0, 64);
    uint32_t len = 8;
    put_be16(o + 6, media ? 0x0008 : 0); /* current profile: CD-ROM */
    struct { uint16_t code; uint8_t ver_flags; uint8_t add; uint8_t data[8]; } feat[4] = {
        /* Profile list: one profile, CD-ROM (0008h). */
        { 0x0000, 0x03, 4, { 0x00, 0x08, (uint8_t)(media ? 1 : 0), 0 } },
        /* Core: ATAPI interface (2), DBE. */
        { 0x0001, 0x0b, 8, { 0, 0, 0, 2, 1, 0, 0, 0 } },
        /* Removable medium: tray, eject, lock. */
        { 0x0003, 0x03, 4, { (uint8_t)(0x29 | (d->locked ? 0x02 : 0)), 0, 0, 0 } },
        /* Random readable: 2048-byte blocks, blocking 1. */
        { 0x0010, (uint8_t)(media ? 0x01 : 0x00), 8, { 0, 0, 0x08, 0, 0, 1, 0, 0 } },
    };
    for (int i = 0; i < 4; i++) {
        if (feat[i].code < start)
            continue;
        if (rt == 2 && feat[i].code != start)
            continue;
        if (rt == 1 && !(feat[i].ver_flags & 1))
            continue;
        o[len] = (uint8_t)(feat[i].code >> 8);
        o[len + 1] = (uint8_t)feat[i].code;
        o[len + 2] = feat[i].ver_flags;
        o[len + 3] = feat[i].add;
        memcpy(o + len + 4, feat[i].data, feat[i].add);
        len += 4u + feat[i].add;
    }
    put_be32(o, len - 4);
    return len;
}

/* Commands that report even with a unit attention pending or no medium. */
static bool atapi_no_attention(uint8_t op)
{
    return op == 0x03 || op == 0x12 || op == 0x4a;
}

static bool atapi_needs_media(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x25: case 0x28: case 0xa8: case 0xbe: case 0x43: case 0x51:
    case 0x2b:
        return true;
    }
    return false;
}

void atapi_command(struct ide_bus *b, struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    uint8_t op = c[0];
    uint8_t *o = d->buf;

    if (d->unit_attention && !atapi_no_attention(op)) {
        d->unit_attention = false;
        atapi_check(b, d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if (atapi_needs_media(op) && !cd_present(d)) {
        atapi_check(b, d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
        return;
    }
    switch (op) {
    case 0x00: /* TEST UNIT READY */
    case 0x2b: /* SEEK(10) */
    case 0xbb: /* SET CD SPEED */
        atapi_done(b, d);
        return;
    case 0x03: { /* REQUEST SENSE: fixed format, then the sense is consumed */
        memset(o, 0, 18);
        o[0] = 0x70;
        o[2] = d->sense_key;
        o[7] = 10;
        o[12] = d->asc;
        o[13] = d->ascq;
        d->sense_key = d->asc = d->ascq = 0;
        atapi_send(b, d, 18, c[4]);
        return;
    }
    case 0x12: /* INQUIRY */
        memset(o, 0, 36);
        o[0] = 0x05;  /* CD/DVD device */
        o[1] = 0x80;  /* removable */
        o[2] = 0x00;
        o[3] = 0x21;  /* ATAPI version 2, response format 1 */
        o[4] = 31;
        memcpy(o + 8, "Glass   ", 8);
        memcpy(o + 16, "Glass CD-ROM    ", 16);
        memcpy(o + 32, "1.0 ", 4);
        atapi_send(b, d, 36, get_be16(c + 3));
        return;
    case 0x1b: /* START STOP UNIT */
        if ((c[4] & 3) == 2) { /* eject */
            if (d->locked) {
                atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
                return;
            }
            if (!d->tray_open) {
                d->tray_open = true;
                d->media_event = 3; /* media removal */
            }
        } else if ((c[4] & 3) == 3 && d->tray_open) { /* load */
            d->tray_open = false;
            if (d->blk) {
                d->media_event = 2; /* new media */
                d->unit_attention = true;
            }
        }
        atapi_done(b, d);
        return;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = c[4] & 1;
        atapi_done(b, d);
        return;
    case 0x25: /* READ CAPACITY */
        put_be32(o, cd_blocks(d) - 1);
        put_be32(o + 4, CD_SECTOR);
        atapi_send(b, d, 8, 8);
        return;
    case 0x28:   /* READ(10) */
    case 0xa8:   /* READ(12) */
    case 0xbe: { /* READ CD (MMC-2 6.1.16): user data of Mode 1 sectors only */
        uint32_t lba = get_be32(c + 2);
        uint32_t n = op == 0x28 ? get_be16(c + 7)
                   : op == 0xa8 ? get_be32(c + 6)
                                : (uint32_t)c[6] << 16 | get_be16(c + 7);
        uint32_t blocks = cd_blocks(d);
        if (op == 0xbe) {
            uint8_t type = (c[1] >> 2) & 7; /* 0 any, 2 Mode 1 */
            if ((type != 0 && type != 2) || (c[9] & 0xf8) == 0) {
                if (c[9] == 0 && (type == 0 || type == 2)) { /* nothing asked for */
                    atapi_done(b, d);
                    return;
                }
                atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
                return;
            }
            if ((c[9] & 0xf8) != 0x10) { /* sync/headers/EDC: raw sectors */
                atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
                return;
            }
        }
        if (lba > blocks || n > blocks - lba) {
            atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
            return;
        }
        if (n == 0) {
            atapi_done(b, d);
            return;
        }
        d->lba = lba;
        d->remaining = n;
        d->pos = d->fill = 0;
        d->atapi_left = (uint64_t)n * CD_SECTOR;
        if (d->atapi_dma)
            ide_dma_start_or_wait(b, d);
        else
            atapi_next_chunk(b, d);
        return;
    }
    case 0x43: { /* READ TOC/PMA/ATIP */
        bool bad;
        uint32_t len = read_toc(d, c, &bad);
        if (bad) {
            atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
            return;
        }
        atapi_send(b, d, len, get_be16(c + 7));
        return;
    }
    case 0x5a: { /* MODE SENSE(10) */
        uint8_t pc = c[2] >> 6, page = c[2] & 0x3f;
        if (pc == 3) {
            atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
            return;
        }
        memset(o, 0, 8);
        uint32_t len = 8;
        if (page == 0x3f) {
            static const uint8_t all[3] = { 0x01, 0x0e, 0x2a };
            for (int i = 0; i < 3; i++)
                len += mode_page(d, all[i], pc == 1, o + len);
        } else {
            uint32_t n = mode_page(d, page, pc == 1, o + len);
            if (!n) {
                atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
                return;
            }
            len += n;
        }
        put_be16(o, len - 2);
        o[2] = cd_present(d) ? 0x01 : 0x70; /* medium type: 120 mm data / none */
        atapi_send(b, d, len, get_be16(c + 7));
        return;
    }
    case 0x46: /* GET CONFIGURATION */
        atapi_send(b, d, get_configuration(d, c), get_be16(c + 7));
        return;
    case 0x4a: { /* GET EVENT STATUS NOTIFICATION (polled only) */
        if (!(c[1] & 1)) {
            atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
            return;
        }
        memset(o, 0, 8);
        uint32_t len;
        if (c[4] & 0x10) { /* media class */
            put_be16(o, 6);
            o[2] = 0x04;
            o[3] = 0x10;
            o[4] = d->media_event;
            o[5] = (uint8_t)((cd_present(d) ? 2 : 0) | (d->tray_open ? 1 : 0));
            d->media_event = 0;
            len = 8;
        } else {
            put_be16(o, 2);
            o[2] = 0x80; /* no event available */
            o[3] = 0x10;
            len = 4;
        }
        atapi_send(b, d, len, get_be16(c + 7));
        return;
    }
    case 0x51: /* READ DISC INFORMATION */
        memset(o, 0, 34);
        put_be16(o, 32);
        o[2] = 0x0e;  /* complete disc, complete last session */
        o[3] = 1;     /* first track */
        o[4] = 1;     /* sessions */
        o[5] = 1;
        o[6] = 1;
        o[7] = 0x20;  /* unrestricted use */
        memset(o + 16, 0xff, 8); /* no next session */
        atapi_send(b, d, 34, get_be16(c + 7));
        return;
    case 0x52: /* READ TRACK INFORMATION (MMC-2 6.1.24): track 1 or the lead-out */
    {
        uint32_t addr = get_be32(c + 2);
        uint8_t type = c[1] & 3;
        if (!cd_present(d)) {
            atapi_check(b, d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
            return;
        }
        if ((type == 1 && addr != 1) || (type == 0 && addr >= cd_blocks(d)) || type > 1) {
            atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_FIELD_CDB, 0);
            return;
        }
        memset(o, 0, 36);
        put_be16(o, 34);
        o[2] = 1;       /* track number */
        o[3] = 1;       /* session */
        o[5] = 0x04;    /* data track, not damaged */
        o[6] = 0x01;    /* data mode 1 */
        put_be32(o + 8, 0);              /* start */
        put_be32(o + 24, cd_blocks(d));  /* size */
        atapi_send(b, d, 36, get_be16(c + 7));
        return;
    }
    case 0x42: /* READ SUB-CHANNEL: no audio, current position */
        if (!cd_present(d)) {
            atapi_check(b, d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
            return;
        }
        memset(o, 0, 16);
        o[1] = 0x15; /* no current audio status */
        if (c[2] & 0x40) { /* SubQ data */
            put_be16(o + 2, 12);
            o[4] = c[3] ? c[3] : 1;
            o[5] = 0x14;
            o[6] = 1;
            o[7] = 1;
            atapi_send(b, d, 16, get_be16(c + 7));
        } else {
            atapi_send(b, d, 4, get_be16(c + 7));
        }
        return;
    case 0xbd: /* MECHANISM STATUS */
        memset(o, 0, 8);
        o[1] = (uint8_t)(d->tray_open ? 0x10 : 0);
        atapi_send(b, d, 8, get_be16(c + 8));
        return;
    }
    atapi_check(b, d, SK_ILLEGAL_REQUEST, ASC_INV_OPCODE, 0);
}

int ide_cdrom_change_media(struct ide_bus *b, int unit, struct block *media)
{
    if (unit < 0 || unit > 1 || b->drive[unit].kind != DRIVE_CDROM)
        return -1;
    struct ide_drive *d = &b->drive[unit];
    d->blk = media;
    d->tray_open = false;
    d->unit_attention = true; /* NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED */
    d->media_event = media ? 2 : 3;
    return 0;
}
