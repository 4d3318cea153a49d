/*
 * test_options.c — glass's command line (frontend/options.c): defaults,
 * sizes, log items, and one clear error for every bad option.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h" /* HAVE_SDL */

#include "frontend/frontend.h"
#include "translate/translate.h"
#include "hw/hw.h"

static char opt_err[256];

/* Parses a NULL-terminated argument list (argv[0] added); help text goes
 * to a temporary file whose contents land in `help` if non-NULL. */
static enum options_result parse(struct options *o, char *help, size_t helplen, ...)
{
    char *argv[32] = { "glass" };
    int argc = 1;
    va_list ap;
    va_start(ap, helplen);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    FILE *out = tmpfile();
    cr_assert_not_null(out);
    opt_err[0] = '\0';
    enum options_result r = options_parse(o, argc, argv, out, opt_err, sizeof(opt_err));
    if (help) {
        rewind(out);
        size_t n = fread(help, 1, helplen - 1, out);
        help[n] = '\0';
    }
    fclose(out);
    return r;
}

#define PARSE(o, ...) parse(o, NULL, 0, __VA_ARGS__, (char *)NULL)

Test(cmdline, defaults)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k.elf"), OPTIONS_RUN);
    cr_assert_eq(o.ram_size, 128ull << 20);
    cr_assert_str_eq(o.kernel, "k.elf");
    cr_assert_null(o.bios);
    cr_assert_null(o.append);
    cr_assert_eq(o.debugcon, DEBUGCON_STDIO);
    cr_assert_eq(o.log_mask, 0);
    cr_assert_null(o.log_file);
    cr_assert(!o.no_reboot);
}

Test(cmdline, everything_at_once)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-m", "64", "-kernel", "k", "-append", "console=ttyS0 quiet",
                       "-debugcon", "file:/tmp/x.out", "-nographic", "-no-reboot", "-accel",
                       "interp", "-d", "int,exec", "-d", "ioport", "-D", "log.txt"),
                 OPTIONS_RUN, "%s", opt_err);
    cr_assert_eq(o.ram_size, 64ull << 20);
    cr_assert_str_eq(o.append, "console=ttyS0 quiet");
    cr_assert_eq(o.debugcon, DEBUGCON_FILE);
    cr_assert_str_eq(o.debugcon_path, "/tmp/x.out");
    cr_assert(o.nographic);
    cr_assert(o.no_reboot);
    cr_assert_eq(o.log_mask, LOG_INT | LOG_EXEC | LOG_IOPORT);
    cr_assert_str_eq(o.log_file, "log.txt");
}

Test(cmdline, double_dash_spelling)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "--bios", "r.rom", "--debugcon", "null"), OPTIONS_RUN);
    cr_assert_str_eq(o.bios, "r.rom");
    cr_assert_eq(o.debugcon, DEBUGCON_NULL);
}

Test(cmdline, size_suffixes)
{
    uint64_t b;
    cr_assert_eq(options_parse_size("128", &b), 0);
    cr_assert_eq(b, 128ull << 20);
    cr_assert_eq(options_parse_size("512K", &b), 0);
    cr_assert_eq(b, 512ull << 10);
    cr_assert_eq(options_parse_size("2m", &b), 0);
    cr_assert_eq(b, 2ull << 20);
    cr_assert_eq(options_parse_size("1G", &b), 0);
    cr_assert_eq(b, 1ull << 30);
    cr_assert_eq(options_parse_size("", &b), -1);
    cr_assert_eq(options_parse_size("-5", &b), -1);
    cr_assert_eq(options_parse_size(" 5", &b), -1);
    cr_assert_eq(options_parse_size("12X", &b), -1);
    cr_assert_eq(options_parse_size("12MB", &b), -1);
    cr_assert_eq(options_parse_size("1.5G", &b), -1);
    cr_assert_eq(options_parse_size("99999999999999999999", &b), -1);
    cr_assert_eq(options_parse_size("17179869184G", &b), -1); /* overflows 64 bits */
}

