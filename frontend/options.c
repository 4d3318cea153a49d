/*
 * frontend/options.c — glass's command line, spelled as QEMU spells it
 * (-m, -kernel, -append, -bios, -debugcon, -display, -nographic, -accel,
 * -tb-size, -singlestep, -d, -dfilter, -D, -no-reboot, -monitor, -gdb,
 * -s, -S), so that a QEMU command line for a test kernel works with
 * Glass unchanged. Each option is one row of a table with its handler.
 * Every error is one message naming the option or value at fault.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "hw/hw.h"
#include "translate/translate.h"

/* The version comes from build/config.h, written by ./configure; a file
 * compiled outside the build still compiles. */
#if defined __has_include
#if __has_include("config.h")
#include "config.h"
#endif
#endif
#ifndef GLASS_VERSION
#define GLASS_VERSION "unknown"
#endif
#ifndef HAVE_SDL
#define HAVE_SDL 0
#endif

/* -d categories. */
struct log_item {
    const char *name;
    unsigned mask;
    const char *help;
};

static const struct log_item log_items[] = {
    { "int", LOG_INT, "show every exception and interrupt" },
    { "cpu", LOG_CPU, "show the CPU registers before each instruction" },
    { "exec", LOG_EXEC,
      "show each instruction executed, disassembled (JIT: each block entered,\n"
      "and each instruction of code run for the first time)" },
    { "unimp", LOG_UNIMP, "show what the guest used that Glass does not implement" },
    { "ioport", LOG_IOPORT, "show every I/O port access and POST code" },
    { "stats", LOG_STATS, "at exit, show the instructions run, the time and the guest MIPS" },
    { "jit", LOG_JIT, "at exit, show the JIT's statistics (blocks, exits, helpers, TLB misses, flushes)" },
    { "in_asm", LOG_IN_ASM, "show each guest block as the JIT translates it" },
    { "out_asm", LOG_OUT_ASM, "show the host code the JIT emits for each block" },
    { "perfmap", LOG_PERFMAP,
      "name each block the JIT translates (\"guest CS:EIP\") in /tmp/perf-PID.map,\n"
      "for profiling with perf (tests/bench/perf_blocks.py, docs/traces.md)" },
    { "mmu", LOG_MMU, "show each page fault with the page walk that caused it" },
    { "mode", LOG_MODE,
      "show each change of real/protected/paging/PAE/v86 mode and of CPL,\n"
      "naming the instruction or event that made it" },
};
#define LOG_ITEM_COUNT (sizeof(log_items) / sizeof(log_items[0]))

typedef enum options_result (*option_fn)(struct options *o, const char *arg, FILE *out,
                                         char *err, size_t errlen);

struct option_def {
    const char *name; /* without the leading dash(es) */
    const char *arg;  /* the argument's name in --help, NULL: takes none */
    option_fn fn;
    const char *help;
};

static enum options_result opt_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum options_result opt_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return OPTIONS_ERROR;
}

int options_parse_size(const char *s, uint64_t *bytes)
{
    /* Digits only: strtoull would accept a sign and leading blanks. */
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -1;
    unsigned shift = 20; /* a bare number is MiB, as with QEMU */
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if (*end != '\0' || n > (UINT64_MAX >> shift))
        return -1;
    *bytes = (uint64_t)n << shift;
    return 0;
}

int options_parse_log(const char *list, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < LOG_ITEM_COUNT; i++)
            if (strlen(log_items[i].name) == len && strncmp(log_items[i].name, p, len) == 0)
                break;
        if (i == LOG_ITEM_COUNT) {
            snprintf(err, errlen, "-d: unknown log item '%.*s' (-d help lists them)", (int)len,
                     p);
            return -1;
        }
        m |= log_items[i].mask;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}

