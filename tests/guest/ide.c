/*
 * ide.c — the PIIX3 IDE function and an ATA disk from inside a guest, the
 * way a BIOS and Linux's ata_piix/libata use them (ATA/ATAPI-6, 82371SB
 * datasheet "Bus Master IDE"): IDENTIFY DEVICE, PIO reads and writes with
 * 28-bit LBA, FLUSH CACHE, 48-bit READ SECTORS EXT, and bus-master DMA
 * through BAR4 with a PRD table, polled and on IRQ 14.
 *
 * The disk (tests/guest/ide.args) is build/guest/ide-disk.img from
 * tests/guest/host/mkdisk.c: 8192 sectors, each holding its LBA in bytes
 * 0-3 and (LBA + i) & 0xFF at byte i after that. The sectors this test
 * writes (LBA 100 by PIO, 101 by DMA) are checked on the host afterwards
 * by tests/guest/ide.check.
 */
#include "lib/guest.h"

#define DISK_SECTORS 8192u
#define PIO_LBA 100u
#define DMA_LBA 101u

/* Primary channel, compatibility mode. */
#define ATA_DATA 0x1f0
#define ATA_ERROR 0x1f1
#define ATA_FEATURE 0x1f1
#define ATA_NSECT 0x1f2
#define ATA_LBAL 0x1f3
#define ATA_LBAM 0x1f4
#define ATA_LBAH 0x1f5
#define ATA_DEV 0x1f6
#define ATA_STATUS 0x1f7
#define ATA_CMD 0x1f7
#define ATA_ALTSTATUS 0x3f6
#define ATA_CTL 0x3f6

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80

#define BM_BASE 0xc000 /* where this test puts BAR4 */
#define BM_CMD (BM_BASE + 0)
#define BM_STATUS (BM_BASE + 2)
#define BM_PRD (BM_BASE + 4)
#define BM_START 0x01
#define BM_TO_MEMORY 0x08
#define BM_ACTIVE 0x01
#define BM_ERROR 0x02
#define BM_INTR 0x04

#define IDE_DEV 1
#define IDE_FN 1

#define SPIN_MAX 50000000u

static uint8_t buf[8192] __attribute__((aligned(4096)));
static uint16_t id[256];

static void pattern(uint8_t *s, uint32_t lba)
{
    for (unsigned i = 0; i < 512; i++)
        s[i] = (uint8_t)(lba + i);
    s[0] = (uint8_t)lba;
    s[1] = (uint8_t)(lba >> 8);
    s[2] = (uint8_t)(lba >> 16);
    s[3] = (uint8_t)(lba >> 24);
}

/* What mkdisk -w prints: keep the two in step. */
static void written(uint8_t *s, uint32_t lba)
{
    for (unsigned i = 0; i < 512; i++)
        s[i] = (uint8_t)((i * 13) ^ 0x5a ^ lba);
    const char *tag = "GLASS WROTE";
    for (unsigned i = 0; tag[i]; i++)
        s[i] = (uint8_t)tag[i];
}

static void check_sector(const uint8_t *got, uint32_t lba, int is_written)
{
    uint8_t want[512];
    if (is_written)
        written(want, lba);
    else
        pattern(want, lba);
    for (unsigned i = 0; i < 512; i++)
        if (got[i] != want[i]) {
            printf("FAIL sector %u byte %u: %x, want %x\n", lba, i, got[i], want[i]);
            guest_exit(1);
        }
}

/* Waits for BSY to clear (reading the alternate status does not
 * acknowledge the interrupt). Returns the status. */
static uint8_t wait_not_busy(void)
{
    uint8_t st = ST_BSY;
    for (unsigned n = 0; n < SPIN_MAX && (st & ST_BSY); n++)
        st = inb(ATA_ALTSTATUS);
    CHECK_EQ(st & ST_BSY, 0);
    return st;
}

/* ATA-6 9.7 (PIO data-in): after the command, wait BSY = 0, then DRQ. */
static void wait_drq(void)
{
    uint8_t st = wait_not_busy();
    if (st & ST_ERR)
        printf("FAIL status %x error %x\n", st, inb(ATA_ERROR));
    CHECK_EQ(st & (ST_ERR | ST_DF | ST_DRQ), ST_DRQ);
}

static void read_words(void *dst, unsigned words)
{
    __asm__ volatile("cld; rep insw"
                     : "+D"(dst), "+c"(words)
                     : "d"((uint16_t)ATA_DATA)
                     : "memory");
}

