/*
 * test_ide.c — the ATA channel (hw/ide.c) and its ATAPI CD-ROM
 * (hw/atapi.c) driven through the ports on a bare io_space with a manual
 * clock, and the PIIX3 bus-master engine
 * (hw/piix_ide.c) on a bare PCI bus with RAM for the PRD table.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/block.h"
#include "hw/ide.h"
#include "hw/pci.h"
#include "hw/piix_ide.h"

#define CMD 0x1f0
#define CTL 0x3f6
#define DISK_SECTORS 4096u

struct tirq {
    int level;
    int raises;
};

static void tirq_fn(void *opaque, int n, int level)
{
    (void)n;
    struct tirq *t = opaque;
    if (level && !t->level)
        t->raises++;
    t->level = level;
}

struct rig {
    struct vclock *clk;
    struct io_space *io;
    struct ide_bus *bus;
    struct irq_line line;
    struct tirq irq;
    char path[64], cdpath[64];
    struct block *disk, *cd;
};

static uint8_t pattern(uint64_t lba, unsigned i)
{
    return (uint8_t)(lba * 13 + i * 7 + (lba >> 8));
}

static void make_image(char *path, uint64_t sectors, unsigned ssize)
{
    strcpy(path, "/tmp/glass-ide-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    uint8_t *buf = malloc(ssize);
    for (uint64_t s = 0; s < sectors; s++) {
        for (unsigned i = 0; i < ssize; i++)
            buf[i] = pattern(s, i);
        cr_assert_eq(pwrite(fd, buf, ssize, (off_t)(s * ssize)), (ssize_t)ssize);
    }
    free(buf);
    close(fd);
}

static void rig_init(struct rig *r, bool disk, bool cd_slave)
{
    memset(r, 0, sizeof(*r));
    char err[256];
    r->clk = vclock_new_manual();
    r->io = io_new();
    irq_connect(&r->line, tirq_fn, &r->irq, 14);
    r->bus = ide_bus_new(r->clk, &r->line);
    ide_bus_map_ports(r->bus, r->io, CMD, CTL);
    if (disk) {
        make_image(r->path, DISK_SECTORS, 512);
        r->disk = block_open(r->path, false, err, sizeof(err));
        cr_assert_not_null(r->disk, "%s", err);
        cr_assert_eq(ide_attach_disk(r->bus, 0, r->disk), 0);
    }
    if (cd_slave) {
        make_image(r->cdpath, 32, 2048);
        r->cd = block_open(r->cdpath, true, err, sizeof(err));
        cr_assert_not_null(r->cd, "%s", err);
        cr_assert_eq(ide_attach_cdrom(r->bus, disk ? 1 : 0, r->cd), 0);
    }
}

static void rig_fini(struct rig *r)
{
    ide_bus_free(r->bus);
    block_close(r->disk);
    block_close(r->cd);
    if (r->path[0])
        unlink(r->path);
    if (r->cdpath[0])
        unlink(r->cdpath);
    io_free(r->io);
    vclock_free(r->clk);
}

static uint8_t inb(struct rig *r, uint16_t p) { return (uint8_t)io_read(r->io, p, 1); }
static uint16_t inw(struct rig *r, uint16_t p) { return (uint16_t)io_read(r->io, p, 2); }
static void outb(struct rig *r, uint16_t p, uint8_t v) { io_write(r->io, p, v, 1); }
static void outw(struct rig *r, uint16_t p, uint16_t v) { io_write(r->io, p, v, 2); }
static void settle(struct rig *r) { vclock_advance(r->clk, 20000); }

static void lba28(struct rig *r, int dev, uint32_t lba, uint8_t count)
{
    outb(r, CMD + 6, (uint8_t)(0xe0 | (dev << 4) | ((lba >> 24) & 0x0f)));
    outb(r, CMD + 2, count);
    outb(r, CMD + 3, (uint8_t)lba);
    outb(r, CMD + 4, (uint8_t)(lba >> 8));
    outb(r, CMD + 5, (uint8_t)(lba >> 16));
}

/* Issues a command and checks BSY shows before the timer runs. */
static void command(struct rig *r, uint8_t cmd)
{
    outb(r, CMD + 7, cmd);
    cr_assert(inb(r, CTL) & 0x80, "BSY after command %02x", cmd);
    settle(r);
}

static void read_block(struct rig *r, uint8_t *dst, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 2) {
        uint16_t w = inw(r, CMD);
        dst[i] = (uint8_t)w;
        dst[i + 1] = (uint8_t)(w >> 8);
    }
}