static enum options_result opt_m(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    (void)out;
    /* QEMU also accepts "size=N". */
    if (strncmp(arg, "size=", 5) == 0)
        arg += 5;
    uint64_t bytes;
    if (options_parse_size(arg, &bytes) != 0)
        return opt_error(err, errlen, "-m %s: not a size (a number of MiB, or with a K, M or "
                         "G suffix)", arg);
    if (bytes < PC_RAM_MIN || bytes > PC_RAM_MAX)
        return opt_error(err, errlen, "-m %s: RAM size must be from 1M to 3G", arg);
    if (bytes % 4096)
        return opt_error(err, errlen, "-m %s: RAM size must be a multiple of 4K", arg);
    o->ram_size = bytes;
    return OPTIONS_RUN;
}

static enum options_result opt_kernel(struct options *o, const char *arg, FILE *out, char *err,
                                      size_t errlen)
{
    (void)out, (void)err, (void)errlen;
    o->kernel = arg;
    return OPTIONS_RUN;
}

static enum options_result opt_append(struct options *o, const char *arg, FILE *out, char *err,
                                      size_t errlen)
{
    (void)out, (void)err, (void)errlen;
    o->append = arg;
    return OPTIONS_RUN;
}

static enum options_result opt_initrd(struct options *o, const char *arg, FILE *out, char *err,
                                      size_t errlen)
{
    (void)out, (void)err, (void)errlen;
    o->initrd = arg;
    return OPTIONS_RUN;
}

/* -serial stdio|file:PATH|null|none, once per port (COM1, then COM2). */
static enum options_result opt_serial(struct options *o, const char *arg, FILE *out, char *err,
                                      size_t errlen)
{
    (void)out;
    if (o->serial_count >= OPT_SERIAL_MAX)
        return opt_error(err, errlen, "-serial %s: Glass has %d serial ports", arg,
                         OPT_SERIAL_MAX);
    struct serial_opt *s = &o->serial[o->serial_count];
    if (strcmp(arg, "stdio") == 0 || strcmp(arg, "mon:stdio") == 0) {
        s->kind = SERIAL_STDIO;
    } else if (strcmp(arg, "null") == 0) {
        s->kind = SERIAL_NULL;
    } else if (strcmp(arg, "none") == 0) {
        s->kind = SERIAL_NONE;
    } else if (strncmp(arg, "file:", 5) == 0 && arg[5] != '\0') {
        s->kind = SERIAL_FILE;
        s->path = arg + 5;
    } else {
        return opt_error(err, errlen, "-serial %s: expected stdio, file:PATH, null or none", arg);
    }
    o->serial_count++;
    return OPTIONS_RUN;
}

/* -serial-timing fast|line, for every serial port: how long a UART takes
 * to send a byte (hw/uart.h, enum uart_timing). */
static enum options_result opt_serial_timing(struct options *o, const char *arg, FILE *out,
                                             char *err, size_t errlen)
{
    (void)out;
    if (strcmp(arg, "fast") == 0)
        o->serial_line_timing = false;
    else if (strcmp(arg, "line") == 0)
        o->serial_line_timing = true;
    else
        return opt_error(err, errlen, "-serial-timing %s: expected fast or line", arg);
    return OPTIONS_RUN;
}

static enum options_result set_drive(struct options *o, unsigned index, const char *file,
                                     bool cdrom, char *err, size_t errlen)
{
    static const char *const names[] = { "hda", "hdb", "hdc", "hdd" };
    if (index >= OPT_DRIVE_MAX)
        return opt_error(err, errlen, "-drive index=%u: IDE has indexes 0 to 3", index);
    if (o->drive[index].file)
        return opt_error(err, errlen, "%s: drive index %u (%s) is already in use by %s", file,
                         index, names[index], o->drive[index].file);
    if (*file == '\0')
        return opt_error(err, errlen, "-%s: empty file name", names[index]);
    struct drive_opt *d = &o->drive[index];
    d->file = file;
    d->cdrom = cdrom;
    d->readonly = cdrom;
    return OPTIONS_RUN;
}

static enum options_result opt_hdx(struct options *o, unsigned index, const char *arg,
                                   char *err, size_t errlen)
{
    return set_drive(o, index, arg, false, err, errlen);
}

static enum options_result opt_hda(struct options *o, const char *arg, FILE *out, char *err,
                                   size_t errlen)
{
    (void)out;
    return opt_hdx(o, 0, arg, err, errlen);
}