static void write_words(const void *src, unsigned words)
{
    __asm__ volatile("cld; rep outsw"
                     : "+S"(src), "+c"(words)
                     : "d"((uint16_t)ATA_DATA)
                     : "memory");
}

/* The taskfile for a 28-bit LBA command on the master. */
static void tf28(uint32_t lba, uint8_t count)
{
    wait_not_busy();
    outb(ATA_DEV, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f))); /* LBA, device 0 */
    outb(ATA_NSECT, count);
    outb(ATA_LBAL, (uint8_t)lba);
    outb(ATA_LBAM, (uint8_t)(lba >> 8));
    outb(ATA_LBAH, (uint8_t)(lba >> 16));
}

/* 48-bit: each register is a two-byte FIFO, "previous content" (HOB)
 * written first (ATA-6 6.20). */
static void tf48(uint64_t lba, uint16_t count)
{
    wait_not_busy();
    outb(ATA_DEV, 0x40);
    outb(ATA_NSECT, (uint8_t)(count >> 8));
    outb(ATA_LBAL, (uint8_t)(lba >> 24));
    outb(ATA_LBAM, (uint8_t)(lba >> 32));
    outb(ATA_LBAH, (uint8_t)(lba >> 40));
    outb(ATA_NSECT, (uint8_t)count);
    outb(ATA_LBAL, (uint8_t)lba);
    outb(ATA_LBAM, (uint8_t)(lba >> 8));
    outb(ATA_LBAH, (uint8_t)(lba >> 16));
}

/* Ends a command without data: BSY clears, no error; reading the status
 * register acknowledges INTRQ. */
static void finish_nodata(void)
{
    uint8_t st = wait_not_busy();
    CHECK_EQ(st & (ST_ERR | ST_DF | ST_DRQ | ST_DRDY), ST_DRDY);
    inb(ATA_STATUS);
}

