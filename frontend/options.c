/*
 * frontend/options.c — glass's command line, spelled as QEMU spells it
 * (-m, -kernel, -append, -bios, -debugcon, -nographic, -accel, -d, -D,
 * -no-reboot), so that a QEMU command line for a test kernel works with
 * Glass unchanged. Each option is one row of a table with its handler.
 * Every error is one message naming the option or value at fault.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "hw/hw.h"

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

/* -d categories. */
struct log_item {
    const char *name;
    unsigned mask;
    const char *help;
};

static const struct log_item log_items[] = {
    { "int", LOG_INT, "show every exception and interrupt" },
    { "cpu", LOG_CPU, "show the CPU registers before each instruction" },
    { "exec", LOG_EXEC, "show each instruction executed, disassembled" },
    { "unimp", LOG_UNIMP, "show what the guest used that Glass does not implement" },
    { "ioport", LOG_IOPORT, "show every I/O port access and POST code" },
    { "stats", LOG_STATS, "at exit, show the instructions run, the time and the guest MIPS" },
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
    (void)o, (void)out;
    return opt_error(err, errlen, "-initrd %s: an initrd goes with a Linux bzImage, and Glass "
                     "cannot boot those yet (only multiboot kernels)", arg);
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
    (void)o, (void)out;
    if (strcmp(arg, "interp") == 0)
        return OPTIONS_RUN;
    if (strcmp(arg, "jit") == 0)
        return opt_error(err, errlen, "-accel %s: the JIT is not built yet; use -accel "
                         "interp", arg);
    return opt_error(err, errlen, "-accel %s: unknown accelerator (Glass has 'interp')", arg);
}

static enum options_result opt_d(struct options *o, const char *arg, FILE *out, char *err,
                                 size_t errlen)
{
    if (strcmp(arg, "help") == 0) {
        fprintf(out, "Log items (-d item,item,...):\n");
        for (size_t i = 0; i < LOG_ITEM_COUNT; i++)
            fprintf(out, "  %-8s %s\n", log_items[i].name, log_items[i].help);
        return OPTIONS_EXIT;
    }
    unsigned mask;
    if (options_parse_log(arg, &mask, err, errlen) != 0)
        return OPTIONS_ERROR;
    o->log_mask |= mask;
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
    { "kernel", "FILE", opt_kernel, "boot a multiboot kernel (ELF or a.out kludge)" },
    { "append", "STR", opt_append, "kernel command line (after the kernel's file name)" },
    { "initrd", "FILE", opt_initrd, "initial ramdisk of a Linux bzImage (not supported yet)" },
    { "bios", "FILE", opt_bios, "firmware image (64-256 KiB) mapped below 4 GiB and 1 MiB" },
    { "debugcon", "DEV", opt_debugcon, "port 0xE9 output: stdio (default), file:PATH, null" },
    { "nographic", NULL, opt_nographic, "no window (Glass has none yet: always true)" },
    { "no-reboot", NULL, opt_no_reboot, "exit instead of resetting on a triple fault" },
    { "accel", "NAME", opt_accel, "execution engine: interp (the only one so far)" },
    { "d", "ITEMS", opt_d, "log items, comma-separated (-d help lists them)" },
    { "D", "FILE", opt_D, "write the log to FILE instead of stderr" },
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
        fprintf(out, "  %-18s %s\n", left, d->help);
    }
    fprintf(out, "The exit status is (v << 1) | 1 when the guest writes v to port 0xF4,\n"
                 "0 when the machine stops by itself, 1 on a command-line error.\n");
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
    if (o->kernel && o->bios)
        return opt_error(err, errlen, "-kernel %s and -bios %s cannot be used together yet",
                         o->kernel, o->bios);
    if (!o->kernel && !o->bios)
        return opt_error(err, errlen, "nothing to boot: give -kernel FILE or -bios FILE (Glass "
                         "has no built-in BIOS yet)");
    return OPTIONS_RUN;
}

enum options_result options_parse(struct options *o, int argc, char *const argv[], FILE *out,
                                  char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = PC_RAM_DEFAULT;
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