static enum options_result opt_hdb(struct options *o, const char *arg, FILE *out, char *err,
                                   size_t errlen)
{
    (void)out;
    return opt_hdx(o, 1, arg, err, errlen);
}

static enum options_result opt_hdc(struct options *o, const char *arg, FILE *out, char *err,
                                   size_t errlen)
{
    (void)out;
    return opt_hdx(o, 2, arg, err, errlen);
}

static enum options_result opt_hdd(struct options *o, const char *arg, FILE *out, char *err,
                                   size_t errlen)
{
    (void)out;
    return opt_hdx(o, 3, arg, err, errlen);
}

/* QEMU's PC puts -cdrom on the secondary master (index 2). */
static enum options_result opt_cdrom(struct options *o, const char *arg, FILE *out, char *err,
                                     size_t errlen)
{
    (void)out;
    return set_drive(o, 2, arg, true, err, errlen);
}

/* -drive file=F[,format=raw][,if=ide][,index=N][,media=disk|cdrom][,readonly=on|off]:
 * the subset of QEMU's syntax that means something for an IDE PC. */
static enum options_result opt_drive(struct options *o, const char *arg, FILE *out, char *err,
                                     size_t errlen)
{
    (void)out;
    /* Split a copy of the list; the file name is copied into the drive
     * (the options keep no pointer into this copy). */
    char list[2 * OPT_PATH_MAX];
    if (strlen(arg) >= sizeof(list))
        return opt_error(err, errlen, "-drive: the option string is too long");
    strcpy(list, arg);
    const char *file = NULL;
    long index = -1;
    bool cdrom = false, readonly = false, readonly_set = false;
    for (char *save = NULL, *kv = strtok_r(list, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return opt_error(err, errlen, "-drive %s: '%s' is not key=value", arg, kv);
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(kv, "file") == 0) {
            file = v;
        } else if (strcmp(kv, "format") == 0) {
            if (strcmp(v, "raw") != 0)
                return opt_error(err, errlen, "-drive %s: format=%s: Glass reads raw images only",
                                 arg, v);
        } else if (strcmp(kv, "if") == 0) {
            if (strcmp(v, "ide") != 0)
                return opt_error(err, errlen, "-drive %s: if=%s: Glass has IDE only", arg, v);
        } else if (strcmp(kv, "index") == 0) {
            char *end;
            index = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || index < 0 || index >= OPT_DRIVE_MAX)
                return opt_error(err, errlen, "-drive %s: index=%s: expected 0 to 3", arg, v);
        } else if (strcmp(kv, "media") == 0) {
            if (strcmp(v, "cdrom") == 0)
                cdrom = true;
            else if (strcmp(v, "disk") != 0)
                return opt_error(err, errlen, "-drive %s: media=%s: expected disk or cdrom", arg,
                                 v);
        } else if (strcmp(kv, "readonly") == 0) {
            readonly_set = true;
            if (strcmp(v, "on") == 0)
                readonly = true;
            else if (strcmp(v, "off") != 0)
                return opt_error(err, errlen, "-drive %s: readonly=%s: expected on or off", arg,
                                 v);
        } else {
            return opt_error(err, errlen, "-drive %s: unknown key '%s'", arg, kv);
        }
    }
    if (!file)
        return opt_error(err, errlen, "-drive %s: file=FILE is missing", arg);
    if (strlen(file) >= OPT_PATH_MAX)
        return opt_error(err, errlen, "-drive: file name too long");
    if (index < 0) {
        /* Like QEMU: the first free index. */
        for (index = 0; index < OPT_DRIVE_MAX && o->drive[index].file; index++)
            ;
        if (index == OPT_DRIVE_MAX)
            return opt_error(err, errlen, "-drive %s: all four IDE positions are in use", arg);
    }
    enum options_result r = set_drive(o, (unsigned)index, file, cdrom, err, errlen);
    if (r == OPTIONS_RUN) {
        struct drive_opt *d = &o->drive[index];
        strcpy(d->file_buf, file);
        d->file = d->file_buf;
        d->readonly = readonly_set ? readonly : cdrom;
    }
    return r;
}

