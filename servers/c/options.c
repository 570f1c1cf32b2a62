/* options.c - the command line, and error messages. */
#define _GNU_SOURCE
#include "protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *prog = "server";

/* ---- errors ------------------------------------------------------------------ */

_Noreturn void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

void warn(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
}

void xclose(int fd)
{
    /* Linux always releases the descriptor, even on EINTR/EIO: never retry. */
    if (close(fd) < 0 && errno == EBADF)
        die("close");
}

/* ---- options --------------------------------------------------------------- */

static _Noreturn void bad_usage(const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s '%s' (try --help)\n", prog, what, arg);
    exit(2);
}

static void usage(int default_workers)
{
    char workers[64];
    if (default_workers > 0)
        snprintf(workers, sizeof workers, "pool size (default %d)", default_workers);
    else
        snprintf(workers, sizeof workers, "pool size (not used by this model)");
    printf("usage: %s [options]\n"
           "  --host ADDR               address to listen on (default 127.0.0.1; ::1 for IPv6)\n"
           "  --port N                  TCP port, 0 = any free port (default 3000)\n"
           "  --unix PATH               listen on a Unix-domain stream socket at PATH instead\n"
           "                            (not with --host, --port)\n"
           "  --delay-ms N              work time per message in ms (default 2000)\n"
           "  --workers N               %s\n"
           "  --max-message-bytes N     longest message without ETX (default 65536)\n"
           "  --grace-ms N              SIGTERM drain grace in ms (default 4 work delays, at least 5000)\n"
           "  --help                    show this help\n",
           prog, workers);
}

/* A whole decimal number in [min, max], or exit 2. */
static long parse_number(const char *flag, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    /* strtol would also take " 5" and "+5"; a flag value is digits only. */
    bool digits = (text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && text[1] != '\0');
    if (!digits || errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        char range[64];
        snprintf(range, sizeof range, "%ld..%ld", min, max);
        fprintf(stderr, "%s: invalid value for %s: '%s' (expected an integer in %s)\n",
                prog, flag, text, range);
        exit(2);
    }
    return v;
}

void parse_options(int argc, char **argv, struct options *o, int default_workers)
{
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        prog = slash ? slash + 1 : argv[0];
    }
    *o = (struct options){
        .host = "127.0.0.1",
        .port = 3000,
        .delay_ms = 2000,
        .workers = default_workers > 0 ? default_workers : 1,
        .max_message_bytes = 65536,
        .grace_ms = -1, /* not given: set after parsing, from the delay */
    };
    const char *tcp_flag = NULL; /* --host or --port, given: not with --unix */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(default_workers);
            exit(0);
        }
        if (strncmp(arg, "--", 2) != 0)
            bad_usage("unexpected argument", arg);

        /* Both "--flag value" and "--flag=value". */
        char name[64];
        const char *value;
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (name_len >= sizeof name)
            bad_usage("unknown option", arg);
        memcpy(name, arg, name_len);
        name[name_len] = '\0';
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            value = NULL;
        }

        if (strcmp(name, "--host") && strcmp(name, "--port") && strcmp(name, "--unix") &&
            strcmp(name, "--delay-ms") &&
            strcmp(name, "--workers") && strcmp(name, "--max-message-bytes") &&
            strcmp(name, "--grace-ms"))
            bad_usage("unknown option", name);
        if (value == NULL)
            bad_usage("missing value for option", name);

        if (strcmp(name, "--host") == 0) {
            if (*value == '\0')
                bad_usage("invalid value for --host:", value);
            o->host = value;
            tcp_flag = "--host";
        } else if (strcmp(name, "--port") == 0) {
            o->port = (int)parse_number(name, value, 0, 65535);
            tcp_flag = "--port";
        } else if (strcmp(name, "--unix") == 0) {
            if (*value == '\0')
                bad_usage("invalid value for --unix:", value);
            o->unix_path = value;
        } else if (strcmp(name, "--delay-ms") == 0) {
            o->delay_ms = parse_number(name, value, 0, 86400000);
        } else if (strcmp(name, "--workers") == 0) {
            o->workers = (int)parse_number(name, value, 1, 1024);
        } else if (strcmp(name, "--max-message-bytes") == 0) {
            o->max_message_bytes = (size_t)parse_number(name, value, 1, 1L << 30);
        } else {
            o->grace_ms = parse_number(name, value, 0, 86400000);
        }
    }
    /* One address: a socket path, or a TCP host and port. */
    if (o->unix_path && tcp_flag)
        bad_usage("--unix cannot be combined with", tcp_flag);
    /* A drain finishes the work a session has queued (a few messages, worked one after another):
     * 4 work delays, never under 5 s. */
    if (o->grace_ms < 0)
        o->grace_ms = o->delay_ms * 4 > 5000 ? o->delay_ms * 4 : 5000;
}
