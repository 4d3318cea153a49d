/*
 * hw/ide.c — an ATA channel with up to two devices: hard disks (ATA/ATAPI-6,
 * T13 1410D) and ATAPI CD-ROMs, whose packet command set (SFF-8020i, MMC-2)
 * is hw/atapi.c.
 *
 * Protocol state follows the spec's host/device state diagrams (ATA-6
 * clause 9): a command sets BSY, and the work is done from a short vtimer
 * so that a polling driver sees BSY first; each PIO data block is then
 * offered with DRQ (and INTRQ, except the first block of a PIO write and
 * the ATAPI command packet), the last one ends with DRDY and INTRQ.
 */
#include "hw/ide_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device control (ATA-6 7.9). */
#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DC_HOB 0x80
/* Device/head (ATA-6 7.10). */
#define DH_DEV 0x10
#define DH_LBA 0x40

/* Time for a command's work: "a few microseconds". */
#define IDE_DELAY_NS 2000u
#define MAX_MULT 16

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static inline struct ide_drive *sel_drive(struct ide_bus *b)
{
    return &b->drive[(b->select & DH_DEV) ? 1 : 0];
}

static void update_irq(struct ide_bus *b)
{
    /* Only the selected device drives INTRQ, and nIEN floats it (ATA-6 5.2.9). */
    struct ide_drive *d = sel_drive(b);
    bool level = d->kind != DRIVE_NONE && d->intrq && !(b->devctl & DC_NIEN);
    if (level != b->irq_level) {
        b->irq_level = level;
        irq_set(&b->irq, level);
    }
}

void ide_raise_intrq(struct ide_bus *b, struct ide_drive *d)
{
    d->intrq = true;
    update_irq(b);
}

static void schedule(struct ide_bus *b, struct ide_drive *d, enum pending p)
{
    d->pending = (uint8_t)p;
    d->status = (uint8_t)((d->status | ST_BSY) & ~ST_DRQ);
    vtimer_arm(d->timer, vclock_ns(b->clk) + IDE_DELAY_NS);
}

/* ATA strings: two characters per word, the first in the high byte,
 * padded with spaces (ATA-6 3.2.9). */
void ide_id_string(uint16_t *w, const char *s, unsigned words)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < words * 2; i++) {
        uint8_t c = i < n ? (uint8_t)s[i] : ' ';
        if (i & 1)
            w[i / 2] |= c;
        else
            w[i / 2] = (uint16_t)(c << 8);
    }
}

/* Word 255: signature A5h and a checksum making all 512 bytes sum to 0. */
void ide_id_finish(uint8_t *buf, uint16_t *w)
{
    w[255] = 0x00a5;
    for (int i = 0; i < 256; i++) {
        buf[2 * i] = (uint8_t)w[i];
        buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    uint8_t sum = 0;
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + buf[i]);
    buf[511] = (uint8_t)-sum;
}