Test(ide, identify_device_contents)
{
    struct rig r;
    rig_init(&r, true, false);
    outb(&r, CMD + 6, 0xa0);
    command(&r, 0xec);
    cr_assert_eq(inb(&r, CTL), 0x58); /* DRDY DSC DRQ */
    cr_assert(r.irq.level);
    uint8_t id[512];
    read_block(&r, id, 512);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    cr_assert(!r.irq.level, "reading status clears INTRQ");
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = (uint16_t)(id[2 * i] | id[2 * i + 1] << 8);
    cr_assert_eq(w[0], 0x0040);
    cr_assert_eq(w[3], 16);
    cr_assert_eq(w[6], 63);
    cr_assert_eq(w[1], DISK_SECTORS / (16 * 63));
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    cr_assert(strncmp(model, "Glass HARDDISK      ", 20) == 0, "model '%s'", model);
    cr_assert_neq(w[10], 0);
    cr_assert_eq(w[49] & 0x0300, 0x0300);
    cr_assert_eq((uint32_t)w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    cr_assert_eq(w[100], DISK_SECTORS);
    cr_assert_eq(w[101] | w[102] | w[103], 0);
    cr_assert(w[83] & (1 << 10));
    cr_assert(w[86] & (1 << 10));
    cr_assert_eq(w[88] & 0x3f, 0x3f);
    cr_assert_eq(w[63] & 7, 7);
    cr_assert_eq(w[47] & 0xff, 16);
    cr_assert_eq(w[59], 0);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    cr_assert_eq(sum, 0);
    cr_assert_eq(id[510], 0xa5);
    /* SET MULTIPLE shows in word 59, a UDMA mode in word 88. */
    outb(&r, CMD + 2, 8);
    command(&r, 0xc6);
    outb(&r, CMD + 1, 0x03);
    outb(&r, CMD + 2, 0x45);
    command(&r, 0xef);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    command(&r, 0xec);
    read_block(&r, id, 512);
    cr_assert_eq(id[59 * 2], 8);
    cr_assert_eq(id[59 * 2 + 1], 1);
    cr_assert_eq(id[88 * 2 + 1], 0x20);
    rig_fini(&r);
}

Test(ide, pio_read_multi_sector_interrupt_per_block)
{
    struct rig r;
    rig_init(&r, true, false);
    lba28(&r, 0, 100, 3);
    command(&r, 0x20);
    uint8_t s[512];
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(r.irq.raises, k + 1);
        cr_assert_eq(inb(&r, CMD + 7) & 0x89, 0x08);
        read_block(&r, s, 512);
        for (unsigned i = 0; i < 512; i++)
            cr_assert_eq(s[i], pattern(100 + (unsigned)k, i));
        settle(&r);
    }
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    cr_assert_eq(r.irq.raises, 3);
    cr_assert_eq(inb(&r, CMD + 3), 102); /* last sector moved */
    rig_fini(&r);
}

Test(ide, pio_write_then_read_multiple)
{
    struct rig r;
    rig_init(&r, true, false);
    lba28(&r, 0, 7, 2);
    command(&r, 0x30);
    cr_assert_eq(inb(&r, CTL), 0x58);
    cr_assert_eq(r.irq.raises, 0, "no INTRQ before the first write block");
    for (int k = 0; k < 2; k++) {
        for (unsigned i = 0; i < 256; i++)
            outw(&r, CMD, (uint16_t)(0x1000 * k + i));
        cr_assert(inb(&r, CTL) & 0x80);
        settle(&r);
        cr_assert_eq(r.irq.raises, k + 1);
        inb(&r, CMD + 7);
    }
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    uint8_t s[512];
    cr_assert_eq(block_pread(r.disk, 8 * 512, s, 512), 0);
    cr_assert_eq(s[2], 1);
    cr_assert_eq(s[3], 0x10);
    /* READ MULTIPLE without SET MULTIPLE aborts; then 8 sectors in 4s. */
    lba28(&r, 0, 0, 8);
    command(&r, 0xc4);
    cr_assert_eq(inb(&r, CMD + 7), 0x41);
    cr_assert_eq(inb(&r, CMD + 1), 0x04);
    outb(&r, CMD + 2, 4);
    command(&r, 0xc6);
    lba28(&r, 0, 4, 8);
    r.irq.raises = 0;
    command(&r, 0xc4);
    uint8_t blk[2048];
    inb(&r, CMD + 7); /* the driver's status read acknowledges INTRQ */
    read_block(&r, blk, 2048);
    cr_assert_eq(blk[3 * 512 + 2], 1);      /* sector 7: written above */
    cr_assert_eq(blk[0], pattern(4, 0));
    cr_assert(inb(&r, CTL) & 0x80);
    settle(&r);
    read_block(&r, blk, 2048);
    cr_assert_eq(blk[2], 1);                /* sector 8 */
    cr_assert_eq(blk[3], 0x10);
    cr_assert_eq(blk[512], pattern(9, 0));
    cr_assert_eq(r.irq.raises, 2);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    rig_fini(&r);
}

Test(ide, chs_addressing_default_geometry)
{
    struct rig r;
    rig_init(&r, true, false);
    /* C/H/S 1/2/3 = (1*16 + 2)*63 + 2 = 1136 */
    outb(&r, CMD + 6, 0xa2);
    outb(&r, CMD + 2, 1);
    outb(&r, CMD + 3, 3);
    outb(&r, CMD + 4, 1);
    outb(&r, CMD + 5, 0);
    command(&r, 0x21);
    uint8_t s[512];
    read_block(&r, s, 512);
    cr_assert_eq(s[0], pattern(1136, 0));
    cr_assert_eq(s[511], pattern(1136, 511));
    /* Sector 0 does not exist in CHS. */
    outb(&r, CMD + 3, 0);
    command(&r, 0x20);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 1);
    cr_assert_eq(inb(&r, CMD + 1), 0x10);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors. */
    outb(&r, CMD + 6, 0xa3);
    outb(&r, CMD + 2, 17);
    command(&r, 0x91);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    outb(&r, CMD + 6, 0xa1);
    outb(&r, CMD + 2, 1);
    outb(&r, CMD + 3, 1);
    outb(&r, CMD + 4, 2);
    command(&r, 0x20);
    read_block(&r, s, 512);
    cr_assert_eq(s[0], pattern((2 * 4 + 1) * 17, 0));
    rig_fini(&r);
}

