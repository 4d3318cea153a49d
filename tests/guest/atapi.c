/*
 * atapi.c — an ATAPI CD-ROM on the secondary channel, master (-cdrom's
 * place), from inside a guest, the way Linux's libata (atapi_eh, sr) and
 * El Torito BIOSes drive it (ATA/ATAPI-6 for the PACKET protocol, MMC for
 * the commands): the PACKET signature, IDENTIFY DEVICE aborted and
 * IDENTIFY PACKET DEVICE, TEST UNIT READY / REQUEST SENSE, INQUIRY, READ
 * CAPACITY, READ(10) by PIO with a byte count limit and by bus-master DMA,
 * and an out-of-range read ending in CHECK CONDITION.
 *
 * The medium (tests/guest/atapi.args) is build/guest/cd.img from
 * tests/guest/host/mkdisk.c: 4096 sectors of 512 bytes with the disk
 * pattern, so CD block n (2048 bytes) is 512-byte sectors 4n..4n+3.
 */
#include "lib/guest.h"

#define CD_BLOCKS 1024u

#define ATA_DATA 0x170
#define ATA_ERROR 0x171
#define ATA_FEATURE 0x171
#define ATA_IREASON 0x172 /* sector count: interrupt reason for PACKET */
#define ATA_LBAL 0x173
#define ATA_BCL 0x174 /* byte count low (LBA mid) */
#define ATA_BCH 0x175 /* byte count high (LBA high) */
#define ATA_DEV 0x176
#define ATA_STATUS 0x177
#define ATA_CMD 0x177
#define ATA_ALTSTATUS 0x376
#define ATA_CTL 0x376

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_BSY 0x80
#define IR_COD 0x01
#define IR_IO 0x02

#define BM_BASE 0xc000
#define BM2_CMD (BM_BASE + 8) /* the secondary channel's engine */
#define BM2_STATUS (BM_BASE + 10)
#define BM2_PRD (BM_BASE + 12)

#define SPIN_MAX 50000000u

static uint8_t buf[8192] __attribute__((aligned(4096)));
static uint32_t prd[2] __attribute__((aligned(8)));

static uint8_t wait_not_busy(void)
{
    uint8_t st = ST_BSY;
    for (unsigned n = 0; n < SPIN_MAX && (st & ST_BSY); n++)
        st = inb(ATA_ALTSTATUS);
    CHECK_EQ(st & ST_BSY, 0);
    return st;
}

static void read_words(void *dst, unsigned words)
{
    __asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(words) : "d"((uint16_t)ATA_DATA)
                     : "memory");
}

static void write_words(const void *src, unsigned words)
{
    __asm__ volatile("cld; rep outsw" : "+S"(src), "+c"(words) : "d"((uint16_t)ATA_DATA)
                     : "memory");
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_block(const uint8_t *got, uint32_t block)
{
    for (uint32_t s = 0; s < 4; s++) {
        uint32_t lba = block * 4 + s;
        for (unsigned i = 0; i < 512; i++) {
            uint8_t want = i < 4 ? (uint8_t)(lba >> (8 * i)) : (uint8_t)(lba + i);
            if (got[512 * s + i] != want) {
                printf("FAIL block %u byte %u: %x, want %x\n", block, 512 * s + i,
                       got[512 * s + i], want);
                guest_exit(1);
            }
        }
    }
}

/*
 * One PACKET command by PIO (ATA-6 9.10): returns the bytes transferred
 * into `data` (at most `max`), or -1 if the device ended with ERR (then
 * the sense key is in *sense_key). `bcl` is the byte count limit.
 */
static int packet_pio(const uint8_t cdb[12], uint8_t *data, unsigned max, uint16_t bcl,
                      unsigned *sense_key)
{
    wait_not_busy();
    outb(ATA_DEV, 0xa0);
    outb(ATA_FEATURE, 0x00); /* PIO */
    outb(ATA_BCL, (uint8_t)bcl);
    outb(ATA_BCH, (uint8_t)(bcl >> 8));
    outb(ATA_CMD, 0xa0);
    uint8_t st = wait_not_busy();
    CHECK_EQ(st & (ST_DRQ | ST_ERR), ST_DRQ);
    CHECK_EQ(inb(ATA_IREASON) & (IR_COD | IR_IO), IR_COD); /* wants the packet */
    write_words(cdb, 6);
    unsigned got = 0;
    for (;;) {
        st = wait_not_busy();
        if (!(st & ST_DRQ))
            break;
        CHECK_EQ(inb(ATA_IREASON) & (IR_COD | IR_IO), IR_IO); /* data to the host */
        unsigned n = inb(ATA_BCL) | (unsigned)inb(ATA_BCH) << 8;
        CHECK(n > 0 && n <= bcl && !(n & 1));
        CHECK(got + n <= max);
        read_words(data + got, n / 2);
        got += n;
    }
    st = inb(ATA_STATUS); /* acknowledge */
    if (st & ST_ERR) {
        if (sense_key)
            *sense_key = inb(ATA_ERROR) >> 4;
        return -1;
    }
    /* Completion: I/O and C/D both set (ATA-6 9.10, status phase). */
    CHECK_EQ(inb(ATA_IREASON) & (IR_COD | IR_IO), IR_COD | IR_IO);
    return (int)got;
}

static void request_sense(uint8_t sense[18])
{
    const uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };
    CHECK_EQ(packet_pio(cdb, sense, 18, 18, 0), 18);
    CHECK_EQ(sense[0] & 0x7f, 0x70); /* fixed format, current error */
}