Test(cmdline, ram_bounds)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-m", "size=256M", "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.ram_size, 256ull << 20);
    cr_assert_eq(PARSE(&o, "-m", "1M", "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(PARSE(&o, "-m", "3G", "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(PARSE(&o, "-m", "1020K", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-m 1020K"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-m", "3073M", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-m", "0", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-m", "1026K", "-kernel", "k"), OPTIONS_ERROR); /* not 4K-aligned */
    cr_assert(strstr(opt_err, "multiple of 4K"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-m", "lots", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-m lots"), "%s", opt_err);
}

Test(cmdline, log_items)
{
    unsigned m;
    cr_assert_eq(options_parse_log("cpu,unimp", &m, opt_err, sizeof(opt_err)), 0);
    cr_assert_eq(m, LOG_CPU | LOG_UNIMP);
    cr_assert_eq(options_parse_log("int,bogus", &m, opt_err, sizeof(opt_err)), -1);
    cr_assert(strstr(opt_err, "'bogus'"), "%s", opt_err);
    cr_assert_eq(options_parse_log("int,", &m, opt_err, sizeof(opt_err)), -1);
    cr_assert_eq(options_parse_log("", &m, opt_err, sizeof(opt_err)), -1);
}

Test(cmdline, log_help_lists_every_item)
{
    struct options o;
    char help[2048];
    cr_assert_eq(parse(&o, help, sizeof(help), "-d", "help", (char *)NULL), OPTIONS_EXIT);
    const char *items[] = { "int", "cpu", "exec", "unimp", "ioport" };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        cr_assert(strstr(help, items[i]), "missing %s in:\n%s", items[i], help);
}

Test(cmdline, help_and_version)
{
    struct options o;
    char help[4096];
    cr_assert_eq(parse(&o, help, sizeof(help), "--help", (char *)NULL), OPTIONS_EXIT);
    cr_assert(strstr(help, "-kernel FILE"), "%s", help);
    cr_assert(strstr(help, "-no-reboot"), "%s", help);
    cr_assert_eq(parse(&o, help, sizeof(help), "-version", (char *)NULL), OPTIONS_EXIT);
    cr_assert(strncmp(help, "glass ", 6) == 0, "%s", help);
}

Test(cmdline, accel)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-accel", "kvm", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-accel kvm"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.engine, -1, "no -accel: the board picks (the JIT where it runs)");
    cr_assert_eq(PARSE(&o, "-accel", "interp", "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.engine, CPU_ENGINE_INTERP);
    if (cpu_exec_jit_available()) {
        cr_assert_eq(PARSE(&o, "-accel", "jit", "-kernel", "k"), OPTIONS_RUN);
        cr_assert_eq(o.engine, CPU_ENGINE_JIT);
    } else {
        cr_assert_eq(PARSE(&o, "-accel", "jit", "-kernel", "k"), OPTIONS_ERROR);
        cr_assert(strstr(opt_err, "x86-64"), "%s", opt_err);
    }
}

Test(cmdline, tb_size_and_singlestep)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-tb-size", "64", "-singlestep", "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.tb_size_mb, 64);
    cr_assert(o.singlestep);
    cr_assert_eq(PARSE(&o, "-tb-size", "0", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-tb-size"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-tb-size", "4096", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-tb-size", "12x", "-kernel", "k"), OPTIONS_ERROR);
}

Test(cmdline, debugcon_forms)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-debugcon", "vc", "-kernel", "k"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-debugcon vc"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-debugcon", "file:", "-kernel", "k"), OPTIONS_ERROR);
}

Test(cmdline, initrd_needs_kernel)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-initrd", "initrd.img"), OPTIONS_RUN);
    cr_assert_str_eq(o.initrd, "initrd.img");
    cr_assert_eq(PARSE(&o, "-bios", "r", "-initrd", "initrd.img"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-initrd"), "%s", opt_err);
}

Test(cmdline, serial_ports)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.serial_count, 0);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial", "stdio", "-serial", "file:/tmp/x"),
                 OPTIONS_RUN);
    cr_assert_eq(o.serial_count, 2);
    cr_assert_eq(o.serial[0].kind, SERIAL_STDIO);
    cr_assert_eq(o.serial[1].kind, SERIAL_FILE);
    cr_assert_str_eq(o.serial[1].path, "/tmp/x");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial", "tcp:1234"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-serial tcp:1234"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial", "null", "-serial", "null", "-serial",
                       "null"),
                 OPTIONS_ERROR);
}

