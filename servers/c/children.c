/* children.c - reaping and stopping forked children. */
#define _GNU_SOURCE
#include "children.h"
#include "protocol.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

void children_add(struct children *c, pid_t pid)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        pid_t *p = realloc(c->pid, cap * sizeof *p);
        if (p == NULL)
            die("realloc");
        c->pid = p;
        c->cap = cap;
    }
    c->pid[c->len++] = pid;
}

size_t children_reap(struct children *c, void (*on_exit)(pid_t, int))
{
    size_t reaped = 0;
    pid_t pid;
    int status;
    /* 0: children remain but none has exited; -1/ECHILD: no children at all. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < c->len; i++) {
            if (c->pid[i] == pid) {
                c->pid[i] = c->pid[--c->len]; /* order does not matter */
                break;
            }
        }
        if (on_exit)
            on_exit(pid, status);
        reaped++;
    }
    return reaped;
}

void children_stop(struct children *c, long grace_ms, void (*on_exit)(pid_t, int))
{
    for (size_t i = 0; i < c->len; i++)
        if (kill(c->pid[i], SIGTERM) < 0 && errno != ESRCH) /* ESRCH: exited, not reaped yet */
            warn("kill(SIGTERM)");

    /* The children enforce the grace period themselves; the margin lets them close
     * their last sessions with a FIN before we fall back to SIGKILL. */
    int64_t deadline = now_ms() + grace_ms + 500;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        children_reap(c, on_exit);
        int64_t left = deadline - now_ms();
        if (c->len == 0 || left <= 0)
            break;
        /* Sleep until the next SIGCHLD (pending, since it is blocked) or the deadline. */
        struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
        if (sigtimedwait(&chld, NULL, &ts) < 0 && errno != EAGAIN && errno != EINTR)
            die("sigtimedwait");
    }

    for (size_t i = 0; i < c->len; i++) {
        if (kill(c->pid[i], SIGKILL) < 0 && errno != ESRCH)
            warn("kill(SIGKILL)");
        int status;
        pid_t r;
        while ((r = waitpid(c->pid[i], &status, 0)) < 0 && errno == EINTR)
            ;
        if (r < 0 && errno != ECHILD)
            die("waitpid");
        if (r > 0 && on_exit)
            on_exit(r, status);
    }
    free(c->pid);
    *c = (struct children){0};
}