Test(ide, lba48_read_ext_and_hob)
{
    struct rig r;
    rig_init(&r, true, false);
    /* LBA 0x000000000f20, 2 sectors, written in the 48-bit order:
     * high bytes first (become HOB), then low bytes. */
    outb(&r, CMD + 6, 0x40);
    outb(&r, CMD + 2, 0);
    outb(&r, CMD + 2, 2);
    outb(&r, CMD + 3, 0);
    outb(&r, CMD + 3, 0x20);
    outb(&r, CMD + 4, 0);
    outb(&r, CMD + 4, 0x0f);
    outb(&r, CMD + 5, 0);
    outb(&r, CMD + 5, 0);
    command(&r, 0x24);
    uint8_t s[512];
    read_block(&r, s, 512);
    cr_assert_eq(s[5], pattern(0xf20, 5));
    settle(&r);
    read_block(&r, s, 512);
    cr_assert_eq(s[5], pattern(0xf21, 5));
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    /* A 48-bit address past the end: IDNF; HOB reads the high bytes. */
    outb(&r, CMD + 2, 0);
    outb(&r, CMD + 2, 1);
    outb(&r, CMD + 3, 1);
    outb(&r, CMD + 3, 0);
    outb(&r, CMD + 4, 0);
    outb(&r, CMD + 4, 0);
    outb(&r, CMD + 5, 0);
    outb(&r, CMD + 5, 0);
    command(&r, 0x24);
    cr_assert_eq(inb(&r, CMD + 7), 0x41);
    cr_assert_eq(inb(&r, CMD + 1), 0x10);
    outb(&r, CTL, 0x80);
    cr_assert_eq(inb(&r, CMD + 3), 1); /* LBA bits 31:24 */
    outb(&r, CTL, 0x00);
    cr_assert_eq(inb(&r, CMD + 3), 0);
    rig_fini(&r);
}

Test(ide, errors_past_the_end_and_unknown_commands)
{
    struct rig r;
    rig_init(&r, true, false);
    lba28(&r, 0, DISK_SECTORS - 1, 2);
    command(&r, 0x20);
    cr_assert_eq(inb(&r, CMD + 7), 0x41);
    cr_assert_eq(inb(&r, CMD + 1), 0x10);
    lba28(&r, 0, DISK_SECTORS, 1);
    command(&r, 0x30);
    cr_assert_eq(inb(&r, CMD + 7), 0x41);
    outb(&r, CMD + 7, 0xfe);
    cr_assert_eq(inb(&r, CMD + 7), 0x41);
    cr_assert_eq(inb(&r, CMD + 1), 0x04);
    /* A good command after errors works. */
    lba28(&r, 0, DISK_SECTORS - 1, 1);
    command(&r, 0x40);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    rig_fini(&r);
}

Test(ide, flush_reaches_the_backend)
{
    struct rig r;
    rig_init(&r, true, false);
    lba28(&r, 0, 1, 1);
    command(&r, 0x30);
    for (int i = 0; i < 256; i++)
        outw(&r, CMD, 0xbeef);
    settle(&r);
    cr_assert_eq(block_flush_count(r.disk), 0);
    command(&r, 0xe7);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    cr_assert_eq(block_flush_count(r.disk), 1);
    FILE *f = fopen(r.path, "rb");
    uint8_t b[2];
    fseek(f, 512, SEEK_SET);
    cr_assert_eq(fread(b, 1, 2, f), 2);
    fclose(f);
    cr_assert_eq(b[0], 0xef);
    cr_assert_eq(b[1], 0xbe);
    rig_fini(&r);
}

Test(ide, nien_gates_intrq)
{
    struct rig r;
    rig_init(&r, true, false);
    outb(&r, CTL, 0x02);
    command(&r, 0xe5); /* CHECK POWER MODE */
    cr_assert_eq(r.irq.raises, 0);
    cr_assert_eq(inb(&r, CMD + 2), 0xff);
    outb(&r, CTL, 0x00);
    cr_assert(r.irq.level, "pending INTRQ shows once nIEN clears");
    inb(&r, CMD + 7);
    cr_assert(!r.irq.level);
    rig_fini(&r);
}

