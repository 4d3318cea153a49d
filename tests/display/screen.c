/*
 * tests/display/screen.c — reads a screenshot of Glass's window (a
 * binary PPM, as ImageMagick's `import -window ID ppm:FILE` writes it)
 * for tests/display/run.sh:
 *
 *   screen size FILE          "W H": the picture's size
 *   screen text FILE [CW CH]  the text on it, one line per row of
 *                             CW x CH cells (default 9 x 16, VGA text
 *                             mode 3), each cell matched against the
 *                             8x16 font of Glass's BIOS (bios/font.c),
 *                             which the VGA's plane 2 holds in the text
 *                             modes; '?' for a cell no glyph matches
 *   screen stats FILE         "W H COLOURED COLOURS": pixels that are not
 *                             black, and distinct colours (at most 4096
 *                             counted)
 *   screen run FILE RRGGBB    "LEN Y": the longest horizontal run of that
 *                             colour and its row
 *   screen pixel FILE X Y     "RRGGBB"
 *
 * Exit status 0, or 2 on bad usage or an unreadable file.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/font.h"

struct image {
    int w, h;
    uint32_t *px; /* 0xRRGGBB */
};

static int skip_space_and_comments(FILE *f)
{
    int c;
    for (;;) {
        c = fgetc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return c;
        }
    }
}

static int read_number(FILE *f)
{
    int c = skip_space_and_comments(f), n = 0;
    if (c < '0' || c > '9')
        return -1;
    while (c >= '0' && c <= '9') {
        n = n * 10 + (c - '0');
        c = fgetc(f);
    }
    return n; /* the one whitespace byte after the number is consumed */
}

static bool load(const char *path, struct image *im)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = false;
    if (fgetc(f) == 'P' && fgetc(f) == '6') {
        int w = read_number(f), h = read_number(f), max = read_number(f);
        if (w > 0 && h > 0 && w <= 16384 && h <= 16384 && max > 0 && max < 256) {
            im->w = w;
            im->h = h;
            im->px = malloc((size_t)w * (size_t)h * sizeof(uint32_t));
            ok = im->px != NULL;
            for (size_t i = 0; ok && i < (size_t)w * (size_t)h; i++) {
                uint8_t rgb[3];
                if (fread(rgb, 1, 3, f) != 3)
                    ok = false;
                else
                    im->px[i] = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
            }
        }
    }
    fclose(f);
    return ok;
}

static uint32_t at(const struct image *im, int x, int y)
{
    return im->px[(size_t)y * (size_t)im->w + (size_t)x];
}

/* The glyph of the cell at (x0, y0), cw x ch: its background is its
 * most frequent colour, every other pixel is "on". */
static char read_cell(const struct image *im, int x0, int y0, int cw, int ch)
{
    uint32_t colour[2] = { 0, 0 };
    int count[2] = { 0, 0 };
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            uint32_t c = at(im, x0 + x, y0 + y);
            if (count[0] && c == colour[0])
                count[0]++;
            else if (count[1] && c == colour[1])
                count[1]++;
            else if (!count[0])
                colour[0] = c, count[0] = 1;
            else if (!count[1])
                colour[1] = c, count[1] = 1;
            else
                return '?'; /* three colours: not a text cell */
        }
    uint32_t bg = count[0] >= count[1] ? colour[0] : colour[1];
    uint8_t rows[32];
    bool any = false;
    for (int y = 0; y < ch && y < 32; y++) {
        rows[y] = 0;
        for (int x = 0; x < 8 && x < cw; x++)
            if (at(im, x0 + x, y0 + y) != bg)
                rows[y] |= (uint8_t)(0x80 >> x);
        any |= rows[y] != 0;
    }
    if (!any)
        return ' ';
    /* Printable ASCII first: the font draws some codes alike. A row
     * drawn full may be the cursor's (lines 13-14 of mode 3). */
    for (int c = 0x20; c < 0x7f; c++) {
        bool match = true;
        for (int y = 0; y < ch && y < 16 && match; y++)
            match = rows[y] == font_glyph_row((uint8_t)c, y) ||
                    (rows[y] == 0xff && (y == 13 || y == 14));
        if (match)
            return (char)c;
    }
    return '?';
}

static void text(const struct image *im, int cw, int ch)
{
    for (int r = 0; (r + 1) * ch <= im->h; r++) {
        char line[512];
        int n = 0;
        for (int c = 0; (c + 1) * cw <= im->w && n < (int)sizeof(line) - 1; c++)
            line[n++] = read_cell(im, c * cw, r * ch, cw, ch);
        while (n > 0 && line[n - 1] == ' ')
            n--;
        line[n] = '\0';
        puts(line);
    }
}

static void stats(const struct image *im)
{
    static uint32_t seen[4096];
    unsigned nseen = 0;
    size_t coloured = 0;
    for (size_t i = 0; i < (size_t)im->w * (size_t)im->h; i++) {
        uint32_t c = im->px[i];
        if (c)
            coloured++;
        unsigned k = 0;
        while (k < nseen && seen[k] != c)
            k++;
        if (k == nseen && nseen < 4096)
            seen[nseen++] = c;
    }
    printf("%d %d %zu %u\n", im->w, im->h, coloured, nseen);
}

static void run(const struct image *im, uint32_t colour)
{
    int best = 0, best_y = -1;
    for (int y = 0; y < im->h; y++)
        for (int x = 0, len = 0; x < im->w; x++) {
            len = at(im, x, y) == colour ? len + 1 : 0;
            if (len > best)
                best = len, best_y = y;
        }
    printf("%d %d\n", best, best_y);
}

int main(int argc, char **argv)
{
    struct image im;
    if (argc < 3 || !load(argv[2], &im)) {
        fprintf(stderr, "usage: screen size|text|stats|run|pixel FILE.ppm [...]\n");
        return 2;
    }
    if (strcmp(argv[1], "size") == 0) {
        printf("%d %d\n", im.w, im.h);
    } else if (strcmp(argv[1], "text") == 0) {
        int cw = argc > 4 ? atoi(argv[3]) : 9, ch = argc > 4 ? atoi(argv[4]) : 16;
        if (cw < 8 || ch < 1 || ch > 32)
            return 2;
        text(&im, cw, ch);
    } else if (strcmp(argv[1], "stats") == 0) {
        stats(&im);
    } else if (strcmp(argv[1], "run") == 0 && argc > 3) {
        run(&im, (uint32_t)strtoul(argv[3], NULL, 16));
    } else if (strcmp(argv[1], "pixel") == 0 && argc > 4) {
        int x = atoi(argv[3]), y = atoi(argv[4]);
        if (x < 0 || y < 0 || x >= im.w || y >= im.h)
            return 2;
        printf("%06x\n", at(&im, x, y));
    } else {
        return 2;
    }
    free(im.px);
    return 0;
}