static void test_signature(void)
{
    outb(ATA_CTL, 0x06); /* SRST, nIEN */
    for (volatile int i = 0; i < 1000; i++)
        inb(ATA_ALTSTATUS);
    outb(ATA_CTL, 0x02);
    wait_not_busy();
    outb(ATA_DEV, 0xa0);
    /* A PACKET device's signature (ATA-6 9.12). */
    CHECK_EQ(inb(ATA_BCL), 0x14);
    CHECK_EQ(inb(ATA_BCH), 0xeb);
    /* IDENTIFY DEVICE is aborted, the signature stays: how drivers tell
     * ATAPI from ATA. */
    outb(ATA_CMD, 0xec);
    uint8_t st = wait_not_busy();
    CHECK(st & ST_ERR);
    CHECK(inb(ATA_ERROR) & 0x04); /* ABRT */
    CHECK_EQ(inb(ATA_BCL), 0x14);
    CHECK_EQ(inb(ATA_BCH), 0xeb);
    inb(ATA_STATUS);
    /* IDENTIFY PACKET DEVICE. */
    outb(ATA_CMD, 0xa1);
    st = wait_not_busy();
    CHECK_EQ(st & (ST_DRQ | ST_ERR), ST_DRQ);
    uint16_t id[256];
    read_words(id, 256);
    inb(ATA_STATUS);
    /* ATAPI (10b), CD-ROM (05h), removable, 12-byte packets. */
    CHECK_EQ(id[0] & 0xdf83, 0x8580);
    char model[41];
    for (unsigned i = 0; i < 20; i++) {
        model[2 * i] = (char)(id[27 + i] >> 8);
        model[2 * i + 1] = (char)id[27 + i];
    }
    unsigned n = 40;
    while (n && model[n - 1] == ' ')
        n--;
    model[n] = 0;
    printf("atapi: model '%s'\n", model);
    CHECK(id[49] & 0x0200); /* LBA (required of ATAPI) */
    puts("atapi: signature, IDENTIFY (PACKET) DEVICE ok\n");
}

static void test_ready(void)
{
    /* TEST UNIT READY until the power-on / medium UNIT ATTENTION is
     * consumed (MMC: sense key 6 once). */
    const uint8_t tur[12] = { 0x00 };
    uint8_t sense[18];
    int ok = 0;
    for (unsigned i = 0; i < 4 && !ok; i++) {
        unsigned key = 0;
        if (packet_pio(tur, buf, 0, 2048, &key) == 0) {
            ok = 1;
        } else {
            CHECK(key == 6 || key == 2); /* UNIT ATTENTION or becoming ready */
            request_sense(sense);
        }
    }
    CHECK(ok);
    const uint8_t inquiry[12] = { 0x12, 0, 0, 0, 36 };
    CHECK_EQ(packet_pio(inquiry, buf, 36, 2048, 0), 36);
    CHECK_EQ(buf[0] & 0x1f, 0x05); /* CD/DVD device */
    CHECK(buf[1] & 0x80);          /* removable medium */
    const uint8_t capacity[12] = { 0x25 };
    CHECK_EQ(packet_pio(capacity, buf, 8, 2048, 0), 8);
    CHECK_EQ(be32(buf), CD_BLOCKS - 1); /* last block */
    CHECK_EQ(be32(buf + 4), 2048);
    puts("atapi: TEST UNIT READY, INQUIRY, READ CAPACITY ok\n");
}