Test(ide, software_reset_signatures_and_absent_devices)
{
    struct rig r;
    rig_init(&r, true, true);
    outb(&r, CTL, 0x04);
    cr_assert(inb(&r, CTL) & 0x80);
    outb(&r, CTL, 0x00);
    cr_assert(inb(&r, CTL) & 0x80);
    settle(&r);
    outb(&r, CMD + 6, 0xa0);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    cr_assert_eq(inb(&r, CMD + 2), 1);
    cr_assert_eq(inb(&r, CMD + 3), 1);
    cr_assert_eq(inb(&r, CMD + 4), 0);
    cr_assert_eq(inb(&r, CMD + 5), 0);
    cr_assert_eq(inb(&r, CMD + 1), 1);
    /* The CD-ROM's signature shows after its DEVICE RESET / IDENTIFY. */
    outb(&r, CMD + 6, 0xb0);
    command(&r, 0xec);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 1);
    cr_assert_eq(inb(&r, CMD + 4), 0x14);
    cr_assert_eq(inb(&r, CMD + 5), 0xeb);
    rig_fini(&r);

    /* Absent slave: status 00h; empty channel: FFh. */
    rig_init(&r, true, false);
    outb(&r, CMD + 6, 0xb0);
    cr_assert_eq(inb(&r, CMD + 7), 0x00);
    outb(&r, CMD + 7, 0xec);
    settle(&r);
    cr_assert_eq(inb(&r, CMD + 7), 0x00);
    cr_assert_eq(r.irq.raises, 0);
    rig_fini(&r);
    rig_init(&r, false, false);
    cr_assert_eq(inb(&r, CMD + 7), 0xff);
    rig_fini(&r);
}

/* ---- ATAPI ---- */

static void packet(struct rig *r, const uint8_t cdb[12], uint16_t bcl)
{
    outb(r, CMD + 1, 0);
    outb(r, CMD + 4, (uint8_t)bcl);
    outb(r, CMD + 5, (uint8_t)(bcl >> 8));
    outb(r, CMD + 7, 0xa0);
    cr_assert_eq(inb(r, CTL) & 0x88, 0x08, "DRQ for the packet");
    cr_assert_eq(inb(r, CMD + 2) & 3, 1, "C/D=1 I/O=0");
    for (int i = 0; i < 12; i += 2)
        outw(r, CMD, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    cr_assert(inb(r, CTL) & 0x80);
    settle(r);
}

/* Reads one DRQ chunk; returns its length. */
static unsigned atapi_chunk(struct rig *r, uint8_t *dst, unsigned max)
{
    cr_assert_eq(inb(r, CMD + 7) & 0x89, 0x08);
    cr_assert_eq(inb(r, CMD + 2) & 3, 2, "I/O=1 C/D=0");
    unsigned n = inb(r, CMD + 4) | inb(r, CMD + 5) << 8;
    cr_assert_leq(n, max);
    read_block(r, dst, n);
    settle(r);
    return n;
}

static void atapi_expect_done(struct rig *r)
{
    cr_assert_eq(inb(r, CMD + 7) & 0x89, 0x00);
    cr_assert_eq(inb(r, CMD + 2) & 3, 3);
}

Test(ide, atapi_identify_packet_and_read10)
{
    struct rig r;
    rig_init(&r, false, true);
    outb(&r, CMD + 6, 0xa0);
    command(&r, 0xa1);
    uint8_t id[512];
    read_block(&r, id, 512);
    cr_assert_eq(id[0] | id[1] << 8, 0x85c0);
    uint8_t tur[12] = { 0x00 };
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 1, "unit attention at first");
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 6);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0 }; /* LBA 3, 2 blocks */
    packet(&r, rd, 2048);
    uint8_t buf[4096];
    unsigned got = 0;
    while (got < 4096)
        got += atapi_chunk(&r, buf + got, 2048);
    atapi_expect_done(&r);
    cr_assert_eq(buf[0], pattern(3, 0));
    cr_assert_eq(buf[2047], pattern(3, 2047));
    cr_assert_eq(buf[2048 + 9], pattern(4, 9));
    /* A byte count limit smaller than a block splits it. */
    rd[5] = 31;
    rd[8] = 1;
    packet(&r, rd, 1000);
    got = 0;
    int chunks = 0;
    while (got < 2048) {
        got += atapi_chunk(&r, buf + got, 1000);
        chunks++;
    }
    cr_assert_eq(chunks, 3);
    atapi_expect_done(&r);
    cr_assert_eq(buf[1500], pattern(31, 1500));
    /* Past the end: ILLEGAL REQUEST / LBA out of range. */
    rd[5] = 32;
    packet(&r, rd, 2048);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 1);
    cr_assert_eq(inb(&r, CMD + 1), 0x54);
    uint8_t rs[12] = { 0x03, 0, 0, 0, 18 };
    packet(&r, rs, 0xfffe);
    uint8_t sense[18];
    cr_assert_eq(atapi_chunk(&r, sense, 18), 18);
    cr_assert_eq(sense[0], 0x70);
    cr_assert_eq(sense[2], 5);
    cr_assert_eq(sense[12], 0x21);
    rig_fini(&r);
}