Test(cmdline, serial_timing)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert(!o.serial_line_timing, "fast is the default");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial-timing", "line"), OPTIONS_RUN);
    cr_assert(o.serial_line_timing);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial-timing", "line", "--serial-timing", "fast"),
                 OPTIONS_RUN);
    cr_assert(!o.serial_line_timing);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial-timing", "slow"), OPTIONS_ERROR);
    cr_assert_str_eq(opt_err, "-serial-timing slow: expected fast or line");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-serial-timing"), OPTIONS_ERROR);
    char help[4096];
    cr_assert_eq(parse(&o, help, sizeof(help), "--help", (char *)NULL), OPTIONS_EXIT);
    cr_assert(strstr(help, "  -serial-timing MODE\n"), "%s", help);
    /* Every help line fits 80 columns. */
    for (const char *l = help; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        cr_assert(n <= 80, "%.*s", (int)n, l);
        l += n + (e != NULL);
    }
}

Test(cmdline, drives)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-hda", "a.img", "-hdb", "b.img", "-cdrom", "c.iso"),
                 OPTIONS_RUN);
    cr_assert_str_eq(o.drive[0].file, "a.img");
    cr_assert_str_eq(o.drive[1].file, "b.img");
    cr_assert_str_eq(o.drive[2].file, "c.iso");
    cr_assert(o.drive[2].cdrom && o.drive[2].readonly && !o.drive[0].cdrom);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "file=d.img,format=raw,if=ide,index=3,"
                       "media=disk"), OPTIONS_RUN);
    cr_assert_str_eq(o.drive[3].file, "d.img");
    cr_assert(!o.drive[3].cdrom);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-hda", "a", "-drive", "file=x.iso,media=cdrom"),
                 OPTIONS_RUN);
    cr_assert_str_eq(o.drive[1].file, "x.iso"); /* first free index */
    cr_assert(o.drive[1].cdrom);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "file=x,format=qcow2"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "qcow2"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "file=x,if=virtio"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "file=x,index=4"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "format=raw"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "file=FILE"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-drive", "file=x,bogus=1"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-hda", "a", "-drive", "file=b,index=0"),
                 OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "already in use"), "%s", opt_err);
}

Test(cmdline, boot_order)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-boot", "d"), OPTIONS_RUN);
    cr_assert_str_eq(o.boot_order, "d");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-boot", "order=cd"), OPTIONS_RUN);
    cr_assert_str_eq(o.boot_order, "cd");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-boot", "z"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "'z'"), "%s", opt_err);
}

Test(cmdline, combinations)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-bios", "r", "-append", "x"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-append"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-bios", "r"), OPTIONS_ERROR);
    /* Neither: Glass's own BIOS boots from the disks. */
    cr_assert_eq(PARSE(&o, "-m", "64"), OPTIONS_RUN);
}

Test(cmdline, malformed_command_lines)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-frobnicate"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-frobnicate"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "needs an argument"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "stray"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "stray"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-"), OPTIONS_ERROR);
}

/* -display and -nographic (frontend/options.c), and which display a run
 * gets from them and the environment (options_display). */
Test(cmdline, display_and_nographic)
{
    struct options o;
    setenv("DISPLAY", ":42", 1);
    unsetenv("WAYLAND_DISPLAY");
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(o.display, DISPLAY_DEFAULT);
    cr_assert_eq(options_display(&o), HAVE_SDL ? DISPLAY_SDL : DISPLAY_NONE,
                 "a window when X is there");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-nographic"), OPTIONS_RUN);
    cr_assert_eq(options_display(&o), DISPLAY_NONE, "-nographic: never a window");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-display", "none"), OPTIONS_RUN);
    cr_assert_eq(options_display(&o), DISPLAY_NONE);
    unsetenv("DISPLAY");
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert_eq(options_display(&o), DISPLAY_NONE, "no server: no window, no error");
    setenv("WAYLAND_DISPLAY", "wayland-0", 1);
    cr_assert_eq(options_display(&o), HAVE_SDL ? DISPLAY_SDL : DISPLAY_NONE);
    setenv("WAYLAND_DISPLAY", "", 1);
    cr_assert_eq(options_display(&o), DISPLAY_NONE, "an empty name is none");
    if (HAVE_SDL) {
        /* Asked for explicitly: SDL whatever the environment says (a
         * missing server is then the window's error, with a hint). */
        cr_assert_eq(PARSE(&o, "-kernel", "k", "-display", "sdl"), OPTIONS_RUN);
        cr_assert_eq(options_display(&o), DISPLAY_SDL);
        cr_assert_eq(PARSE(&o, "-kernel", "k", "-display", "none", "-display", "sdl"),
                     OPTIONS_RUN);
        cr_assert_eq(o.display, DISPLAY_SDL, "the last one counts");
    } else {
        cr_assert_eq(PARSE(&o, "-kernel", "k", "-display", "sdl"), OPTIONS_ERROR);
        cr_assert(strstr(opt_err, "without SDL"), "%s", opt_err);
    }
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-display", "gtk"), OPTIONS_ERROR);
    cr_assert_str_eq(opt_err, "-display gtk: expected sdl or none");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-display"), OPTIONS_ERROR);
    if (HAVE_SDL) {
        cr_assert_eq(PARSE(&o, "-kernel", "k", "-nographic", "-display", "sdl"),
                     OPTIONS_ERROR);
        cr_assert_str_eq(opt_err, "-nographic cannot be used with -display sdl");
    }
    char help[4096];
    cr_assert_eq(parse(&o, help, sizeof(help), "--help", (char *)NULL), OPTIONS_EXIT);
    cr_assert(strstr(help, "  -display TYPE "), "%s", help);
    cr_assert(strstr(help, "  -nographic "), "%s", help);
}