/* -boot c|d|order=cd|once=d: the drive letters of QEMU's PC (a, c, d, n). */
static enum options_result opt_boot(struct options *o, const char *arg, FILE *out, char *err,
                                    size_t errlen)
{
    (void)out;
    const char *letters = arg;
    if (strncmp(arg, "order=", 6) == 0)
        letters = arg + 6;
    else if (strncmp(arg, "once=", 5) == 0)
        letters = arg + 5;
    size_t n = strlen(letters);
    if (n == 0 || n >= sizeof(o->boot_order))
        return opt_error(err, errlen, "-boot %s: expected drive letters such as c, d or order=cd",
                         arg);
    for (size_t i = 0; i < n; i++)
        if (!strchr("acdn", letters[i]))
            return opt_error(err, errlen, "-boot %s: '%c' is not a boot device (a, c, d or n)",
                             arg, letters[i]);
    memcpy(o->boot_order, letters, n + 1);
    return OPTIONS_RUN;
}

static enum options_result opt_bios(struct options *o, const char *arg, FILE *out, char *err,
                                    size_t errlen)
{
    (void)out, (void)err, (void)errlen;
    o->bios = arg;
    return OPTIONS_RUN;
}

static enum options_result opt_debugcon(struct options *o, const char *arg, FILE *out,
                                        char *err, size_t errlen)
{
    (void)out;
    if (strcmp(arg, "stdio") == 0) {
        o->debugcon = DEBUGCON_STDIO;
    } else if (strcmp(arg, "null") == 0) {
        o->debugcon = DEBUGCON_NULL;
    } else if (strncmp(arg, "file:", 5) == 0 && arg[5] != '\0') {
        o->debugcon = DEBUGCON_FILE;
        o->debugcon_path = arg + 5;
    } else {
        return opt_error(err, errlen, "-debugcon %s: expected stdio, file:PATH or null", arg);
    }
    return OPTIONS_RUN;
}

static enum options_result opt_nographic(struct options *o, const char *arg, FILE *out,
                                         char *err, size_t errlen)
{
    (void)arg, (void)out, (void)err, (void)errlen;
    o->nographic = true;
    return OPTIONS_RUN;
}

/* -display sdl|none (QEMU's names; Glass has one kind of window). */
static enum options_result opt_display(struct options *o, const char *arg, FILE *out,
                                       char *err, size_t errlen)
{
    (void)out;
    if (strcmp(arg, "sdl") == 0) {
        if (!HAVE_SDL)
            return opt_error(err, errlen, "-display sdl: this glass was built without SDL "
                             "(./configure --disable-sdl); use -display none");
        o->display = DISPLAY_SDL;
    } else if (strcmp(arg, "none") == 0) {
        o->display = DISPLAY_NONE;
    } else {
        return opt_error(err, errlen, "-display %s: expected sdl or none", arg);
    }
    return OPTIONS_RUN;
}

enum display_kind options_display(const struct options *o)
{
    if (o->display != DISPLAY_DEFAULT)
        return o->display;
    if (!HAVE_SDL || o->nographic)
        return DISPLAY_NONE;
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wl && *wl) ? DISPLAY_SDL : DISPLAY_NONE;
}

static enum options_result opt_no_reboot(struct options *o, const char *arg, FILE *out,
                                         char *err, size_t errlen)
{
    (void)arg, (void)out, (void)err, (void)errlen;
    o->no_reboot = true;
    return OPTIONS_RUN;
}

static enum options_result opt_accel(struct options *o, const char *arg, FILE *out, char *err,
                                     size_t errlen)
{
    (void)out;
    if (strcmp(arg, "interp") == 0) {
        o->engine = CPU_ENGINE_INTERP;
        return OPTIONS_RUN;
    }
    bool lockstep = strcmp(arg, "jit,lockstep") == 0;
    if (strcmp(arg, "jit") == 0 || lockstep) {
        if (!cpu_exec_jit_available())
            return opt_error(err, errlen, "-accel %s: the JIT needs an x86-64 host; use -accel "
                             "interp", arg);
        o->engine = CPU_ENGINE_JIT;
        o->lockstep = lockstep;
        return OPTIONS_RUN;
    }
    return opt_error(err, errlen, "-accel %s: unknown accelerator (Glass has 'jit' and 'interp')",
                     arg);
}