Test(ide, atapi_read_toc_and_capacity)
{
    struct rig r;
    rig_init(&r, false, true);
    uint8_t tur[12] = { 0 };
    packet(&r, tur, 0); /* eat the unit attention */
    uint8_t cap[12] = { 0x25 };
    packet(&r, cap, 8);
    uint8_t b[64];
    atapi_chunk(&r, b, 8);
    cr_assert_eq(b[3], 31);
    cr_assert_eq(b[6], 0x08);
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 64 };
    packet(&r, toc, 64);
    unsigned n = atapi_chunk(&r, b, 64);
    atapi_expect_done(&r);
    cr_assert_eq(n, 20);
    cr_assert_eq(b[1], 18);
    cr_assert_eq(b[2], 1);
    cr_assert_eq(b[3], 1);
    cr_assert_eq(b[5], 0x14);
    cr_assert_eq(b[6], 1);
    cr_assert_eq(b[14], 0xaa);
    cr_assert_eq(b[19], 32); /* lead-out at LBA 32 */
    toc[1] = 2;              /* MSF */
    packet(&r, toc, 64);
    atapi_chunk(&r, b, 64);
    cr_assert_eq(b[9], 0);
    cr_assert_eq(b[10], 2); /* 00:02:00 */
    cr_assert_eq(b[11], 0);
    cr_assert_eq(b[18], 2);
    cr_assert_eq(b[19], 32);
    toc[2] = 1; /* session info */
    packet(&r, toc, 64);
    n = atapi_chunk(&r, b, 64);
    cr_assert_eq(n, 12);
    toc[2] = 2; /* raw */
    packet(&r, toc, 64);
    n = atapi_chunk(&r, b, 64);
    cr_assert_eq(n, 4 + 44);
    cr_assert_eq(b[4 + 3], 0xa0);
    cr_assert_eq(b[4 + 22 + 3], 0xa2);
    cr_assert_eq(b[4 + 22 + 10], 32); /* lead-out frame */
    /* MODE SENSE(10) capabilities page, allocation-limited. */
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 28 };
    packet(&r, ms, 0xfffe);
    n = atapi_chunk(&r, b, 64);
    cr_assert_eq(n, 28);
    cr_assert_eq(b[8], 0x2a);
    ms[2] = 0x3f;
    ms[8] = 64;
    packet(&r, ms, 0xfffe);
    n = atapi_chunk(&r, b, 64);
    cr_assert_eq(n, 8 + 8 + 16 + 20);
    rig_fini(&r);
}

Test(ide, atapi_request_sense_after_media_change_and_eject)
{
    struct rig r;
    rig_init(&r, false, true);
    uint8_t tur[12] = { 0 }, rs[12] = { 0x03, 0, 0, 0, 18 };
    uint8_t b[64];
    packet(&r, tur, 0);
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 0);
    cr_assert_eq(ide_cdrom_change_media(r.bus, 0, r.cd), 0);
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 1);
    packet(&r, rs, 0xfffe);
    atapi_chunk(&r, b, 18);
    cr_assert_eq(b[2], 6);
    cr_assert_eq(b[12], 0x28);
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 0);
    /* Media event, then locked eject refused, unlocked eject works. */
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    packet(&r, gesn, 0xfffe);
    atapi_chunk(&r, b, 8);
    cr_assert_eq(b[4], 2);
    cr_assert_eq(b[5], 2);
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 }, ej[12] = { 0x1b, 0, 0, 0, 2 };
    packet(&r, lock, 0);
    packet(&r, ej, 0);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 5);
    lock[4] = 0;
    packet(&r, lock, 0);
    packet(&r, ej, 0);
    cr_assert_eq(inb(&r, CMD + 7) & 1, 0);
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 2);
    packet(&r, rs, 0xfffe);
    atapi_chunk(&r, b, 18);
    cr_assert_eq(b[12], 0x3a);
    rig_fini(&r);
}

/* ---- Bus-master DMA through the PIIX3 function ---- */

struct dma_rig {
    struct rig r;
    struct phys_mem *pm;
    struct pci_bus *pci;
    struct piix_ide *piix;
    uint8_t *ram;
    struct ide_bus *ch[2];
};

#define BM 0xc000