Test(cmdline, monitor_and_gdb)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k"), OPTIONS_RUN);
    cr_assert_null(o.monitor);
    cr_assert_null(o.gdb);
    cr_assert(!o.start_paused);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-monitor", "stdio", "-S", "-s"), OPTIONS_RUN);
    cr_assert_str_eq(o.monitor, "stdio");
    cr_assert_str_eq(o.gdb, "tcp:127.0.0.1:1234");
    cr_assert(o.start_paused);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-monitor", "tcp:127.0.0.1:4444,server,nowait"),
                 OPTIONS_RUN);
    cr_assert_str_eq(o.monitor, "tcp:127.0.0.1:4444");
    cr_assert(!o.monitor_wait);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-monitor", "unix:/tmp/m.sock,server"), OPTIONS_RUN);
    cr_assert_str_eq(o.monitor, "unix:/tmp/m.sock");
    cr_assert(o.monitor_wait, "server without nowait waits for a client");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-monitor", "vc"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "-monitor vc"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-monitor", "tcp::1,telnet"), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "unknown flag 'telnet'"), "%s", opt_err);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-gdb", "tcp::9999"), OPTIONS_RUN);
    cr_assert_str_eq(o.gdb, "tcp::9999");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-gdb", "9999"), OPTIONS_ERROR);
}

Test(cmdline, log_filters)
{
    struct options o;
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "mmu,mode"), OPTIONS_RUN);
    cr_assert_eq(o.log_mask, LOG_MMU | LOG_MODE);
    cr_assert(!o.log_filtered);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d",
                       "int,dfilter=0x1000..0x1fff,0x8000+0x100,mode,window=100..199"),
                 OPTIONS_RUN);
    cr_assert_eq(o.log_mask, LOG_INT | LOG_MODE);
    cr_assert(o.log_filtered);
    cr_assert_eq(o.log_filter.nranges, 2);
    cr_assert_eq(o.log_filter.range[0].first, 0x1000);
    cr_assert_eq(o.log_filter.range[0].last, 0x1fff);
    cr_assert_eq(o.log_filter.range[1].first, 0x8000);
    cr_assert_eq(o.log_filter.range[1].last, 0x80ff);
    cr_assert_eq(o.log_filter.window_first, 100);
    cr_assert_eq(o.log_filter.window_end, 200);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "exec,window=5000.."), OPTIONS_RUN);
    cr_assert_eq(o.log_filter.window_first, 5000);
    cr_assert_eq(o.log_filter.window_end, 0);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-dfilter", "0x100000..0x100fff,16+16"), OPTIONS_RUN);
    cr_assert_eq(o.log_filter.nranges, 2);
    cr_assert_eq(o.log_filter.range[1].first, 16);
    cr_assert_eq(o.log_filter.range[1].last, 31);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "dfilter=0x2000..0x1000"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "dfilter=0x1000"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "dfilter=0x1000..0x100000000"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "window=9..3"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-d", "window=x"), OPTIONS_ERROR);
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-dfilter", "1+0"), OPTIONS_ERROR);
    /* Bounded: more ranges than the filter holds is an error, not an
     * overflow. */
    char many[1024] = "0..1";
    for (int i = 0; i < LOG_RANGES_MAX; i++)
        strcat(many, ",0..1");
    cr_assert_eq(PARSE(&o, "-kernel", "k", "-dfilter", many), OPTIONS_ERROR);
    cr_assert(strstr(opt_err, "at most"), "%s", opt_err);
}
