/*
 * frontend/display_sdl.c — the SDL2 window (frontend/display.h): the
 * guest's screen, its keyboard and mouse, and hot keys for the window.
 *
 * It runs on the CPU's thread, between slices: the board calls
 * display_poll after every slice (and while the CPU idles), which only
 * reads the host clock until a frame is due, at most DISPLAY_HZ times a
 * second. A frame then takes the VGA's dirty pages (memory/'s dirty log)
 * and redraws just the lines that read them (hw/vga_frame.c), uploads
 * those lines to a streaming texture and presents it without waiting
 * for vsync: the CPU loses the time a frame's changes take to draw and
 * no more, and there is no lock to take because nothing runs beside it.
 *
 * The picture keeps its aspect: SDL's logical size letterboxes it in a
 * window of any shape; the window takes the guest's size (twice a tiny
 * mode's) whenever the mode changes, unless it is in full screen.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "frontend/display.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined __has_include
#if __has_include("config.h")
#include "config.h"
#endif
#endif

#if HAVE_SDL

#include <SDL.h>

#include "hw/hw.h"
#include "hw/ps2.h"
#include "hw/vga.h"
#include "hw/vga_render.h"

#define NS_PER_SEC 1000000000ull
#define FRAME_NS (NS_PER_SEC / DISPLAY_HZ)
#define TITLE_NS NS_PER_SEC /* the title's speed is averaged over this */

/* A picture smaller than this is registers not yet programmed (all zero
 * at power-on give a 9x1 "text mode"): the window stays black. */
#define MIN_PICTURE 64

struct display {
    struct pc *pc;
    struct vga *vga;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int w, h;               /* the picture's (and texture's) size; 0: none */
    uint32_t *pixels;       /* the picture, w x h, XRGB8888 */
    uint8_t *drawn;         /* a byte per line: drawn this frame */
    size_t cap_pixels, cap_lines;
    struct vga_frame frame; /* what `pixels` was drawn from */
    uint64_t dirty[VGA_DIRTY_WORDS];
    uint64_t next_frame;    /* host ns */
    bool present;           /* the window needs the texture again */

    bool grabbed, fullscreen;
    bool key_down[256];     /* Glass keycodes the guest was told are down */
    bool swallowed[SDL_NUM_SCANCODES]; /* hot keys: their release stays here */
    unsigned buttons;       /* PS2_BTN_* */
    int mdx, mdy, mdz;      /* mouse motion not yet sent */