static void dma_init(struct dma_rig *d)
{
    struct rig *r = &d->r;
    memset(d, 0, sizeof(*d));
    char err[256];
    r->clk = vclock_new_manual();
    r->io = io_new();
    d->pm = phys_new();
    d->ram = aligned_alloc(4096, 1 << 20);
    memset(d->ram, 0, 1 << 20);
    phys_map_ram(d->pm, 0, 1 << 20, d->ram);
    d->pci = pci_bus_new(d->pm, r->io);
    irq_connect(&r->line, tirq_fn, &r->irq, 14);
    d->piix = piix_ide_new(d->pci, r->io, d->pm, r->clk, &r->line, NULL, d->ch);
    cr_assert_not_null(d->piix);
    r->bus = d->ch[0];
    make_image(r->path, DISK_SECTORS, 512);
    r->disk = block_open(r->path, false, err, sizeof(err));
    cr_assert_eq(ide_attach_disk(r->bus, 0, r->disk), 0);
    int devfn = PIIX_IDE_DEVFN;
    cr_assert_eq(pci_config_read(d->pci, devfn, 0, 4), 0x70108086);
    cr_assert_eq(pci_config_read(d->pci, devfn, 8, 4) >> 8, 0x010180);
    pci_config_write(d->pci, devfn, 0x20, BM, 4);
    pci_config_write(d->pci, devfn, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    cr_assert_eq(pci_config_read(d->pci, devfn, 0x20, 4), BM | 1);
}

static void dma_fini(struct dma_rig *d)
{
    piix_ide_free(d->piix);
    d->r.bus = NULL;
    pci_bus_free(d->pci);
    phys_free(d->pm);
    free(d->ram);
    block_close(d->r.disk);
    unlink(d->r.path);
    io_free(d->r.io);
    vclock_free(d->r.clk);
}

static void put_prd(struct dma_rig *d, uint32_t at, uint32_t addr, uint32_t count, bool eot)
{
    uint32_t hi = (count & 0xffff) | (eot ? 0x80000000u : 0);
    memcpy(d->ram + at, &addr, 4);
    memcpy(d->ram + at + 4, &hi, 4);
}

Test(ide, dma_read_and_write_through_prd_table)
{
    struct dma_rig d;
    dma_init(&d);
    struct rig *r = &d.r;
    /* Three sectors into two regions: 1024 bytes at 0x10000, 512 at 0x20000. */
    put_prd(&d, 0x1000, 0x10000, 1024, false);
    put_prd(&d, 0x1008, 0x20000, 512, true);
    io_write(r->io, BM + 4, 0x1000, 4);
    io_write(r->io, BM + 2, 0x06, 1); /* clear interrupt/error */
    lba28(r, 0, 50, 3);
    outb(r, CMD + 7, 0xc8);
    io_write(r->io, BM, 0x09, 1); /* start, device to memory */
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 1, 1, "active");
    settle(r);
    cr_assert(r->irq.level);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 7, 4, "interrupt, not active");
    cr_assert_eq(inb(r, CMD + 7), 0x50);
    cr_assert_eq(d.ram[0x10000], pattern(50, 0));
    cr_assert_eq(d.ram[0x10000 + 1023], pattern(51, 511));
    cr_assert_eq(d.ram[0x20000 + 7], pattern(52, 7));
    cr_assert_eq(d.ram[0x20000 + 512], 0);
    io_write(r->io, BM, 0x08, 1);
    io_write(r->io, BM + 2, 0x04, 1);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 4, 0);

    /* Write: start first, then the command (the other order). */
    memset(d.ram + 0x30000, 0x5a, 1024);
    put_prd(&d, 0x1000, 0x30000, 1024, true);
    io_write(r->io, BM, 0x01, 1);
    lba28(r, 0, 200, 2);
    outb(r, CMD + 7, 0xca);
    cr_assert(inb(r, CTL) & 0x80);
    settle(r);
    cr_assert_eq(inb(r, CMD + 7), 0x50);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 7, 4);
    io_write(r->io, BM, 0x00, 1);
    uint8_t s[512];
    cr_assert_eq(block_pread(r->disk, 201 * 512, s, 512), 0);
    cr_assert_eq(s[0], 0x5a);
    cr_assert_eq(s[511], 0x5a);

    /* PRD table larger than the transfer: interrupt with Active still set. */
    put_prd(&d, 0x1000, 0x40000, 0, true); /* 64 KiB */
    io_write(r->io, BM + 2, 0x04, 1);
    io_write(r->io, BM, 0x09, 1);
    lba28(r, 0, 0, 1);
    outb(r, CMD + 7, 0xc8);
    settle(r);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 7, 5);
    io_write(r->io, BM, 0x08, 1);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 1, 0);

    /* LBA48 DMA (READ DMA EXT) past the end: IDNF, no transfer. */
    io_write(r->io, BM + 2, 0x04, 1);
    io_write(r->io, BM, 0x09, 1);
    outb(r, CMD + 6, 0x40);
    outb(r, CMD + 2, 0);
    outb(r, CMD + 2, 1);
    outb(r, CMD + 3, 0);
    outb(r, CMD + 3, 0);
    outb(r, CMD + 4, 0);
    outb(r, CMD + 4, 0x10); /* 4096 = DISK_SECTORS */
    outb(r, CMD + 5, 0);
    outb(r, CMD + 5, 0);
    outb(r, CMD + 7, 0x25);
    settle(r);
    cr_assert_eq(inb(r, CMD + 7), 0x41);
    cr_assert_eq(inb(r, CMD + 1), 0x10);
    io_write(r->io, BM, 0x08, 1);
    dma_fini(&d);
}

Test(ide, dma_prd_bounds_stay_inside_memory)
{
    struct dma_rig d;
    dma_init(&d);
    struct rig *r = &d.r;
    /* Region at the top of the 32-bit space and a table in a hole: the
     * engine must not crash the host, and the command ends with ABRT. */
    put_prd(&d, 0x1000, 0xffffff00u, 512, true);
    io_write(r->io, BM + 4, 0x1000, 4);
    io_write(r->io, BM, 0x09, 1);
    lba28(r, 0, 0, 4); /* 2048 bytes > 512 in the table */
    outb(r, CMD + 7, 0xc8);
    settle(r);
    cr_assert_eq(inb(r, CMD + 7), 0x41);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 1, 0, "table exhausted");
    io_write(r->io, BM, 0x00, 1);
    io_write(r->io, BM + 4, 0xfffffff8u, 4);
    io_write(r->io, BM, 0x01, 1);
    lba28(r, 0, 0, 1);
    outb(r, CMD + 7, 0xca);
    settle(r);
    cr_assert_eq(inb(r, CMD + 7) & 0x80, 0);
    dma_fini(&d);
}

