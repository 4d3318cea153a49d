/* bios/fixup.c — host tool run on the linked BIOS image: checks it is
 * exactly 128 KiB, sets the $PIR table checksum (PCI IRQ Routing Table
 * Specification 1.0: all bytes of the table sum to 0), the SMBIOS entry
 * point checksums, and the last byte so the whole image sums to 0. */
#include <stdio.h>
#include <string.h>

/* fixup -c NAME IMAGE OUT.c: the finished image as a C array, for
 * embedding the BIOS in ./glass. */
static int emit_c(const char *name, const char *in, const char *out)
{
    static unsigned char img[131072 + 1];
    FILE *f = fopen(in, "rb");
    if (!f) { perror(in); return 1; }
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    if (n != 131072) { fprintf(stderr, "%s: %zu bytes, expected 131072\n", in, n); return 1; }
    FILE *o = fopen(out, "w");
    if (!o) { perror(out); return 1; }
    fprintf(o, "/* Generated from %s by bios/fixup.c: do not edit. */\n"
               "#include <stddef.h>\n"
               "const unsigned char %s[%zu] = {\n", in, name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s0x%02x,%s", i % 16 ? "" : "    ", img[i], i % 16 == 15 ? "\n" : "");
    fprintf(o, "};\nconst size_t %s_size = %zu;\n", name, n);
    if (fclose(o) != 0) { perror(out); return 1; }
    return 0;
}

int main(int argc, char **argv)
{
    static unsigned char img[131072 + 1];
    if (argc == 5 && strcmp(argv[1], "-c") == 0) return emit_c(argv[2], argv[3], argv[4]);
    if (argc != 2) { fprintf(stderr, "usage: fixup IMAGE | fixup -c NAME IMAGE OUT.c\n"); return 2; }
    FILE *f = fopen(argv[1], "r+b");
    if (!f) { perror(argv[1]); return 1; }
    size_t n = fread(img, 1, sizeof img, f);
    if (n != 131072) {
        fprintf(stderr, "%s: %zu bytes, expected 131072 (check bios/link.ld)\n", argv[1], n);
        return 1;
    }
    int found = 0;
    for (size_t off = 0x10000; off + 32 <= n; off += 16) {
        if (memcmp(img + off, "$PIR", 4)) continue;
        size_t len = img[off + 6] | (size_t)img[off + 7] << 8;
        if (len < 32 || off + len > n) continue;
        unsigned char sum = 0;
        img[off + 31] = 0;
        for (size_t i = 0; i < len; i++) sum = (unsigned char)(sum + img[off + i]);
        img[off + 31] = (unsigned char)-sum;
        found = 1;
        break;
    }
    if (!found) { fprintf(stderr, "%s: no $PIR table\n", argv[1]); return 1; }
    /* SMBIOS 2.x entry point (DSP0134 §5.2.1): bytes 10h-1Eh ("_DMI_"...)
     * sum to 0 with byte 15h, all 1Fh bytes with byte 04h. */
    found = 0;
    for (size_t off = 0x10000; off + 0x1f <= n; off += 16) {
        if (memcmp(img + off, "_SM_", 4) || memcmp(img + off + 0x10, "_DMI_", 5)) continue;
        unsigned char s2 = 0;
        img[off + 0x15] = 0;
        for (size_t i = 0x10; i < 0x1f; i++) s2 = (unsigned char)(s2 + img[off + i]);
        img[off + 0x15] = (unsigned char)-s2;
        unsigned char s1 = 0;
        img[off + 4] = 0;
        for (size_t i = 0; i < 0x1f; i++) s1 = (unsigned char)(s1 + img[off + i]);
        img[off + 4] = (unsigned char)-s1;
        found = 1;
        break;
    }
    if (!found) { fprintf(stderr, "%s: no SMBIOS entry point\n", argv[1]); return 1; }
    unsigned char sum = 0;
    img[n - 1] = 0;
    for (size_t i = 0; i < n; i++) sum = (unsigned char)(sum + img[i]);
    img[n - 1] = (unsigned char)-sum;
    rewind(f);
    if (fwrite(img, 1, n, f) != n || fclose(f) != 0) { perror(argv[1]); return 1; }
    return 0;
}