    uint64_t title_at, title_icount;
    const char *state;
    double mips;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ title */

static void set_title(struct display *d)
{
    char t[160];
    if (strcmp(d->state, "running") == 0)
        snprintf(t, sizeof(t), "Glass - running, %.1f MIPS", d->mips);
    else
        snprintf(t, sizeof(t), "Glass - %s", d->state);
    if (d->grabbed)
        strncat(t, " - Ctrl+Alt+G releases the mouse", sizeof(t) - strlen(t) - 1);
    SDL_SetWindowTitle(d->win, t);
}

/* Once a second: the guest's state and speed (instructions retired per
 * second of host time). Paused: stopped by the monitor or the debugger;
 * halted: in HLT with nothing retired since. */
static void update_title(struct display *d, uint64_t now)
{
    if (now - d->title_at < TITLE_NS)
        return;
    struct cpu *cpu = pc_cpu(d->pc);
    uint64_t n = cpu->icount - d->title_icount;
    d->mips = (double)n * 1e3 / (double)(now - d->title_at);
    d->state = pc_paused(d->pc) ? "paused" : (n == 0 && cpu->halted) ? "halted" : "running";
    d->title_at = now;
    d->title_icount = cpu->icount;
    set_title(d);
}

/* ------------------------------------------------------------ input */

static void set_grab(struct display *d, bool on)
{
    if (d->grabbed == on)
        return;
    d->grabbed = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(d->win, on ? SDL_TRUE : SDL_FALSE);
    d->mdx = d->mdy = d->mdz = 0;
    set_title(d);
}

/* Focus gone: the guest must not see keys held forever (their release
 * goes to another window) nor keep the mouse. */
static void release_all(struct display *d)
{
    for (unsigned k = 0; k < 256; k++)
        if (d->key_down[k]) {
            d->key_down[k] = false;
            pc_key_event(d->pc, k, false);
        }
    if (d->buttons) {
        d->buttons = 0;
        pc_mouse_event(d->pc, 0, 0, 0, 0);
    }
    set_grab(d, false);
}

static void toggle_fullscreen(struct display *d)
{
    d->fullscreen = !d->fullscreen;
    SDL_SetWindowFullscreen(d->win, d->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    d->present = true;
}

static void key(struct display *d, const SDL_KeyboardEvent *e)
{
    SDL_Scancode sc = e->keysym.scancode;
    bool down = e->type == SDL_KEYDOWN;
    if (e->repeat || sc < 0 || sc >= SDL_NUM_SCANCODES)
        return; /* the guest's keyboard repeats by itself */
    if (down) {
        /* The modifiers as they were at this key (SDL_GetModState is
         * the state after every event queued so far). */
        Uint16 m = e->keysym.mod;
        enum display_hotkey hk = keymap_hotkey(sc, m & KMOD_CTRL, m & KMOD_ALT);
        if (hk != HOTKEY_NONE) {
            d->swallowed[sc] = true;
            if (hk == HOTKEY_GRAB)
                set_grab(d, !d->grabbed);
            else
                toggle_fullscreen(d);
            return;
        }
    } else if (d->swallowed[sc]) {
        d->swallowed[sc] = false;
        return;
    }
    unsigned k = keymap_from_sdl(sc);
    if (k == 0 || k > 255 || d->key_down[k] == down)
        return;
    d->key_down[k] = down;
    pc_key_event(d->pc, k, down);
}

static void flush_motion(struct display *d)
{
    if (d->mdx || d->mdy || d->mdz)
        pc_mouse_event(d->pc, d->mdx, d->mdy, d->mdz, d->buttons);
    d->mdx = d->mdy = d->mdz = 0;
}

static unsigned ps2_button(Uint8 b)
{
    switch (b) {
    case SDL_BUTTON_LEFT: return PS2_BTN_LEFT;
    case SDL_BUTTON_RIGHT: return PS2_BTN_RIGHT;
    case SDL_BUTTON_MIDDLE: return PS2_BTN_MIDDLE;
    case SDL_BUTTON_X1: return PS2_BTN_4;
    case SDL_BUTTON_X2: return PS2_BTN_5;
    default: return 0;
    }
}

/* Handles the window's events. Returns false if it was closed. */
static bool events(struct display *d)
{
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        switch (e.type) {
        case SDL_QUIT:
            return false;
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_FOCUS_LOST)
                release_all(d);
            d->present = true; /* exposed, resized, shown... */
            break;
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            key(d, &e.key);
            break;
        case SDL_MOUSEMOTION:
            if (d->grabbed) {
                d->mdx += e.motion.xrel;
                d->mdy += e.motion.yrel;
            }
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            if (!d->grabbed) {
                /* A click into the window takes the mouse, as QEMU's
                 * does; the guest sees the clicks after it. */
                if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT)
                    set_grab(d, true);
                break;
            }
            flush_motion(d);
            if (e.type == SDL_MOUSEBUTTONDOWN)
                d->buttons |= ps2_button(e.button.button);
            else
                d->buttons &= ~ps2_button(e.button.button);
            pc_mouse_event(d->pc, 0, 0, 0, d->buttons);
            break;
        case SDL_MOUSEWHEEL:
            if (d->grabbed) {
                /* SDL: y > 0 away from the user; PS/2 dz > 0 towards. */
                int y = e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e.wheel.y : e.wheel.y;
                d->mdz -= y;
            }
            break;
        default:
            break;
        }
    }
    flush_motion(d);
    return true;
}

/* ---------------------------------------------------------- picture */

/* A new picture size: buffers, texture, logical size, window size. */
static bool resize(struct display *d, int w, int h)
{
    size_t px = (size_t)w * (size_t)h;
    if (px > d->cap_pixels) {
        uint32_t *p = realloc(d->pixels, px * sizeof(uint32_t));
        if (!p)
            return false;
        d->pixels = p;
        d->cap_pixels = px;
    }
    if ((size_t)h > d->cap_lines) {
        uint8_t *l = realloc(d->drawn, (size_t)h);
        if (!l)
            return false;
        d->drawn = l;
        d->cap_lines = (size_t)h;
    }
    if (d->tex)
        SDL_DestroyTexture(d->tex);
    d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w,
                               h);
    if (!d->tex)
        return false;
    d->w = w;
    d->h = h;
    SDL_RenderSetLogicalSize(d->ren, w, h);
    if (!d->fullscreen) {
        int scale = w <= 400 && h <= 300 ? 2 : 1;
        SDL_SetWindowSize(d->win, w * scale, h * scale);
    }
    vga_frame_init(&d->frame); /* the next update draws it all */
    return true;
}

/* The lines drawn this frame, to the texture in runs. */
static void upload(struct display *d)
{
    for (int y = 0; y < d->h;) {
        if (!d->drawn[y]) {
            y++;
            continue;
        }
        int y0 = y;
        while (y < d->h && d->drawn[y])
            y++;
        SDL_Rect r = { 0, y0, d->w, y - y0 };
        SDL_UpdateTexture(d->tex, &r, d->pixels + (size_t)y0 * (size_t)d->w, d->w * 4);
    }
    d->present = true;
}