Test(ide, atapi_dma_read10_and_config_registers)
{
    struct dma_rig d;
    dma_init(&d);
    struct rig *r = &d.r;
    char err[256];
    make_image(r->cdpath, 32, 2048);
    r->cd = block_open(r->cdpath, true, err, sizeof(err));
    cr_assert_eq(ide_attach_cdrom(r->bus, 1, r->cd), 0);
    /* IDE decode enabled in IDETIM for both channels, writable. */
    cr_assert_eq(pci_config_read(d.pci, PIIX_IDE_DEVFN, 0x40, 4), 0x80008000u);
    pci_config_write(d.pci, PIIX_IDE_DEVFN, 0x40, 0xa307, 2);
    cr_assert_eq(pci_config_read(d.pci, PIIX_IDE_DEVFN, 0x40, 2), 0xa307);
    outb(r, CMD + 6, 0xb0);
    uint8_t tur[12] = { 0 };
    packet(r, tur, 0);
    put_prd(&d, 0x1000, 0x50000, 4096, true);
    io_write(r->io, BM + 4, 0x1000, 4);
    io_write(r->io, BM + 2, 0x06, 1);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 2, 0 };
    outb(r, CMD + 1, 0x01); /* DMA */
    outb(r, CMD + 7, 0xa0);
    for (int i = 0; i < 12; i += 2)
        outw(r, CMD, (uint16_t)(rd[i] | rd[i + 1] << 8));
    io_write(r->io, BM, 0x09, 1);
    settle(r);
    cr_assert_eq(io_read(r->io, BM + 2, 1) & 7, 4);
    atapi_expect_done(r);
    cr_assert_eq(d.ram[0x50000], pattern(10, 0));
    cr_assert_eq(d.ram[0x50000 + 4095], pattern(11, 2047));
    io_write(r->io, BM, 0x00, 1);
    /* INQUIRY and GET CONFIGURATION over PIO. */
    outb(r, CMD + 1, 0);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 }, b[64];
    packet(r, inq, 0xfffe);
    cr_assert_eq(atapi_chunk(r, b, 64), 36);
    cr_assert_eq(b[0], 0x05);
    cr_assert_eq(b[1], 0x80);
    cr_assert(memcmp(b + 16, "Glass CD-ROM", 12) == 0);
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    packet(r, gc, 0xfffe);
    unsigned n = atapi_chunk(r, b, 64);
    cr_assert_eq(n, 8 + 8 + 12 + 8 + 12);
    cr_assert_eq(b[7], 0x08); /* current profile CD-ROM */
    cr_assert_eq(b[8 + 5], 0x08);
    gc[1] = 2;
    gc[3] = 0x10;
    packet(r, gc, 0xfffe);
    n = atapi_chunk(r, b, 64);
    cr_assert_eq(n, 8 + 12);
    cr_assert_eq(b[9], 0x10);
    uint8_t bad[12] = { 0xff };
    packet(r, bad, 0xfffe);
    cr_assert_eq(inb(r, CMD + 1), 0x54);
    block_close(r->cd);
    r->cd = NULL;
    unlink(r->cdpath);
    dma_fini(&d);
}

Test(ide, execute_device_diagnostic_and_absent_slave_registers)
{
    struct rig r;
    rig_init(&r, true, false);
    outb(&r, CMD + 2, 0x55);
    outb(&r, CMD + 3, 0xaa);
    command(&r, 0x90);
    cr_assert(r.irq.level);
    cr_assert_eq(inb(&r, CMD + 1), 0x01);
    cr_assert_eq(inb(&r, CMD + 2), 0x01);
    cr_assert_eq(inb(&r, CMD + 3), 0x01);
    cr_assert_eq(inb(&r, CMD + 7), 0x50);
    /* The host's presence test on device 1 reads nothing back. */
    outb(&r, CMD + 6, 0xb0);
    outb(&r, CMD + 2, 0x55);
    outb(&r, CMD + 3, 0xaa);
    cr_assert_eq(inb(&r, CMD + 2), 0);
    cr_assert_eq(inb(&r, CMD + 3), 0);
    cr_assert_eq(inb(&r, CTL), 0);
    rig_fini(&r);
}

Test(ide, atapi_read_cd_user_data_and_empty_drive)
{
    struct rig r;
    rig_init(&r, false, true);
    uint8_t tur[12] = { 0 }, b[4096];
    packet(&r, tur, 0);
    uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 5, 0, 0, 1, 0x10 };
    packet(&r, rcd, 0xfffe);
    cr_assert_eq(atapi_chunk(&r, b, 4096), 2048);
    atapi_expect_done(&r);
    cr_assert_eq(b[100], pattern(5, 100));
    rcd[9] = 0xf8; /* raw sectors: not supported */
    packet(&r, rcd, 0xfffe);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 5);
    /* Host-side eject: unit attention, then NOT READY / medium not present. */
    cr_assert_eq(ide_cdrom_change_media(r.bus, 0, NULL), 0);
    packet(&r, tur, 0);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 6);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    packet(&r, rd, 2048);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 2);
    uint8_t cap[12] = { 0x25 };
    packet(&r, cap, 8);
    cr_assert_eq(inb(&r, CMD + 1) >> 4, 2);
    cr_assert_eq(ide_cdrom_change_media(r.bus, 1, NULL), -1);
    rig_fini(&r);
}

