/*
 * children.h - the table of forked children a parent must reap and, on
 * shutdown, stop. Used by prefork, fork-per-connection and master-worker.
 */
#ifndef SERVER_MODELS_CHILDREN_H
#define SERVER_MODELS_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

struct children {
    pid_t *pid;
    size_t len, cap;
};

/* Called with SIGCHLD blocked: the handler of fork-per-connection edits the table. */
void children_add(struct children *c, pid_t pid);

/* The reaper: waitpid(-1, WNOHANG) in a loop until no exited child is left, since
 * one SIGCHLD may stand for many exits (signals do not queue). Removes each from
 * the table and calls on_exit (may be NULL). Async-signal-safe if on_exit is. */
size_t children_reap(struct children *c, void (*on_exit)(pid_t pid, int status));

/* Shutdown: SIGTERM every child, wait until they exit (they drain for grace_ms),
 * then SIGKILL and reap whatever is left. SIGCHLD must be blocked. Frees the table. */
void children_stop(struct children *c, long grace_ms, void (*on_exit)(pid_t pid, int status));

#endif