static void string_from_id(char *out, unsigned first, unsigned words)
{
    for (unsigned i = 0; i < words; i++) {
        out[2 * i] = (char)(id[first + i] >> 8); /* ATA strings: byte-swapped words */
        out[2 * i + 1] = (char)id[first + i];
    }
    unsigned n = 2 * words;
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

static int str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void test_pci_setup(void)
{
    CHECK_EQ(pci_read32(IDE_DEV, IDE_FN, 0x00), 0x70108086);
    /* IDETIM bit 15: decode the primary channel's legacy ports, as a
     * BIOS sets it (82371SB 2.4.x IDETIM). */
    pci_write16(IDE_DEV, IDE_FN, 0x40, 0x8000);
    /* BAR4: 16 bytes of I/O. Sizing first (PCI 2.1 6.2.5.1). */
    pci_write32(IDE_DEV, IDE_FN, 0x20, 0xffffffffu);
    uint32_t size = pci_read32(IDE_DEV, IDE_FN, 0x20);
    CHECK_EQ(size & 1, 1);               /* I/O space */
    CHECK_EQ((~(size & ~3u) & 0xffff) + 1, 16); /* 16 bytes */
    pci_write32(IDE_DEV, IDE_FN, 0x20, BM_BASE);
    CHECK_EQ(pci_read32(IDE_DEV, IDE_FN, 0x20), BM_BASE | 1);
    /* Command: I/O space and bus master. */
    uint32_t cmd = pci_read32(IDE_DEV, IDE_FN, 0x04) & 0xffff;
    pci_write16(IDE_DEV, IDE_FN, 0x04, (uint16_t)(cmd | 0x05));
    CHECK_EQ(pci_read32(IDE_DEV, IDE_FN, 0x04) & 0x05, 0x05);
    CHECK_EQ(inb(BM_CMD) & 0x09, 0);
    CHECK_EQ(inb(BM_STATUS) & BM_ACTIVE, 0);
    outl(BM_PRD, 0x12345678);
    CHECK_EQ(inl(BM_PRD), 0x12345678 & ~3u); /* dword aligned */
    puts("ide: PCI function set up, BAR4 at c000\n");
}

static void test_identify(void)
{
    outb(ATA_CTL, 0x02); /* nIEN: polled for now */
    wait_not_busy();
    outb(ATA_DEV, 0xa0);
    wait_not_busy();
    /* ATA-6 9.12 signature of a non-PACKET device. */
    CHECK_EQ(inb(ATA_LBAM), 0x00);
    CHECK_EQ(inb(ATA_LBAH), 0x00);
    CHECK(inb(ATA_STATUS) & ST_DRDY);
    outb(ATA_CMD, 0xec); /* IDENTIFY DEVICE */
    wait_drq();
    read_words(id, 256);
    CHECK_EQ(inb(ATA_ALTSTATUS) & (ST_BSY | ST_DRQ), 0);
    char model[41];
    string_from_id(model, 27, 20);
    printf("ide: model '%s', %u sectors (LBA28), %u (LBA48)\n", model,
           id[60] | (uint32_t)id[61] << 16, id[100] | (uint32_t)id[101] << 16);
#ifdef QEMU_VALIDATE
    CHECK(str_eq(model, "QEMU HARDDISK"));
#else
    CHECK(str_eq(model, "Glass HARDDISK"));
#endif
    CHECK_EQ(id[0] & 0x8000, 0);                      /* ATA device */
    CHECK_EQ(id[49] & 0x0300, 0x0300);                /* LBA and DMA */
    CHECK_EQ(id[60] | (uint32_t)id[61] << 16, DISK_SECTORS);
    CHECK_EQ(id[83] & 0xc400, 0x4400);                /* valid; 48-bit supported */
    CHECK_EQ(id[86] & 0x0400, 0x0400);                /* 48-bit enabled */
    CHECK_EQ(id[100] | (uint32_t)id[101] << 16, DISK_SECTORS);
    CHECK_EQ(id[102] | id[103], 0);
    CHECK_EQ(id[83] & 0x1000, 0x1000);                /* FLUSH CACHE supported */
#ifndef QEMU_VALIDATE
    /* Word 255: signature A5h and a checksum making the 512 bytes sum to 0
     * (ATA-6 8.15.65). QEMU leaves word 255 zero. */
    CHECK_EQ(id[255] & 0xff, 0xa5);
    uint8_t sum = 0;
    for (unsigned i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    CHECK_EQ(sum, 0);
#endif
}

static void pio_read(uint32_t lba, unsigned count)
{
    tf28(lba, (uint8_t)count);
    outb(ATA_CMD, 0x20); /* READ SECTORS */
    /* One DRQ block per sector (ATA-6 9.7). */
    for (unsigned s = 0; s < count; s++) {
        wait_drq();
        read_words(buf + 512 * s, 256);
    }
    uint8_t st = wait_not_busy();
    CHECK_EQ(st & (ST_ERR | ST_DRQ), 0);
    inb(ATA_STATUS);
}

static void test_pio(void)
{
    pio_read(0, 1);
    check_sector(buf, 0, 0);
    pio_read(1234, 3);
    for (unsigned s = 0; s < 3; s++)
        check_sector(buf + 512 * s, 1234 + s, 0);
    pio_read(DISK_SECTORS - 1, 1); /* the last sector */
    check_sector(buf, DISK_SECTORS - 1, 0);
    /* Past the end: the command ends in error (IDNF, or ABRT). */
    tf28(DISK_SECTORS, 1);
    outb(ATA_CMD, 0x20);
    uint8_t st = wait_not_busy();
    CHECK(st & ST_ERR);
    CHECK(inb(ATA_ERROR) & 0x14); /* IDNF or ABRT */
    inb(ATA_STATUS);

    /* WRITE SECTORS (ATA-6 9.8, PIO data-out): DRQ for the data, then
     * the status after the write. */
    written(buf, PIO_LBA);
    tf28(PIO_LBA, 1);
    outb(ATA_CMD, 0x30);
    wait_drq();
    write_words(buf, 256);
    st = wait_not_busy();
    CHECK_EQ(st & (ST_ERR | ST_DF | ST_DRQ), 0);
    inb(ATA_STATUS);
    for (unsigned i = 0; i < 512; i++)
        buf[i] = 0;
    pio_read(PIO_LBA, 1);
    check_sector(buf, PIO_LBA, 1);
    /* Neighbours untouched. */
    pio_read(PIO_LBA - 1, 1);
    check_sector(buf, PIO_LBA - 1, 0);

    wait_not_busy();
    outb(ATA_DEV, 0xe0);
    outb(ATA_CMD, 0xe7); /* FLUSH CACHE */
    finish_nodata();
    puts("ide: PIO read, write, FLUSH CACHE ok\n");
}

static void test_lba48(void)
{
    tf48(5000, 2);
    outb(ATA_CMD, 0x24); /* READ SECTORS EXT */
    for (unsigned s = 0; s < 2; s++) {
        wait_drq();
        read_words(buf + 512 * s, 256);
    }
    CHECK_EQ(wait_not_busy() & (ST_ERR | ST_DRQ), 0);
    inb(ATA_STATUS);
    check_sector(buf, 5000, 0);
    check_sector(buf + 512, 5001, 0);
    /* The registers are two-byte FIFOs: HOB=1 in device control reads
     * back the byte written first (ATA-6 7.9.1, 6.20). */
    wait_not_busy();
    outb(ATA_NSECT, 0x12);
    outb(ATA_NSECT, 0x34);
    outb(ATA_LBAL, 0x56);
    outb(ATA_LBAL, 0x78);
    CHECK_EQ(inb(ATA_NSECT), 0x34);
    CHECK_EQ(inb(ATA_LBAL), 0x78);
    outb(ATA_CTL, 0x82);
    CHECK_EQ(inb(ATA_NSECT), 0x12);
    CHECK_EQ(inb(ATA_LBAL), 0x56);
    outb(ATA_CTL, 0x02);
    CHECK_EQ(inb(ATA_NSECT), 0x34);
    /* A 48-bit LBA beyond 2^32 sectors (only the high bytes set): beyond
     * this disk, an error. */
    tf48(0x100000000ull + 5000, 1);
    outb(ATA_CMD, 0x24);
    CHECK(wait_not_busy() & ST_ERR);
    inb(ATA_STATUS);
    /* FLUSH CACHE EXT. */
    wait_not_busy();
    outb(ATA_DEV, 0x40);
    outb(ATA_CMD, 0xea);
    finish_nodata();
    puts("ide: LBA48 READ SECTORS EXT, FLUSH CACHE EXT ok\n");
}

/* PRD table: 8-byte entries, dword aligned, not crossing 64 KiB. */
static uint32_t prd[4][2] __attribute__((aligned(16)));

static void dma_start(uint8_t ata_cmd, int to_memory)
{
    outl(BM_PRD, (uint32_t)prd);
    outb(BM_STATUS, BM_ERROR | BM_INTR); /* write 1 to clear */
    outb(BM_CMD, to_memory ? BM_TO_MEMORY : 0);
    outb(ATA_CMD, ata_cmd);
    outb(BM_CMD, (uint8_t)((to_memory ? BM_TO_MEMORY : 0) | BM_START));
}

/* Polled completion: the engine's interrupt bit follows the drive's INTRQ
 * (nIEN clear). */
static void dma_finish_polled(void)
{
    uint8_t bm = 0;
    for (unsigned n = 0; n < SPIN_MAX && !(bm & BM_INTR); n++)
        bm = inb(BM_STATUS);
    CHECK(bm & BM_INTR);
    outb(BM_CMD, 0); /* stop the engine */
    CHECK_EQ(bm & (BM_ERROR | BM_ACTIVE), 0); /* PRD byte count matched */
    uint8_t st = inb(ATA_STATUS);            /* acknowledges INTRQ */
    CHECK_EQ(st & (ST_BSY | ST_ERR | ST_DRQ | ST_DF), 0);
    outb(BM_STATUS, BM_INTR);
    CHECK_EQ(inb(BM_STATUS) & (BM_INTR | BM_ERROR), 0);
}

static volatile unsigned irq14_count;
static volatile uint8_t irq14_bm;

static int on_irq(struct trapframe *tf)
{
    if (tf->vector != 0x2e)
        return 0;
    /* Linux's ata_bmdma_interrupt order: engine status, stop, drive
     * status (acknowledges INTRQ), clear the engine's interrupt bit. */
    irq14_bm = inb(BM_STATUS);
    outb(BM_CMD, 0);
    inb(ATA_STATUS);
    outb(BM_STATUS, BM_INTR);
    irq14_count++;
    pic_eoi(14);
    return 1;
}

static void test_dma(void)
{
    outb(ATA_CTL, 0x00); /* nIEN clear: INTRQ reaches the engine */
    /* READ DMA, 4 sectors from LBA 2000 into two regions of 1 KiB, the
     * second one not following the first. */
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = 0xcc;
    prd[0][0] = (uint32_t)buf;
    prd[0][1] = 1024;
    prd[1][0] = (uint32_t)buf + 4096;
    prd[1][1] = 0x80000000u | 1024; /* EOT */
    tf28(2000, 4);
    dma_start(0xc8, 1);
    dma_finish_polled();
    check_sector(buf, 2000, 0);
    check_sector(buf + 512, 2001, 0);
    check_sector(buf + 4096, 2002, 0);
    check_sector(buf + 4096 + 512, 2003, 0);
    CHECK_EQ(buf[1024], 0xcc); /* nothing between the regions */
    CHECK_EQ(buf[4095], 0xcc);
    CHECK_EQ(buf[4096 + 1024], 0xcc);

    /* WRITE DMA of one sector to DMA_LBA, read back by PIO. */
    written(buf, DMA_LBA);
    prd[0][0] = (uint32_t)buf;
    prd[0][1] = 0x80000000u | 512;
    tf28(DMA_LBA, 1);
    dma_start(0xca, 0);
    dma_finish_polled();
    for (unsigned i = 0; i < 512; i++)
        buf[i] = 0;
    outb(ATA_CTL, 0x02);
    pio_read(DMA_LBA, 1);
    check_sector(buf, DMA_LBA, 1);
    outb(ATA_CTL, 0x00);
    puts("ide: bus-master DMA read and write (polled) ok\n");

    /* READ DMA EXT on IRQ 14 through the PIC, as Linux runs it. */
    trap_hook = on_irq;
    idt_set_stub(0x2e, 0x8e, 0);
    pic_remap();
    inb(ATA_STATUS);
    pic_unmask(14);
    for (unsigned i = 0; i < 1024; i++)
        buf[i] = 0;
    prd[0][0] = (uint32_t)buf;
    prd[0][1] = 0x80000000u | 1024;
    tf48(6000, 2);
    dma_start(0x25, 1);
    __asm__ volatile("sti");
    for (unsigned n = 0; n < SPIN_MAX && !irq14_count; n++)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    CHECK_EQ(irq14_count, 1);
    CHECK_EQ(irq14_bm & (BM_INTR | BM_ERROR | BM_ACTIVE), BM_INTR);
    check_sector(buf, 6000, 0);
    check_sector(buf + 512, 6001, 0);
    pic_mask(14);
    outb(ATA_CTL, 0x02);
    puts("ide: READ DMA EXT on IRQ 14 ok\n");
}

/* Software reset (SRST in device control, ATA-6 9.2): the drive runs its
 * diagnostic, the error register says 01h (passed) and the registers hold
 * the signature again. Linux's ata_bus_softreset does exactly this. */
static void test_srst(void)
{
    tf28(0x123456, 7); /* something else in the registers */
    outb(ATA_CTL, 0x06); /* SRST, nIEN */
    for (volatile int i = 0; i < 1000; i++)
        inb(ATA_ALTSTATUS); /* >= 5 us */
    outb(ATA_CTL, 0x02);
    wait_not_busy();
    outb(ATA_DEV, 0xa0);
    CHECK_EQ(inb(ATA_ERROR), 0x01);
    CHECK_EQ(inb(ATA_NSECT), 0x01);
    CHECK_EQ(inb(ATA_LBAL), 0x01);
    CHECK_EQ(inb(ATA_LBAM), 0x00);
    CHECK_EQ(inb(ATA_LBAH), 0x00);
    CHECK(inb(ATA_STATUS) & ST_DRDY);
    /* No device 1 on this channel: device 0 answers for it with status
     * 00h (ATA-6 9.16.1, "device 1 not present"). */
    outb(ATA_DEV, 0xb0);
    CHECK_EQ(inb(ATA_ALTSTATUS), 0x00);
    CHECK_EQ(inb(ATA_STATUS), 0x00);
    outb(ATA_DEV, 0xa0);
    CHECK(inb(ATA_STATUS) & ST_DRDY);
    puts("ide: software reset, absent device 1 ok\n");
}

/* SET MULTIPLE MODE then READ MULTIPLE: one DRQ block per 4 sectors
 * (ATA-6 8.30, 8.39). */
static void test_multiple(void)
{
    CHECK((id[47] & 0xff) >= 4);
    tf28(0, 4);
    outb(ATA_CMD, 0xc6);
    finish_nodata();
    tf28(3000, 8);
    outb(ATA_CMD, 0xc4);
    for (unsigned blk = 0; blk < 2; blk++) {
        wait_drq();
        read_words(buf + 2048 * blk, 1024);
    }
    CHECK_EQ(wait_not_busy() & (ST_ERR | ST_DRQ), 0);
    inb(ATA_STATUS);
    for (unsigned s = 0; s < 8; s++)
        check_sector(buf + 512 * s, 3000 + s, 0);
    puts("ide: READ MULTIPLE ok\n");
}

void test_main(void)
{
    test_pci_setup();
    test_identify();
    test_srst();
    test_identify();
    test_pio();
    test_multiple();
    test_lba48();
    test_dma();
}