static unsigned traced;
static void count_trace(void *opaque, bool write, uint16_t port, uint32_t val, unsigned size)
{
    (void)write, (void)port, (void)val, (void)size;
    (*(unsigned *)opaque)++;
}

/* REP INSW/INSD's run of data-port reads in one go (io_read_rep): whole
 * elements up to the end of the DRQ block and no further, the same bytes
 * and the same next step (the next sector's BSY, its interrupt; the
 * task file moved) as word-by-word reads; byte reads, other registers
 * and an idle drive take no runs. */
Test(ide, rep_reads_of_the_data_port_stop_at_the_block_end)
{
    struct rig r;
    rig_init(&r, true, false);
    uint8_t buf[2048];
    cr_assert_eq(io_read_rep(r.io, CMD, 2, buf, 4), 0, "no data block: no run");
    lba28(&r, 0, 200, 2);
    command(&r, 0x20);
    cr_assert_eq(io_read_rep(r.io, CMD, 1, buf, 4), 0, "byte reads one at a time");
    cr_assert_eq(io_read_rep(r.io, CMD + 1, 2, buf, 4), 0, "not the data register");
    /* Ten words, then the rest of the sector as dwords: a run never
     * passes the block's end, however many the caller asks for. */
    cr_assert_eq(io_read_rep(r.io, CMD, 2, buf, 10), 10);
    cr_assert_eq(inb(&r, CMD + 7) & 0x89, 0x08, "DRQ until the block's last byte");
    cr_assert_eq(io_read_rep(r.io, CMD, 4, buf + 20, 1000), (512 - 20) / 4);
    for (unsigned i = 0; i < 512; i++)
        cr_assert_eq(buf[i], pattern(200, i), "byte %u", i);
    cr_assert(inb(&r, CTL) & 0x80, "BSY: the next sector comes after the delay");
    cr_assert_eq(io_read_rep(r.io, CMD, 2, buf, 256), 0, "nothing while BSY");
    settle(&r);
    cr_assert_eq(r.irq.raises, 2);
    cr_assert_eq(io_read_rep(r.io, CMD, 2, buf, 256), 256);
    for (unsigned i = 0; i < 512; i++)
        cr_assert_eq(buf[i], pattern(201, i));
    cr_assert_eq(inb(&r, CMD + 7), 0x50, "done after the last block");
    cr_assert_eq(inb(&r, CMD + 3), 201, "task file at the last sector");
    /* Traced (-d ioport), every read is one: the trace shows each. */
    lba28(&r, 0, 202, 1);
    command(&r, 0x20);
    io_set_trace(r.io, count_trace, &traced);
    cr_assert_eq(io_read_rep(r.io, CMD, 2, buf, 256), 0);
    cr_assert_eq(inw(&r, CMD), pattern(202, 0) | pattern(202, 1) << 8);
    cr_assert_eq(traced, 1);
    io_set_trace(r.io, NULL, NULL);
    rig_fini(&r);
}

/* REP OUTSW/OUTSD's runs of data-port writes (io_write_rep): up to the
 * end of the block the drive takes, then its next step (the sector
 * written, the next one asked for); the data reach the image as
 * word-by-word writes would. */
Test(ide, rep_writes_of_the_data_port_stop_at_the_block_end)
{
    struct rig r;
    rig_init(&r, true, false);
    uint8_t src[1024], back[512];
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13 + 1);
    cr_assert_eq(io_write_rep(r.io, CMD, 2, src, 4), 0, "no data block: no run");
    lba28(&r, 0, 300, 2);
    command(&r, 0x30);
    cr_assert_eq(io_write_rep(r.io, CMD, 1, src, 4), 0, "byte writes one at a time");
    cr_assert_eq(io_write_rep(r.io, CMD, 2, src, 10), 10);
    cr_assert_eq(io_write_rep(r.io, CMD, 4, src + 20, 1000), (512 - 20) / 4);
    cr_assert(inb(&r, CTL) & 0x80, "BSY: the sector is being written");
    cr_assert_eq(io_write_rep(r.io, CMD, 2, src, 256), 0, "nothing while BSY");
    settle(&r);
    cr_assert_eq(io_write_rep(r.io, CMD, 2, src + 512, 256), 256);
    settle(&r);
    cr_assert_eq(inb(&r, CMD + 7), 0x50, "done after the last block");
    for (unsigned k = 0; k < 2; k++) {
        lba28(&r, 0, 300 + k, 1);
        command(&r, 0x20);
        read_block(&r, back, 512);
        settle(&r);
        cr_assert_eq(memcmp(back, src + 512 * k, 512), 0, "sector %u", 300 + k);
    }
    rig_fini(&r);
}
