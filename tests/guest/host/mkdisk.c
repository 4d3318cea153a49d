/*
 * tests/guest/host/mkdisk.c — the disk image of the ide guest test (a
 * host program). Every 512-byte sector holds its own LBA in its first four
 * bytes (little endian), then bytes (LBA + i) & 0xFF for i = 4..511, so
 * that the guest can tell which sector a read returned.
 *
 *   mkdisk IMAGE SECTORS   writes the image
 *   mkdisk -w LBA          prints the sector tests/guest/ide.c writes at
 *                          LBA (ide_written_byte below, same formula)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pattern(unsigned char *s, unsigned long lba)
{
    for (unsigned i = 0; i < 512; i++)
        s[i] = (unsigned char)(lba + i);
    s[0] = (unsigned char)lba;
    s[1] = (unsigned char)(lba >> 8);
    s[2] = (unsigned char)(lba >> 16);
    s[3] = (unsigned char)(lba >> 24);
}

/* What the guest writes: "GLASS WROTE" and then i * 13 ^ 0x5A. */
static void written(unsigned char *s, unsigned long lba)
{
    for (unsigned i = 0; i < 512; i++)
        s[i] = (unsigned char)((i * 13) ^ 0x5a ^ lba);
    memcpy(s, "GLASS WROTE", 11);
}

int main(int argc, char **argv)
{
    unsigned char s[512];
    if (argc == 3 && strcmp(argv[1], "-w") == 0) {
        written(s, strtoul(argv[2], NULL, 0));
        return fwrite(s, 1, sizeof(s), stdout) == sizeof(s) ? 0 : 1;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: mkdisk IMAGE SECTORS | mkdisk -w LBA\n");
        return 2;
    }
    /* Written beside and renamed over the old image: an emulator still
     * running on the old one (another make in the same tree) keeps it. */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.new", argv[1]);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        perror(tmp);
        return 1;
    }
    unsigned long n = strtoul(argv[2], NULL, 0);
    for (unsigned long lba = 0; lba < n; lba++) {
        pattern(s, lba);
        if (fwrite(s, 1, sizeof(s), f) != sizeof(s)) {
            perror(tmp);
            fclose(f);
            return 1;
        }
    }
    if (fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