static void update_picture(struct display *d)
{
    struct vga_view view;
    vga_get_view(d->vga, &view);
    vga_take_dirty(d->vga, d->dirty);
    int w, h;
    vga_view_size(&view, &w, &h);
    if (w < MIN_PICTURE || h < MIN_PICTURE) {
        if (d->w) { /* the picture went away: black */
            SDL_DestroyTexture(d->tex);
            d->tex = NULL;
            d->w = d->h = 0;
            d->present = true;
        }
        return;
    }
    if ((w != d->w || h != d->h) && !resize(d, w, h)) {
        d->w = d->h = 0;
        return;
    }
    if (vga_frame_update(&d->frame, &view, d->dirty, d->pixels, d->w, d->h, d->drawn, &w, &h) >
        0)
        upload(d);
}

static void present(struct display *d)
{
    SDL_SetRenderDrawColor(d->ren, 0, 0, 0, 255);
    SDL_RenderClear(d->ren);
    if (d->tex)
        SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
    d->present = false;
}

bool display_poll(struct display *d)
{
    uint64_t now = now_ns();
    if (now < d->next_frame)
        return true;
    /* A late frame does not make the next one sooner. */
    d->next_frame = now + FRAME_NS;
    if (!events(d))
        return false;
    update_picture(d);
    if (d->present)
        present(d);
    update_title(d, now);
    return true;
}

/* ------------------------------------------------------------ setup */

/*
 * Which of SDL's video drivers to try. Left to itself SDL falls back to
 * "offscreen", a window nobody sees: Glass asks for a display server
 * that is there (Wayland, X11, as their variables say) unless the user
 * names a driver in SDL_VIDEODRIVER. NULL: none is there.
 */
static const char *video_drivers(void)
{
    const char *user = getenv("SDL_VIDEODRIVER");
    if (user && *user)
        return user;
    const char *wl = getenv("WAYLAND_DISPLAY"), *x = getenv("DISPLAY");
    bool has_wl = wl && *wl, has_x = x && *x;
    if (has_wl && has_x)
        return "wayland,x11";
    return has_wl ? "wayland" : has_x ? "x11" : NULL;
}

struct display *display_sdl_new(struct pc *pc, char *err, size_t errlen)
{
    const char *drivers = video_drivers();
    if (!drivers) {
        snprintf(err, errlen, "cannot open a window: no X11 or Wayland display ($DISPLAY and "
                 "$WAYLAND_DISPLAY are unset); run with -display none or -nographic");
        return NULL;
    }
    SDL_SetHint(SDL_HINT_VIDEODRIVER, drivers);
    /* Ctrl-C on the terminal stays the terminal's (and the serial
     * port's): SDL must not turn SIGINT into a quit event. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* Crisp pixels when scaled; the keyboard grabbed with the mouse, so
     * that Alt+Tab and the like reach the guest. */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "cannot open a window (SDL: %s); run with -display none or "
                 "-nographic", SDL_GetError());
        return NULL;
    }
    struct display *d = calloc(1, sizeof(*d));
    if (!d) {
        SDL_Quit();
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->pc = pc;
    d->vga = pc_vga(pc);
    d->state = "running";
    d->title_at = now_ns();
    d->title_icount = pc_cpu(pc)->icount;
    d->win = SDL_CreateWindow("Glass", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
                              400, SDL_WINDOW_RESIZABLE);
    /* No vsync: presenting must never wait for the monitor. */
    if (d->win)
        d->ren = SDL_CreateRenderer(d->win, -1, 0);
    if (d->win && !d->ren)
        d->ren = SDL_CreateRenderer(d->win, -1, SDL_RENDERER_SOFTWARE);
    if (!d->win || !d->ren) {
        snprintf(err, errlen, "cannot open a window (SDL: %s); run with -display none or "
                 "-nographic", SDL_GetError());
        display_free(d);
        return NULL;
    }
    SDL_StopTextInput(); /* keys, not text: no input method in the way */
    vga_frame_init(&d->frame);
    set_title(d);
    d->present = true;
    return d;
}

void display_free(struct display *d)
{
    if (!d)
        return;
    if (d->tex)
        SDL_DestroyTexture(d->tex);
    if (d->ren)
        SDL_DestroyRenderer(d->ren);
    if (d->win)
        SDL_DestroyWindow(d->win);
    SDL_Quit();
    free(d->pixels);
    free(d->drawn);
    free(d);
}

#else /* !HAVE_SDL */

struct display {
    int unused;
};

struct display *display_sdl_new(struct pc *pc, char *err, size_t errlen)
{
    (void)pc;
    snprintf(err, errlen, "this glass was built without SDL: run with -display none");
    return NULL;
}

void display_free(struct display *d)
{
    (void)d;
}

bool display_poll(struct display *d)
{
    (void)d;
    return true;
}


#endif