static enum options_result opt_tb_size(struct options *o, const char *arg, FILE *out, char *err,
                                       size_t errlen)
{
    (void)out;
    char *end;
    unsigned long mb = strtoul(arg, &end, 10);
    if (end == arg || *end != '\0' || mb < 1 || mb > TB_SIZE_MAX_MB)
        return opt_error(err, errlen, "-tb-size %s: a size in MiB from 1 to %u", arg,
                         TB_SIZE_MAX_MB);
    o->tb_size_mb = (unsigned)mb;
    return OPTIONS_RUN;
}

static enum options_result opt_singlestep(struct options *o, const char *arg, FILE *out,
                                          char *err, size_t errlen)
{
    (void)arg, (void)out, (void)err, (void)errlen;
    o->singlestep = true;
    return OPTIONS_RUN;
}

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)s[0]))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    char *end;
    unsigned long long n = strtoull(buf, &end, 0);
    if (errno || *end)
        return false;
    *v = n;
    return true;
}

int options_parse_range(const char *s, size_t len, struct log_filter *f, char *err,
                        size_t errlen)
{
    const char *dots = NULL, *plus = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '.' && s[i + 1] == '.') {
            dots = s + i;
            break;
        }
    if (!dots)
        plus = memchr(s, '+', len);
    const char *sep = dots ? dots : plus;
    uint64_t a, b;
    if (!sep || !parse_u64(s, (size_t)(sep - s), &a)) {
        snprintf(err, errlen, "dfilter: '%.*s': expected START..END or START+LENGTH",
                 (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    const char *rest = sep + (dots ? 2 : 1);
    size_t rlen = len - (size_t)(rest - s);
    if (!parse_u64(rest, rlen, &b) || (plus && b == 0)) {
        snprintf(err, errlen, "dfilter: '%.*s': expected START..END or START+LENGTH",
                 (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    uint64_t last = plus ? a + b - 1 : b;
    if (a > last || last > 0xffffffffu) {
        snprintf(err, errlen, "dfilter: '%.*s': not a range of 32-bit addresses",
                 (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    if (f->nranges >= LOG_RANGES_MAX) {
        snprintf(err, errlen, "dfilter: at most %d ranges", LOG_RANGES_MAX);
        return -1;
    }
    f->range[f->nranges].first = (uint32_t)a;
    f->range[f->nranges].last = (uint32_t)last;
    f->nranges++;
    return 0;
}

int options_parse_window(const char *s, struct log_filter *f, char *err, size_t errlen)
{
    const char *dots = strstr(s, "..");
    uint64_t a, b = 0;
    if (!dots || !parse_u64(s, (size_t)(dots - s), &a) ||
        (dots[2] && !parse_u64(dots + 2, strlen(dots + 2), &b)) || (dots[2] && b < a) ||
        b == UINT64_MAX) {
        snprintf(err, errlen, "window=%s: expected FIRST..LAST or FIRST.. (instruction counts)",
                 s);
        return -1;
    }
    f->window_first = a;
    f->window_end = dots[2] ? b + 1 : 0;
    return 0;
}

/* -d's items, with dfilter=RANGE (further ranges may follow as items of
 * their own) and window=FIRST..LAST among the category names. */
static enum options_result opt_d(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    if (strcmp(arg, "help") == 0) {
        fprintf(out, "Log items (-d item,item,...):\n");
        for (size_t i = 0; i < LOG_ITEM_COUNT; i++) {
            fprintf(out, "  %-8s ", log_items[i].name);
            for (const char *h = log_items[i].help; *h; h++) {
                fputc(*h, out);
                if (*h == '\n')
                    fprintf(out, "  %-8s ", "");
            }
            fputc('\n', out);
        }
        fprintf(out, "  dfilter=START..END[,START..END...] (or START+LENGTH)\n"
                     "           log only events whose linear EIP is in a range\n"
                     "  window=FIRST..LAST\n"
                     "           log only while the instruction count is in the window\n");
        return OPTIONS_EXIT;
    }
    if (*arg == '\0') {
        snprintf(err, errlen, "-d: empty list (-d help lists the items)");
        return OPTIONS_ERROR;
    }
    bool in_dfilter = false;
    for (const char *p = arg;;) {
        size_t len = strcspn(p, ",");
        if (len > 8 && !strncmp(p, "dfilter=", 8)) {
            if (options_parse_range(p + 8, len - 8, &o->log_filter, err, errlen) != 0)
                return OPTIONS_ERROR;
            o->log_filtered = in_dfilter = true;
        } else if (len > 7 && !strncmp(p, "window=", 7)) {
            char w[64];
            snprintf(w, sizeof(w), "%.*s", (int)(len - 7 < 63 ? len - 7 : 63), p + 7);
            if (options_parse_window(w, &o->log_filter, err, errlen) != 0)
                return OPTIONS_ERROR;
            o->log_filtered = true;
            in_dfilter = false;
        } else if (in_dfilter && isdigit((unsigned char)*p)) {
            if (options_parse_range(p, len, &o->log_filter, err, errlen) != 0)
                return OPTIONS_ERROR;
        } else {
            char item[32];
            if (len == 0 || len >= sizeof(item)) {
                snprintf(err, errlen, "-d: unknown log item '%.*s' (-d help lists them)",
                         (int)(len > 40 ? 40 : len), p);
                return OPTIONS_ERROR;
            }
            memcpy(item, p, len);
            item[len] = '\0';
            unsigned mask;
            if (options_parse_log(item, &mask, err, errlen) != 0)
                return OPTIONS_ERROR;
            o->log_mask |= mask;
            in_dfilter = false;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return OPTIONS_RUN;
}

/* -dfilter RANGE[,RANGE...], as QEMU spells it. */
static enum options_result opt_dfilter(struct options *o, const char *arg, FILE *out,
                                       char *err, size_t errlen)
{
    (void)out;
    for (const char *p = arg;;) {
        size_t len = strcspn(p, ",");
        if (options_parse_range(p, len, &o->log_filter, err, errlen) != 0)
            return OPTIONS_ERROR;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    o->log_filtered = true;
    return OPTIONS_RUN;
}

/* -monitor stdio|none|tcp:HOST:PORT|unix:PATH[,server][,nowait|,wait]:
 * Glass always listens; ",server" without ",nowait" waits for the first
 * client before the machine starts, as QEMU does. */
static enum options_result opt_monitor(struct options *o, const char *arg, FILE *out,
                                       char *err, size_t errlen)
{
    (void)out;
    if (!strcmp(arg, "stdio") || !strcmp(arg, "none") || !strcmp(arg, "mon:stdio")) {
        o->monitor = !strcmp(arg, "none") ? "none" : "stdio";
        return OPTIONS_RUN;
    }
    if (strncmp(arg, "tcp:", 4) && strncmp(arg, "unix:", 5))
        return opt_error(err, errlen, "-monitor %s: expected stdio, none, tcp:HOST:PORT or "
                         "unix:PATH", arg);
    size_t len = strcspn(arg, ",");
    if (len >= sizeof(o->monitor_buf))
        return opt_error(err, errlen, "-monitor: the address is too long");
    memcpy(o->monitor_buf, arg, len);
    o->monitor_buf[len] = '\0';
    bool server = false, nowait = false;
    for (const char *p = arg + len; *p;) {
        p++;
        size_t n = strcspn(p, ",");
        if (n == 6 && !strncmp(p, "server", 6))
            server = true;
        else if (n == 6 && !strncmp(p, "nowait", 6))
            nowait = true;
        else if (n == 4 && !strncmp(p, "wait", 4))
            nowait = false;
        else
            return opt_error(err, errlen, "-monitor %s: unknown flag '%.*s' (server, nowait)",
                             arg, (int)n, p);
        p += n;
    }
    o->monitor = o->monitor_buf;
    o->monitor_wait = server && !nowait;
    return OPTIONS_RUN;
}

static enum options_result opt_gdb(struct options *o, const char *arg, FILE *out, char *err,
                                   size_t errlen)
{
    (void)out;
    if (strncmp(arg, "tcp:", 4) && strncmp(arg, "unix:", 5))
        return opt_error(err, errlen, "-gdb %s: expected tcp:HOST:PORT or unix:PATH", arg);
    o->gdb = arg;
    return OPTIONS_RUN;
}

static enum options_result opt_s(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    (void)arg, (void)out, (void)err, (void)errlen;
    o->gdb = "tcp:127.0.0.1:1234";
    return OPTIONS_RUN;
}

static enum options_result opt_S(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    (void)arg, (void)out, (void)err, (void)errlen;
    o->start_paused = true;
    return OPTIONS_RUN;
}

static enum options_result opt_D(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    (void)out, (void)err, (void)errlen;
    o->log_file = arg;
    return OPTIONS_RUN;
}

static enum options_result opt_help(struct options *o, const char *arg, FILE *out, char *err,
                                    size_t errlen);

static enum options_result opt_version(struct options *o, const char *arg, FILE *out,
                                       char *err, size_t errlen)
{
    (void)o, (void)arg, (void)err, (void)errlen;
    fprintf(out, "glass %s\n", GLASS_VERSION);
    return OPTIONS_EXIT;
}

static const struct option_def option_table[] = {
    { "m", "SIZE", opt_m, "RAM size in MiB, or with a K, M or G suffix (default 128M)" },
    { "kernel", "FILE", opt_kernel, "boot a Linux bzImage, or a multiboot kernel (ELF or a.out)" },
    { "append", "STR", opt_append, "kernel command line (after the kernel's file name)" },
    { "initrd", "FILE", opt_initrd, "initial ramdisk for a Linux bzImage -kernel" },
    { "bios", "FILE", opt_bios, "firmware image (64-256 KiB) mapped below 4 GiB and 1 MiB" },
    { "serial", "DEV", opt_serial, "next serial port (COM1, COM2): stdio, file:PATH, null, none" },
    { "serial-timing", "MODE", opt_serial_timing,
      "serial send pace: fast (default) or line (the baud rate)" },
    { "hda", "FILE", opt_hda, "raw disk image as IDE primary master" },
    { "hdb", "FILE", opt_hdb, "raw disk image as IDE primary slave" },
    { "hdc", "FILE", opt_hdc, "raw disk image as IDE secondary master" },
    { "hdd", "FILE", opt_hdd, "raw disk image as IDE secondary slave" },
    { "cdrom", "FILE", opt_cdrom, "ISO image in an ATAPI CD-ROM (secondary master)" },
    { "drive", "OPTS", opt_drive, "file=F[,format=raw][,if=ide][,index=N][,media=disk|cdrom]" },
    { "boot", "ORDER", opt_boot, "boot device order: c (disk), d (CD-ROM), order=cd, ..." },
    { "debugcon", "DEV", opt_debugcon, "port 0xE9 output: stdio (default), file:PATH, null" },
    { "display", "TYPE", opt_display,
      "sdl: a window (the default with $DISPLAY or Wayland), none" },
    { "nographic", NULL, opt_nographic, "no window; serial port and monitor on the terminal" },
    { "no-reboot", NULL, opt_no_reboot, "exit instead of resetting on a triple fault" },
    { "accel", "NAME", opt_accel,
      "engine: jit (default on x86-64), interp, or jit,lockstep\n"
      "(each JIT block checked against the interpreter)" },
    { "tb-size", "MB", opt_tb_size, "the JIT's translation cache in MiB (default 32)" },
    { "singlestep", NULL, opt_singlestep, "run one instruction at a time (careful path)" },
    { "d", "ITEMS", opt_d, "log items, comma-separated (-d help lists them), with\n"
      "dfilter=START..END and window=FIRST..LAST" },
    { "dfilter", "RANGES", opt_dfilter, "log only events at these linear EIPs (START..END,...)" },
    { "D", "FILE", opt_D, "write the log to FILE instead of stderr" },
    { "monitor", "DEV", opt_monitor, "the monitor on stdio, none, tcp:HOST:PORT or unix:PATH\n"
      "(with ,server,nowait as QEMU; Glass always listens)" },
    { "gdb", "DEV", opt_gdb, "wait for gdb on tcp:HOST:PORT (HOST empty: 127.0.0.1)" },
    { "s", NULL, opt_s, "the same as -gdb tcp:127.0.0.1:1234" },
    { "S", NULL, opt_S, "start with the CPU stopped (until gdb's continue or cont)" },
    { "help", NULL, opt_help, "show this help and exit" },
    { "h", NULL, opt_help, NULL },
    { "version", NULL, opt_version, "show the version and exit" },
};
#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

static enum options_result opt_help(struct options *o, const char *arg, FILE *out, char *err,
                                    size_t errlen)
{
    (void)o, (void)arg, (void)err, (void)errlen;
    fprintf(out, "Usage: glass [options]\n"
                 "A pure-software x86 PC emulator. Options (also with two dashes):\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *d = &option_table[i];
        if (!d->help)
            continue;
        char left[32];
        snprintf(left, sizeof(left), "-%s%s%s", d->name, d->arg ? " " : "",
                 d->arg ? d->arg : "");
        /* A name too wide for the column gets a line of its own; a help
         * text of several lines keeps to its column. */
        if (strlen(left) > 18)
            fprintf(out, "  %s\n  %-18s ", left, "");
        else
            fprintf(out, "  %-18s ", left);
        for (const char *h = d->help; *h; h++) {
            fputc(*h, out);
            if (*h == '\n')
                fprintf(out, "  %-18s ", "");
        }
        fputc('\n', out);
    }
    fprintf(out, "The exit status is (v << 1) | 1 when the guest writes v to port 0xF4,\n"
                 "0 when the machine stops by itself, 1 on a command-line error, 3 when\n"
                 "-accel jit,lockstep finds the engines in disagreement.\n");
    return OPTIONS_EXIT;
}

static const struct option_def *find_option(const char *name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(option_table[i].name, name) == 0)
            return &option_table[i];
    return NULL;
}

/* Checks between options, once all are seen (QEMU's own rules where it
 * has them: -append needs -kernel). */
static enum options_result check_combination(const struct options *o, char *err, size_t errlen)
{
    if (o->append && !o->kernel)
        return opt_error(err, errlen, "-append only allowed with -kernel");
    if (o->initrd && !o->kernel)
        return opt_error(err, errlen, "-initrd only allowed with -kernel");
    if (o->nographic && o->display == DISPLAY_SDL)
        return opt_error(err, errlen, "-nographic cannot be used with -display sdl");
    if (o->kernel && o->bios)
        return opt_error(err, errlen, "-kernel %s and -bios %s cannot be used together yet",
                         o->kernel, o->bios);
    return OPTIONS_RUN;
}

enum options_result options_parse(struct options *o, int argc, char *const argv[], FILE *out,
                                  char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = PC_RAM_DEFAULT;
    o->engine = -1;
    o->debugcon = DEBUGCON_STDIO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0')
            return opt_error(err, errlen, "%s: unexpected argument (options start with -)", a);
        const char *name = a + 1 + (a[1] == '-');
        const struct option_def *d = find_option(name);
        if (!d)
            return opt_error(err, errlen, "%s: unknown option (--help lists them)", a);
        const char *arg = NULL;
        if (d->arg) {
            if (i + 1 >= argc)
                return opt_error(err, errlen, "%s: needs an argument (%s)", a, d->arg);
            arg = argv[++i];
        }
        enum options_result r = d->fn(o, arg, out, err, errlen);
        if (r != OPTIONS_RUN)
            return r;
    }
    return check_combination(o, err, errlen);
}