void ide_id_common(struct ide_bus *b, struct ide_drive *d, uint16_t *w)
{
    int unit = (int)(d - b->drive);
    char serial[21];
    snprintf(serial, sizeof(serial), "GLASS%p%d", (void *)b, unit);
    /* A stable-looking serial: a short hash of the channel and unit. */
    uint32_t h = 2166136261u;
    for (const char *s = serial; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    snprintf(serial, sizeof(serial), "GL%08X%d", (unsigned)h, unit);
    ide_id_string(&w[10], serial, 10);
    ide_id_string(&w[23], "1.0", 4);
    w[49] = 0x0b00;   /* IORDY supported, LBA, DMA */
    w[53] = 0x0006;   /* words 64-70 and 88 valid */
    uint8_t mode = d->xfer_mode;
    w[63] = 0x0007 | ((mode >> 3) == 4 ? (uint16_t)(0x100 << (mode & 7)) : 0);
    w[64] = 0x0003;   /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007e;   /* ATA/ATAPI-1..6 */
    w[88] = 0x003f | ((mode >> 3) == 8 ? (uint16_t)(0x100 << (mode & 7)) : 0);
    /* Hardware reset result: device 0/1 passed, 80-wire cable (bit 13),
     * which Linux requires before using UDMA modes above 2. */
    w[93] = (uint16_t)(0x6000 | (unit ? 0x0b00 : 0x000b));
}

static void identify_disk(struct ide_bus *b, struct ide_drive *d)
{
    uint16_t w[256];
    memset(w, 0, sizeof(w));
    ide_id_common(b, d, w);
    w[0] = 0x0040; /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->spt;
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    ide_id_string(&w[27], "Glass HARDDISK", 20);
    w[47] = 0x8000 | MAX_MULT;
    w[50] = 0x4000;
    w[51] = w[52] = 0x0200;
    w[53] |= 0x0001; /* 54-58 valid */
    uint32_t cur_cyls = d->cyls;
    if (d->cur_heads && d->cur_spt) {
        uint64_t c = d->sectors / ((uint64_t)d->cur_heads * d->cur_spt);
        cur_cyls = c > 65535 ? 65535 : (uint32_t)c;
    }
    w[54] = (uint16_t)cur_cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_spt;
    uint32_t cur_cap = cur_cyls * d->cur_heads * d->cur_spt;
    w[57] = (uint16_t)cur_cap;
    w[58] = (uint16_t)(cur_cap >> 16);
    w[59] = d->mult ? (uint16_t)(0x0100 | d->mult) : 0;
    uint64_t lba28 = d->sectors > 0x0fffffff ? 0x0fffffff : d->sectors;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    /* 82/83: NOP, write cache, power management, FLUSH CACHE (EXT), 48-bit. */
    w[82] = 0x4028;
    w[83] = 0x7400;
    w[84] = 0x4000;
    w[85] = (uint16_t)(0x4008 | (d->write_cache ? 0x20 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(d->sectors >> (16 * i));
    ide_id_finish(d->buf, w);
}

/* Power-on/reset signature (ATA-6 9.12): count 1, LBA low 1, and LBA
 * mid/high 00/00 for ATA or 14h/EBh for PACKET devices. */
static void set_signature(struct ide_bus *b, struct ide_drive *d)
{
    b->nsector = 1;
    b->sector = 1;
    if (d->kind == DRIVE_CDROM) {
        b->lcyl = 0x14;
        b->hcyl = 0xeb;
    } else {
        b->lcyl = 0;
        b->hcyl = 0;
    }
    b->select &= DH_DEV; /* keep the selection so the registers read back */
}

static void drive_reset(struct ide_drive *d)
{
    d->pending = PEND_NONE;
    d->xfer = XFER_NONE;
    d->dma_wait = false;
    d->pos = d->end = 0;
    d->intrq = false;
    d->error = 0x01; /* diagnostic passed */
    d->status = d->kind == DRIVE_CDROM ? 0 : (ST_DRDY | ST_DSC);
}

/* ------------------------------------------------------------------ */
/* ATA addressing                                                      */
/* ------------------------------------------------------------------ */

static uint64_t tf_lba(struct ide_bus *b, struct ide_drive *d, bool *bad)
{
    *bad = false;
    if (d->lba48)
        return (uint64_t)b->hob_hcyl << 40 | (uint64_t)b->hob_lcyl << 32 |
               (uint64_t)b->hob_sector << 24 | (uint32_t)b->hcyl << 16 |
               (uint32_t)b->lcyl << 8 | b->sector;
    if (b->select & DH_LBA)
        return (uint32_t)(b->select & 0x0f) << 24 | (uint32_t)b->hcyl << 16 |
               (uint32_t)b->lcyl << 8 | b->sector;
    /* CHS with the current translation (ATA-6 6.x, INITIALIZE DEVICE
     * PARAMETERS): sectors count from 1. */
    uint32_t cyl = (uint32_t)b->hcyl << 8 | b->lcyl;
    uint32_t head = b->select & 0x0f;
    if (b->sector == 0 || !d->cur_spt || head >= d->cur_heads || b->sector > d->cur_spt) {
        *bad = true;
        return 0;
    }
    return ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + (b->sector - 1u);
}

/* Writes an address back into the task file (the last sector moved, or
 * the first bad one on an error). */
static void tf_set_lba(struct ide_bus *b, struct ide_drive *d, uint64_t lba)
{
    if (d->lba48) {
        b->sector = (uint8_t)lba;
        b->lcyl = (uint8_t)(lba >> 8);
        b->hcyl = (uint8_t)(lba >> 16);
        b->hob_sector = (uint8_t)(lba >> 24);
        b->hob_lcyl = (uint8_t)(lba >> 32);
        b->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (b->select & DH_LBA) {
        b->sector = (uint8_t)lba;
        b->lcyl = (uint8_t)(lba >> 8);
        b->hcyl = (uint8_t)(lba >> 16);
        b->select = (uint8_t)((b->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_spt && d->cur_heads) {
        uint32_t s = (uint32_t)(lba % d->cur_spt) + 1;
        uint64_t t = lba / d->cur_spt;
        uint32_t head = (uint32_t)(t % d->cur_heads);
        uint32_t cyl = (uint32_t)(t / d->cur_heads);
        b->sector = (uint8_t)s;
        b->lcyl = (uint8_t)cyl;
        b->hcyl = (uint8_t)(cyl >> 8);
        b->select = (uint8_t)((b->select & 0xf0) | head);
    }
}

static uint32_t tf_count(struct ide_bus *b, struct ide_drive *d)
{
    if (d->lba48) {
        uint32_t n = (uint32_t)b->hob_nsector << 8 | b->nsector;
        return n ? n : 65536;
    }
    return b->nsector ? b->nsector : 256;
}

static void ata_ok(struct ide_bus *b, struct ide_drive *d)
{
    d->xfer = XFER_NONE;
    d->error = 0;
    d->status = ST_DRDY | ST_DSC;
    ide_raise_intrq(b, d);
}

void ide_ata_error(struct ide_bus *b, struct ide_drive *d, uint8_t err)
{
    d->xfer = XFER_NONE;
    d->dma_wait = false;
    d->error = err;
    d->status = ST_DRDY | ST_ERR;
    ide_raise_intrq(b, d);
}

/* Range check for the command's sectors. */
static bool range_ok(const struct ide_drive *d, uint64_t lba, uint64_t n)
{
    return lba <= d->sectors && n <= d->sectors - lba;
}

/* ------------------------------------------------------------------ */
/* ATA PIO data blocks                                                 */
/* ------------------------------------------------------------------ */

static uint32_t block_sectors(const struct ide_drive *d)
{
    uint32_t per = (d->cmd == 0xc4 || d->cmd == 0xc5 || d->cmd == 0x29 || d->cmd == 0x39)
                       ? d->mult : 1;
    return d->remaining < per ? d->remaining : per;
}

/* Loads the next block of a PIO read and offers it (DRQ + INTRQ). */
static void pio_read_block(struct ide_bus *b, struct ide_drive *d)
{
    uint32_t n = block_sectors(d);
    if (block_pread(d->blk, d->lba * 512, d->buf, (size_t)n * 512) != 0) {
        tf_set_lba(b, d, d->lba);
        ide_ata_error(b, d, ER_UNC);
        return;
    }
    d->block = n;
    d->pos = 0;
    d->end = n * 512;
    d->xfer = XFER_PIO_IN;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_intrq(b, d);
}

static void pio_write_block_ready(struct ide_bus *b, struct ide_drive *d, bool intr)
{
    d->block = block_sectors(d);
    d->pos = 0;
    d->end = d->block * 512;
    d->xfer = XFER_PIO_OUT;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (intr)
        ide_raise_intrq(b, d);
}

/* The host emptied (read) or filled (write) the DRQ block. */
static void pio_block_done(struct ide_bus *b, struct ide_drive *d)
{
    if (d->xfer == XFER_PIO_IN) {
        if (d->cmd != 0xec && d->cmd != 0xa1) /* IDENTIFY leaves the task file */
            tf_set_lba(b, d, d->lba + d->block - 1);
        d->lba += d->block;
        d->remaining -= d->block;
        if (d->remaining == 0) {
            /* The last block's INTRQ came with its DRQ: just go idle. */
            d->xfer = XFER_NONE;
            d->status = ST_DRDY | ST_DSC;
        } else {
            schedule(b, d, PEND_PIO_NEXT);
        }
    } else if (d->xfer == XFER_PIO_OUT) {
        d->xfer = XFER_NONE;
        schedule(b, d, PEND_PIO_NEXT);
    } else if (d->xfer == XFER_PACKET) {
        d->xfer = XFER_NONE;
        schedule(b, d, PEND_PACKET);
    }
}

/* ------------------------------------------------------------------ */
/* DMA                                                                 */
/* ------------------------------------------------------------------ */

static void ata_dma_run(struct ide_bus *b, struct ide_drive *d)
{
    d->dma_wait = false;
    while (d->remaining) {
        uint32_t n = d->remaining < IDE_BUF_SIZE / 512 ? d->remaining : IDE_BUF_SIZE / 512;
        uint32_t len = n * 512;
        if (!d->is_write) {
            if (block_pread(d->blk, d->lba * 512, d->buf, len) != 0)
                goto io_error;
            if (b->dma->rw(b->dma_opaque, d->buf, len, true) != len)
                goto prd_short;
        } else {
            if (b->dma->rw(b->dma_opaque, d->buf, len, false) != len)
                goto prd_short;
            if (block_pwrite(d->blk, d->lba * 512, d->buf, len) != 0)
                goto io_error;
        }
        d->lba += n;
        d->remaining -= n;
    }
    tf_set_lba(b, d, d->lba - 1);
    b->dma->done(b->dma_opaque);
    ata_ok(b, d);
    return;
io_error:
    tf_set_lba(b, d, d->lba);
    b->dma->done(b->dma_opaque);
    ide_ata_error(b, d, d->is_write ? ER_ABRT : ER_UNC);
    return;
prd_short:
    /* The PRD table was smaller than the transfer: abort the command. */
    b->dma->done(b->dma_opaque);
    ide_ata_error(b, d, ER_ABRT);
}

void ide_dma_start_or_wait(struct ide_bus *b, struct ide_drive *d)
{
    if (b->dma && b->dma->started(b->dma_opaque)) {
        if (d->kind == DRIVE_CDROM)
            atapi_dma_run(b, d);
        else
            ata_dma_run(b, d);
    } else {
        /* Ready for the transfer; the engine's Start bit resumes us. */
        d->dma_wait = true;
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
    }
}

void ide_bus_dma_kick(struct ide_bus *b)
{
    for (int i = 0; i < 2; i++) {
        struct ide_drive *d = &b->drive[i];
        if (d->dma_wait && d->pending == PEND_NONE)
            schedule(b, d, PEND_DMA);
    }
}

/* ------------------------------------------------------------------ */
/* ATA commands                                                        */
/* ------------------------------------------------------------------ */

enum cmd_flags {
    C_DISK = 1,    /* ATA devices */
    C_CD = 2,      /* PACKET devices */
    C_LBA48 = 4,
    C_READ = 8,    /* sector data to host */
    C_WRITE = 16,  /* sector data from host */
    C_DMA = 32,
    C_MULT = 64,
};

struct ide_cmd {
    uint8_t flags;
    void (*exec)(struct ide_bus *b, struct ide_drive *d);
};

static void cmd_rw(struct ide_bus *b, struct ide_drive *d);
static void cmd_ok(struct ide_bus *b, struct ide_drive *d) { ata_ok(b, d); }

static void cmd_identify(struct ide_bus *b, struct ide_drive *d)
{
    if (d->kind == DRIVE_CDROM) {
        /* A PACKET device aborts IDENTIFY DEVICE and shows its signature,
         * which is how hosts tell it apart (ATA-6 8.15). */
        set_signature(b, d);
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    identify_disk(b, d);
    d->pos = 0;
    d->end = 512;
    d->remaining = 1;
    d->block = 1;
    d->lba = 0;
    d->xfer = XFER_PIO_IN;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_intrq(b, d);
}

static void cmd_identify_packet(struct ide_bus *b, struct ide_drive *d)
{
    atapi_identify(b, d);
    d->pos = 0;
    d->end = 512;
    d->remaining = 1;
    d->block = 1;
    d->xfer = XFER_PIO_IN;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_intrq(b, d);
}

static void cmd_verify(struct ide_bus *b, struct ide_drive *d)
{
    bool bad;
    uint64_t lba = tf_lba(b, d, &bad);
    uint32_t n = tf_count(b, d);
    if (bad || !range_ok(d, lba, n)) {
        ide_ata_error(b, d, ER_IDNF);
        return;
    }
    tf_set_lba(b, d, lba + n - 1);
    ata_ok(b, d);
}

static void cmd_set_multiple(struct ide_bus *b, struct ide_drive *d)
{
    uint8_t n = b->nsector;
    if (n > MAX_MULT || (n & (n - 1))) {
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    d->mult = n;
    ata_ok(b, d);
}

static void cmd_init_params(struct ide_bus *b, struct ide_drive *d)
{
    if (b->nsector == 0) {
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    d->cur_spt = b->nsector;
    d->cur_heads = (uint16_t)((b->select & 0x0f) + 1);
    ata_ok(b, d);
}

static void cmd_set_features(struct ide_bus *b, struct ide_drive *d)
{
    switch (b->feature) {
    case 0x03: { /* set transfer mode (ATA-6 8.36.10) */
        uint8_t v = b->nsector, mode = v & 7;
        bool ok = (v >> 3 == 0 && mode <= 1) || (v >> 3 == 1 && mode <= 4) ||
                  (v >> 3 == 4 && mode <= 2) || (v >> 3 == 8 && mode <= 5);
        if (!ok) {
            ide_ata_error(b, d, ER_ABRT);
            return;
        }
        d->xfer_mode = v;
        break;
    }
    case 0x02: if (d->kind == DRIVE_DISK) d->write_cache = true; break;
    case 0x82: if (d->kind == DRIVE_DISK) d->write_cache = false; break;
    case 0xaa: case 0x55: /* read look-ahead on/off */
    case 0x66: case 0xcc: /* reverting to defaults off/on */
        break;
    default:
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    ata_ok(b, d);
}

static void cmd_flush(struct ide_bus *b, struct ide_drive *d)
{
    if (block_flush(d->blk) != 0) {
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    ata_ok(b, d);
}

static void cmd_standby(struct ide_bus *b, struct ide_drive *d)
{
    d->standby = true;
    ata_ok(b, d);
}

static void cmd_idle(struct ide_bus *b, struct ide_drive *d)
{
    d->standby = false;
    ata_ok(b, d);
}

static void cmd_check_power(struct ide_bus *b, struct ide_drive *d)
{
    b->nsector = d->standby ? 0x00 : 0xff; /* ATA-6 8.6: standby / active-idle */
    ata_ok(b, d);
}

static void cmd_diag(struct ide_bus *b, struct ide_drive *d)
{
    /* Both devices run it; device 0 reports (ATA-6 8.11, 9.12). */
    (void)d;
    for (int i = 0; i < 2; i++) {
        struct ide_drive *x = &b->drive[i];
        if (x->kind == DRIVE_NONE)
            continue;
        drive_reset(x);
    }
    b->select = 0;
    struct ide_drive *d0 = &b->drive[0];
    set_signature(b, d0->kind != DRIVE_NONE ? d0 : &b->drive[1]);
    struct ide_drive *rep = d0->kind != DRIVE_NONE ? d0 : &b->drive[1];
    ide_raise_intrq(b, rep);
}

static void cmd_device_reset(struct ide_bus *b, struct ide_drive *d)
{
    drive_reset(d);
    set_signature(b, d);
    d->error = 0x01;
}

/* ATA-6 command table, opcode -> what it does and who supports it. */
static const struct ide_cmd ide_cmds[256] = {
    [0x00] = { 0, NULL }, /* NOP: handled as "aborted" per spec */
    [0x08] = { C_CD, cmd_device_reset },
    [0x10] = { C_DISK, cmd_ok }, /* RECALIBRATE (10h-1Fh, obsolete aliases) */
    [0x20] = { C_DISK | C_READ, cmd_rw },
    [0x21] = { C_DISK | C_READ, cmd_rw },
    [0x24] = { C_DISK | C_READ | C_LBA48, cmd_rw },
    [0x25] = { C_DISK | C_READ | C_LBA48 | C_DMA, cmd_rw },
    [0x29] = { C_DISK | C_READ | C_LBA48 | C_MULT, cmd_rw },
    [0x30] = { C_DISK | C_WRITE, cmd_rw },
    [0x31] = { C_DISK | C_WRITE, cmd_rw },
    [0x34] = { C_DISK | C_WRITE | C_LBA48, cmd_rw },
    [0x35] = { C_DISK | C_WRITE | C_LBA48 | C_DMA, cmd_rw },
    [0x39] = { C_DISK | C_WRITE | C_LBA48 | C_MULT, cmd_rw },
    [0x40] = { C_DISK, cmd_verify },
    [0x41] = { C_DISK, cmd_verify },
    [0x42] = { C_DISK | C_LBA48, cmd_verify },
    [0x70] = { C_DISK, cmd_ok }, /* SEEK */
    [0x90] = { C_DISK | C_CD, cmd_diag },
    [0x91] = { C_DISK, cmd_init_params },
    [0xa0] = { C_CD, atapi_cmd_packet },
    [0xa1] = { C_CD, cmd_identify_packet },
    [0xc4] = { C_DISK | C_READ | C_MULT, cmd_rw },
    [0xc5] = { C_DISK | C_WRITE | C_MULT, cmd_rw },
    [0xc6] = { C_DISK, cmd_set_multiple },
    [0xc8] = { C_DISK | C_READ | C_DMA, cmd_rw },
    [0xc9] = { C_DISK | C_READ | C_DMA, cmd_rw },
    [0xca] = { C_DISK | C_WRITE | C_DMA, cmd_rw },
    [0xcb] = { C_DISK | C_WRITE | C_DMA, cmd_rw },
    [0xe0] = { C_DISK | C_CD, cmd_standby }, /* STANDBY IMMEDIATE */
    [0xe1] = { C_DISK | C_CD, cmd_idle },    /* IDLE IMMEDIATE */
    [0xe2] = { C_DISK | C_CD, cmd_standby }, /* STANDBY */
    [0xe3] = { C_DISK | C_CD, cmd_idle },    /* IDLE */
    [0xe5] = { C_DISK | C_CD, cmd_check_power },
    [0xe6] = { C_DISK | C_CD, cmd_standby }, /* SLEEP */
    [0xe7] = { C_DISK, cmd_flush },
    [0xea] = { C_DISK, cmd_flush },
    [0xec] = { C_DISK | C_CD, cmd_identify },
    [0xef] = { C_DISK | C_CD, cmd_set_features },
};

static void cmd_rw(struct ide_bus *b, struct ide_drive *d)
{
    uint8_t f = ide_cmds[d->cmd].flags;
    bool bad;
    if ((f & C_MULT) && !d->mult) {
        ide_ata_error(b, d, ER_ABRT);
        return;
    }
    uint64_t lba = tf_lba(b, d, &bad);
    uint32_t n = tf_count(b, d);
    if (bad || !range_ok(d, lba, n)) {
        if (!bad)
            tf_set_lba(b, d, lba);
        ide_ata_error(b, d, ER_IDNF);
        return;
    }
    d->lba = lba;
    d->remaining = n;
    d->is_write = f & C_WRITE;
    if (f & C_DMA)
        ide_dma_start_or_wait(b, d);
    else if (d->is_write)
        pio_write_block_ready(b, d, false); /* first block: DRQ, no INTRQ */
    else
        pio_read_block(b, d);
}

/* The timer: the device finished "thinking" about the current step. */
static void ide_timer(void *opaque)
{
    struct ide_drive *d = opaque;
    struct ide_bus *b = d->bus;
    enum pending p = (enum pending)d->pending;
    d->pending = PEND_NONE;
    d->status &= (uint8_t)~ST_BSY;
    switch (p) {
    case PEND_NONE:
        break;
    case PEND_EXEC: {
        const struct ide_cmd *c = &ide_cmds[d->cmd];
        d->lba48 = c->flags & C_LBA48;
        c->exec(b, d);
        break;
    }
    case PEND_PIO_NEXT:
        if (d->is_write) {
            if (block_pwrite(d->blk, d->lba * 512, d->buf, (size_t)d->block * 512) != 0) {
                tf_set_lba(b, d, d->lba);
                ide_ata_error(b, d, ER_ABRT);
                break;
            }
            tf_set_lba(b, d, d->lba + d->block - 1);
            d->lba += d->block;
            d->remaining -= d->block;
            if (d->remaining)
                pio_write_block_ready(b, d, true);
            else
                ata_ok(b, d);
        } else {
            pio_read_block(b, d);
        }
        break;
    case PEND_DMA:
        ide_dma_start_or_wait(b, d);
        break;
    case PEND_PACKET:
        atapi_command(b, d);
        break;
    case PEND_ATAPI_NEXT:
        atapi_next_chunk(b, d);
        break;
    case PEND_RESET:
        for (int i = 0; i < 2; i++)
            if (b->drive[i].kind != DRIVE_NONE)
                drive_reset(&b->drive[i]);
        b->select = 0;
        set_signature(b, b->drive[0].kind != DRIVE_NONE ? &b->drive[0] : &b->drive[1]);
        update_irq(b);
        break;
    }
}

static void write_command(struct ide_bus *b, uint8_t cmd)
{
    struct ide_drive *d = sel_drive(b);
    if (d->kind == DRIVE_NONE)
        return; /* nobody to take it (device 0 ignores device 1's commands) */
    if (cmd == 0x08 && d->kind == DRIVE_CDROM) {
        /* DEVICE RESET is accepted even while busy (ATA-6 8.10). */
        vtimer_cancel(d->timer);
        d->intrq = false;
        cmd_device_reset(b, d);
        update_irq(b);
        return;
    }
    if (d->status & ST_BSY)
        return;
    if ((cmd & 0xf0) == 0x10)
        cmd = 0x10; /* RECALIBRATE's obsolete aliases 11h-1Fh */
    d->intrq = false;
    update_irq(b);
    d->cmd = cmd;
    d->xfer = XFER_NONE;
    d->dma_wait = false;
    d->is_write = false;
    const struct ide_cmd *c = &ide_cmds[cmd];
    uint8_t need = d->kind == DRIVE_CDROM ? C_CD : C_DISK;
    if (!c->exec || !(c->flags & need)) {
        /* Unsupported (and NOP): ABRT, after the usual BSY delay. */
        d->cmd = 0x00;
        d->status = ST_DRDY | ST_ERR;
        d->error = ER_ABRT;
        ide_raise_intrq(b, d);
        return;
    }
    if (cmd == 0xa0) { /* PACKET: DRQ for the command packet right away */
        atapi_cmd_packet(b, d);
        return;
    }
    schedule(b, d, PEND_EXEC);
}

/* ------------------------------------------------------------------ */
/* Registers                                                           */
/* ------------------------------------------------------------------ */

/* The host has read the last byte of the data block. */
static void data_in_done(struct ide_bus *b, struct ide_drive *d)
{
    if (d->xfer == XFER_PIO_IN) {
        pio_block_done(b, d);
    } else {
        d->xfer = XFER_NONE;
        schedule(b, d, PEND_ATAPI_NEXT);
    }
}

static bool data_in_ready(const struct ide_drive *d)
{
    return (d->status & ST_DRQ) && (d->xfer == XFER_PIO_IN || d->xfer == XFER_ATAPI_IN);
}

static uint32_t data_read(struct ide_bus *b, unsigned size)
{
    struct ide_drive *d = sel_drive(b);
    if (!data_in_ready(d))
        return size == 4 ? 0xffffffffu : 0xffffu;
    uint32_t v = 0;
    unsigned n = size == 4 ? 4 : 2;
    for (unsigned i = 0; i < n; i++) {
        if (d->pos < d->end && d->pos < IDE_BUF_SIZE)
            v |= (uint32_t)d->buf[d->pos++] << (8 * i);
    }
    if (d->pos >= d->end)
        data_in_done(b, d);
    return v;
}

/* How many whole elements of `size` bytes, at most `count`, the data
 * block holds from the data pointer to its end (and the buffer's `cap`). */
static size_t run_elems(const struct ide_drive *d, uint32_t cap, unsigned size, size_t count)
{
    uint32_t end = d->end < cap ? d->end : cap;
    if (d->pos >= end)
        return 0;
    size_t n = (end - d->pos) / size;
    return n < count ? n : count;
}

/* REP INSW/INSD on the data register (io_read_rep): the whole elements
 * left in the block in one copy, as that many data_read calls would
 * take them (the block's end does what it does there); the rest, and
 * byte reads, one at a time. Glass's BIOS reads each sector with one
 * REP INSW of 256 words: a port access, a TLB check and a store each. */
static size_t cmd_read_rep(void *opaque, uint64_t addr, unsigned size, uint8_t *dst,
                           size_t count)
{
    struct ide_bus *b = opaque;
    if ((addr & 7) != 0 || size == 1)
        return 0;
    struct ide_drive *d = sel_drive(b);
    if (!data_in_ready(d))
        return 0;
    size_t n = run_elems(d, IDE_BUF_SIZE, size, count);
    if (n == 0)
        return 0;
    memcpy(dst, d->buf + d->pos, n * size);
    d->pos += (uint32_t)(n * size);
    if (d->pos >= d->end)
        data_in_done(b, d);
    return n;
}

static bool data_out_ready(const struct ide_drive *d)
{
    return (d->status & ST_DRQ) && (d->xfer == XFER_PIO_OUT || d->xfer == XFER_PACKET);
}

/* Where the host's data goes: the command packet or the sector buffer,
 * and how much of it there is. */
static uint8_t *data_out_buf(struct ide_drive *d, uint32_t *cap)
{
    *cap = d->xfer == XFER_PACKET ? sizeof(d->packet) : IDE_BUF_SIZE;
    return d->xfer == XFER_PACKET ? d->packet : d->buf;
}

static void data_write(struct ide_bus *b, uint32_t v, unsigned size)
{
    struct ide_drive *d = sel_drive(b);
    if (!data_out_ready(d))
        return;
    uint32_t cap;
    uint8_t *dst = data_out_buf(d, &cap);
    unsigned n = size == 4 ? 4 : 2;
    for (unsigned i = 0; i < n; i++)
        if (d->pos < d->end && d->pos < cap)
            dst[d->pos++] = (uint8_t)(v >> (8 * i));
    if (d->pos >= d->end)
        pio_block_done(b, d);
}

/* REP OUTSW/OUTSD on the data register (io_write_rep): the whole elements
 * the block still takes in one copy, as that many data_write calls
 * would; the rest, and byte writes, one at a time (the BIOS writes a
 * sector with one REP OUTSW of 256 words). */
static size_t cmd_write_rep(void *opaque, uint64_t addr, unsigned size, const uint8_t *src,
                            size_t count)
{
    struct ide_bus *b = opaque;
    if ((addr & 7) != 0 || size == 1)
        return 0;
    struct ide_drive *d = sel_drive(b);
    if (!data_out_ready(d))
        return 0;
    uint32_t cap;
    uint8_t *dst = data_out_buf(d, &cap);
    size_t n = run_elems(d, cap, size, count);
    if (n == 0)
        return 0;
    memcpy(dst + d->pos, src, n * size);
    d->pos += (uint32_t)(n * size);
    if (d->pos >= d->end)
        pio_block_done(b, d);
    return n;
}

static uint64_t cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    struct ide_bus *b = opaque;
    unsigned reg = addr & 7;
    if (reg == 0)
        return data_read(b, size);
    if (b->drive[0].kind == DRIVE_NONE && b->drive[1].kind == DRIVE_NONE)
        return 0xff; /* empty channel: the bus floats high */
    struct ide_drive *d = sel_drive(b);
    bool hob = b->devctl & DC_HOB;
    if (d->kind == DRIVE_NONE && reg != 6)
        /* Device 0 answers for an absent device 1 with zeros (ATA-6
         * 9.16.1): hosts see neither a status nor a signature there. */
        return 0;
    switch (reg) {
    case 1: return d->error;
    case 2: return hob ? b->hob_nsector : b->nsector;
    case 3: return hob ? b->hob_sector : b->sector;
    case 4: return hob ? b->hob_lcyl : b->lcyl;
    case 5: return hob ? b->hob_hcyl : b->hcyl;
    case 6: return b->select | 0xa0; /* obsolete bits 7 and 5 read as 1 */
    default:
        /* Status: reading it clears the device's pending interrupt. */
        d->intrq = false;
        update_irq(b);
        return d->status;
    }
}

static void tf_write(uint8_t *cur, uint8_t *hob, uint8_t v)
{
    *hob = *cur;
    *cur = v;
}

static void cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    struct ide_bus *b = opaque;
    unsigned reg = addr & 7;
    uint8_t v = (uint8_t)val;
    if (reg == 0) {
        data_write(b, (uint32_t)val, size);
        return;
    }
    if (reg != 7)
        b->devctl &= (uint8_t)~DC_HOB; /* any task file write clears HOB (ATA-6 7.9) */
    switch (reg) {
    case 1: tf_write(&b->feature, &b->hob_feature, v); break;
    case 2: tf_write(&b->nsector, &b->hob_nsector, v); break;
    case 3: tf_write(&b->sector, &b->hob_sector, v); break;
    case 4: tf_write(&b->lcyl, &b->hob_lcyl, v); break;
    case 5: tf_write(&b->hcyl, &b->hob_hcyl, v); break;
    case 6:
        b->select = v & 0x5f; /* LBA, DEV, head; bits 7/5 obsolete */
        update_irq(b);
        break;
    default:
        b->devctl &= (uint8_t)~DC_HOB;
        write_command(b, v);
        break;
    }
}

static uint64_t ctl_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)addr;
    (void)size;
    struct ide_bus *b = opaque;
    if (b->drive[0].kind == DRIVE_NONE && b->drive[1].kind == DRIVE_NONE)
        return 0xff;
    struct ide_drive *d = sel_drive(b);
    /* Alternate status: the status without clearing INTRQ. */
    return d->kind == DRIVE_NONE ? 0 : d->status;
}

static void ctl_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)addr;
    (void)size;
    struct ide_bus *b = opaque;
    uint8_t old = b->devctl;
    b->devctl = (uint8_t)val & (DC_NIEN | DC_SRST | DC_HOB);
    if ((b->devctl & DC_SRST) && !(old & DC_SRST)) {
        /* SRST asserted: both devices busy, commands abandoned (ATA-6 9.2). */
        for (int i = 0; i < 2; i++) {
            struct ide_drive *d = &b->drive[i];
            vtimer_cancel(d->timer);
            if (d->kind == DRIVE_NONE)
                continue;
            d->pending = PEND_NONE;
            d->xfer = XFER_NONE;
            d->dma_wait = false;
            d->intrq = false;
            d->status = ST_BSY;
        }
    } else if (!(b->devctl & DC_SRST) && (old & DC_SRST)) {
        /* Released: the devices finish their reset shortly after. */
        struct ide_drive *d = b->drive[0].kind != DRIVE_NONE ? &b->drive[0] : &b->drive[1];
        d->pending = PEND_RESET;
        vtimer_arm(d->timer, vclock_ns(b->clk) + IDE_DELAY_NS);
    }
    update_irq(b);
}

const struct mem_ops ide_cmd_ops = { .read = cmd_read,
                                     .write = cmd_write,
                                     .read_rep = cmd_read_rep,
                                     .write_rep = cmd_write_rep };
const struct mem_ops ide_ctl_ops = { .read = ctl_read, .write = ctl_write };

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

struct ide_bus *ide_bus_new(struct vclock *clk, const struct irq_line *irq)
{
    struct ide_bus *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->clk = clk;
    if (irq)
        b->irq = *irq;
    for (int i = 0; i < 2; i++) {
        b->drive[i].bus = b;
        b->drive[i].timer = vtimer_new(clk, ide_timer, &b->drive[i]);
        if (!b->drive[i].timer) {
            ide_bus_free(b);
            return NULL;
        }
    }
    ide_bus_reset(b);
    return b;
}

void ide_bus_free(struct ide_bus *b)
{
    if (!b)
        return;
    for (int i = 0; i < 2; i++)
        if (b->drive[i].timer)
            vtimer_free(b->drive[i].timer);
    free(b);
}

void ide_bus_map_ports(struct ide_bus *b, struct io_space *io, uint16_t cmd_base,
                       uint16_t ctl_port)
{
    io_register(io, cmd_base, 8, &ide_cmd_ops, b);
    io_register(io, ctl_port, 1, &ide_ctl_ops, b);
}

void ide_bus_set_dma(struct ide_bus *b, const struct ide_dma_ops *ops, void *opaque)
{
    b->dma = ops;
    b->dma_opaque = opaque;
}

void ide_bus_reset(struct ide_bus *b)
{
    for (int i = 0; i < 2; i++)
        vtimer_cancel(b->drive[i].timer);
    b->devctl = 0;
    b->feature = b->hob_feature = b->hob_nsector = b->hob_sector = 0;
    b->hob_lcyl = b->hob_hcyl = 0;
    b->select = 0;
    for (int i = 0; i < 2; i++) {
        struct ide_drive *d = &b->drive[i];
        if (d->kind == DRIVE_NONE)
            continue;
        drive_reset(d);
        d->mult = 0;
        d->xfer_mode = 0;
        d->write_cache = true;
        d->standby = false;
        d->cur_heads = d->heads;
        d->cur_spt = d->spt;
        d->locked = false;
    }
    set_signature(b, b->drive[0].kind != DRIVE_NONE ? &b->drive[0] : &b->drive[1]);
    b->irq_level = false;
    irq_set(&b->irq, 0);
}

static int attach(struct ide_bus *b, int unit, enum drive_kind kind, struct block *blk)
{
    if (unit < 0 || unit > 1 || b->drive[unit].kind != DRIVE_NONE)
        return -1;
    struct ide_drive *d = &b->drive[unit];
    d->kind = (uint8_t)kind;
    d->blk = blk;
    if (kind == DRIVE_DISK) {
        d->sectors = block_size(blk) / 512;
        /* Default translation: 16 heads, 63 sectors (the BIOS "LBA-assist"
         * shape), cylinders capped at 16383 (ATA-6 word 1). */
        d->heads = 16;
        d->spt = 63;
        uint64_t c = d->sectors / (16 * 63);
        d->cyls = (uint16_t)(c > 16383 ? 16383 : c ? c : 1);
    }
    d->write_cache = true;
    d->cur_heads = d->heads;
    d->cur_spt = d->spt;
    drive_reset(d);
    if (unit == 0 || b->drive[0].kind == DRIVE_NONE)
        set_signature(b, d);
    return 0;
}

int ide_attach_disk(struct ide_bus *b, int unit, struct block *blk)
{
    if (!blk)
        return -1;
    return attach(b, unit, DRIVE_DISK, blk);
}

int ide_attach_cdrom(struct ide_bus *b, int unit, struct block *media)
{
    int rc = attach(b, unit, DRIVE_CDROM, media);
    if (rc == 0 && media)
        b->drive[unit].unit_attention = true; /* as after power-on (SPC: 29h/28h) */
    return rc;
}

bool ide_bus_irq_level(const struct ide_bus *b)
{
    return b->irq_level;
}

#define F(name, type, member, count) \
    { name, type, (uint32_t)offsetof(struct ide_bus, member), count }
#define DRV(i)                                                           \
    F("d" #i ".kind", DEV_FIELD_U8, drive[i].kind, 1),                    \
    F("d" #i ".status", DEV_FIELD_U8, drive[i].status, 1),                \
    F("d" #i ".error", DEV_FIELD_U8, drive[i].error, 1),                  \
    F("d" #i ".intrq", DEV_FIELD_BOOL, drive[i].intrq, 1),                \
    F("d" #i ".cur_heads", DEV_FIELD_U16, drive[i].cur_heads, 1),         \
    F("d" #i ".cur_spt", DEV_FIELD_U16, drive[i].cur_spt, 1),             \
    F("d" #i ".mult", DEV_FIELD_U8, drive[i].mult, 1),                    \
    F("d" #i ".xfer_mode", DEV_FIELD_U8, drive[i].xfer_mode, 1),          \
    F("d" #i ".write_cache", DEV_FIELD_BOOL, drive[i].write_cache, 1),    \
    F("d" #i ".standby", DEV_FIELD_BOOL, drive[i].standby, 1),            \
    F("d" #i ".cmd", DEV_FIELD_U8, drive[i].cmd, 1),                      \
    F("d" #i ".pending", DEV_FIELD_U8, drive[i].pending, 1),              \
    F("d" #i ".xfer", DEV_FIELD_U8, drive[i].xfer, 1),                    \
    F("d" #i ".lba48", DEV_FIELD_BOOL, drive[i].lba48, 1),                \
    F("d" #i ".is_write", DEV_FIELD_BOOL, drive[i].is_write, 1),          \
    F("d" #i ".dma_wait", DEV_FIELD_BOOL, drive[i].dma_wait, 1),          \
    F("d" #i ".lba", DEV_FIELD_U64, drive[i].lba, 1),                     \
    F("d" #i ".remaining", DEV_FIELD_U32, drive[i].remaining, 1),         \
    F("d" #i ".block", DEV_FIELD_U32, drive[i].block, 1),                 \
    F("d" #i ".pos", DEV_FIELD_U32, drive[i].pos, 1),                     \
    F("d" #i ".end", DEV_FIELD_U32, drive[i].end, 1),                     \
    F("d" #i ".fill", DEV_FIELD_U32, drive[i].fill, 1),                   \
    F("d" #i ".atapi_left", DEV_FIELD_U64, drive[i].atapi_left, 1),       \
    F("d" #i ".bcl", DEV_FIELD_U16, drive[i].bcl, 1),                     \
    F("d" #i ".atapi_dma", DEV_FIELD_BOOL, drive[i].atapi_dma, 1),        \
    F("d" #i ".packet", DEV_FIELD_BYTES, drive[i].packet, 12),            \
    F("d" #i ".sense_key", DEV_FIELD_U8, drive[i].sense_key, 1),          \
    F("d" #i ".asc", DEV_FIELD_U8, drive[i].asc, 1),                      \
    F("d" #i ".ascq", DEV_FIELD_U8, drive[i].ascq, 1),                    \
    F("d" #i ".tray_open", DEV_FIELD_BOOL, drive[i].tray_open, 1),        \
    F("d" #i ".locked", DEV_FIELD_BOOL, drive[i].locked, 1),              \
    F("d" #i ".unit_attention", DEV_FIELD_BOOL, drive[i].unit_attention, 1), \
    F("d" #i ".media_event", DEV_FIELD_U8, drive[i].media_event, 1),      \
    F("d" #i ".timer", DEV_FIELD_TIMER, drive[i].timer, 1),               \
    F("d" #i ".buf", DEV_FIELD_BYTES, drive[i].buf, IDE_BUF_SIZE)

static const struct dev_field ide_fields[] = {
    F("feature", DEV_FIELD_U8, feature, 1),
    F("nsector", DEV_FIELD_U8, nsector, 1),
    F("sector", DEV_FIELD_U8, sector, 1),
    F("lcyl", DEV_FIELD_U8, lcyl, 1),
    F("hcyl", DEV_FIELD_U8, hcyl, 1),
    F("hob_feature", DEV_FIELD_U8, hob_feature, 1),
    F("hob_nsector", DEV_FIELD_U8, hob_nsector, 1),
    F("hob_sector", DEV_FIELD_U8, hob_sector, 1),
    F("hob_lcyl", DEV_FIELD_U8, hob_lcyl, 1),
    F("hob_hcyl", DEV_FIELD_U8, hob_hcyl, 1),
    F("select", DEV_FIELD_U8, select, 1),
    F("devctl", DEV_FIELD_U8, devctl, 1),
    F("irq_level", DEV_FIELD_BOOL, irq_level, 1),
    DRV(0),
    DRV(1),
    { NULL, 0, 0, 0 },
};

const struct dev_state_desc ide_state_desc = { "ide", 1, ide_fields };