static void test_read_pio(void)
{
    /* READ(10) of blocks 5 and 6: two DRQ blocks of 2048 bytes. */
    const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 2 };
    CHECK_EQ(packet_pio(rd, buf, sizeof(buf), 2048, 0), 4096);
    check_block(buf, 5);
    check_block(buf + 2048, 6);
    /* A byte count limit of 1024: the drive cuts each block in halves. */
    const uint8_t rd1[12] = { 0x28, 0, 0, 0, 0x03, 0xff, 0, 0, 1 };
    CHECK_EQ(packet_pio(rd1, buf, sizeof(buf), 1024, 0), 2048);
    check_block(buf, CD_BLOCKS - 1);
    /* Past the end: CHECK CONDITION, ILLEGAL REQUEST, LBA out of range. */
    const uint8_t bad[12] = { 0x28, 0, 0, 0, 0x04, 0x00, 0, 0, 1 };
    unsigned key = 0;
    CHECK_EQ(packet_pio(bad, buf, sizeof(buf), 2048, &key), -1);
    CHECK_EQ(key, 5);
    uint8_t sense[18];
    request_sense(sense);
    CHECK_EQ(sense[2] & 0x0f, 5);
    CHECK_EQ(sense[12], 0x21);
    puts("atapi: READ(10) by PIO ok\n");
}

static void test_read_dma(void)
{
    /* Bus mastering on the secondary channel's half of BAR4. */
    pci_write16(1, 1, 0x42, 0x8000); /* IDETIM: decode the secondary */
    pci_write32(1, 1, 0x20, BM_BASE);
    pci_write16(1, 1, 0x04, (uint16_t)(pci_read32(1, 1, 0x04) | 0x05));
    for (unsigned i = 0; i < 4096; i++)
        buf[i] = 0xcc;
    prd[0] = (uint32_t)buf;
    prd[1] = 0x80000000u | 4096;
    outl(BM2_PRD, (uint32_t)prd);
    outb(BM2_STATUS, 0x06);
    outb(BM2_CMD, 0x08); /* to memory */
    outb(ATA_CTL, 0x00); /* INTRQ to the engine */
    wait_not_busy();
    outb(ATA_DEV, 0xa0);
    outb(ATA_FEATURE, 0x01); /* DMA */
    outb(ATA_BCL, 0);
    outb(ATA_BCH, 0);
    outb(ATA_CMD, 0xa0);
    CHECK_EQ(wait_not_busy() & (ST_DRQ | ST_ERR), ST_DRQ);
    const uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 100, 0, 0, 2 };
    write_words(rd, 6);
    outb(BM2_CMD, 0x09);
    uint8_t bm = 0;
    for (unsigned n = 0; n < SPIN_MAX && !(bm & 0x04); n++)
        bm = inb(BM2_STATUS);
    outb(BM2_CMD, 0x00);
    CHECK_EQ(bm & 0x07, 0x04); /* interrupt, no error, not active */
    uint8_t st = inb(ATA_STATUS);
    CHECK_EQ(st & (ST_BSY | ST_DRQ | ST_ERR), 0);
    CHECK_EQ(inb(ATA_IREASON) & (IR_COD | IR_IO), IR_COD | IR_IO);
    outb(BM2_STATUS, 0x04);
    outb(ATA_CTL, 0x02);
    check_block(buf, 100);
    check_block(buf + 2048, 101);
    puts("atapi: READ(10) by DMA ok\n");
}

void test_main(void)
{
    test_signature();
    test_ready();
    test_read_pio();
    test_read_dma();
}
