/*
 * prefork: N worker processes, forked before the first accept().
 *
 * Each child inherits the one listening socket and blocks in accept() on it;
 * the kernel hands every new connection to exactly one waiting child, which
 * serves that client to the end before accepting again. So N clients are
 * served at once and the next ones wait in the backlog.
 * The parent only supervises: it sleeps in sigsuspend(), reaps a dead child and
 * forks a replacement; on SIGTERM it forwards the signal and reaps them all.
 */
#define _GNU_SOURCE
#include "children.h"
#include "protocol.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t parent_stop, child_exited;

static void on_parent_stop(int sig) { (void)sig; parent_stop = 1; }
static void on_sigchld(int sig) { (void)sig; child_exited = 1; }

static _Noreturn void child_main(int listen_fd, const struct options *o, pid_t parent)
{
    /* If the parent dies, drain and go: an orphan would keep accepting forever. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        die("prctl");
    if (getppid() != parent) /* it died before prctl() */
        exit(0);
    if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
        die("signal");
    /* -1: a SIGTERM for this child alone must not shut the shared listener down. */
    int stop_fd = install_stop_handlers(-1);
    block_signals(false); /* blocked since before fork(): nothing was lost */

    /* Ends when the parent shuts the listener down (the drain), or on our SIGTERM. */
    int fd;
    while ((fd = accept_next_client(listen_fd, stop_fd)) >= 0)
        serve_session(fd, o, stop_fd);
    exit(0);
}

static void spawn_child(struct children *kids, int listen_fd, const struct options *o)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        free(kids->pid); /* the parent's bookkeeping */
        child_main(listen_fd, o, parent);
    }
    children_add(kids, pid);
}

static void report_exit(pid_t pid, int status)
{
    if (parent_stop)
        return;
    if (WIFSIGNALED(status))
        fprintf(stderr, "prefork: child %d killed by signal %d, replacing it\n", (int)pid,
                WTERMSIG(status));
    else
        fprintf(stderr, "prefork: child %d exited with status %d, replacing it\n", (int)pid,
                WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o, 5);
    int listen_fd = open_listener(&o, false); /* created once, shared by every child */

    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal(SIGPIPE)");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigfillset(&sa.sa_mask);
    sa.sa_handler = on_parent_stop;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction");
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        die("sigaction(SIGCHLD)");

    /* The signals stay blocked except inside sigsuspend(), which unblocks them and
     * sleeps in one atomic step: a signal cannot slip in between test and sleep. */
    sigset_t wait_mask;
    block_signals(true);
    if (sigprocmask(SIG_SETMASK, NULL, &wait_mask) < 0)
        die("sigprocmask");
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGCHLD);

    struct children kids = {0};
    for (int i = 0; i < o.workers; i++)
        spawn_child(&kids, listen_fd, &o);
    print_ready_line(listen_fd); /* all N children exist */

    while (!parent_stop) {
        sigsuspend(&wait_mask); /* always returns -1/EINTR after a handler ran */
        if (child_exited) {
            child_exited = 0;
            children_reap(&kids, report_exit);
            while (!parent_stop && kids.len < (size_t)o.workers)
                spawn_child(&kids, listen_fd, &o);
        }
    }

    /* Drain: wake every child blocked in accept() (they get EINVAL), tell the busy
     * ones to finish up, and reap them all. */
    if (shutdown(listen_fd, SHUT_RDWR) < 0)
        warn("shutdown(listener)");
    children_stop(&kids, o.grace_ms, NULL);
    xclose(listen_fd);
    return 0;
}
