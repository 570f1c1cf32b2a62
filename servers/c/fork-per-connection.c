/*
 * fork-per-connection: a new child process for every client.
 *
 * The parent accepts, forks, and closes its own copy of the client socket at
 * once: the kernel counts references, so the connection lives on in the child
 * and the client gets its FIN when the child closes. Without that close the
 * parent would leak a descriptor per client, and the connection never closes.
 * Exited children stay zombies until waited for: the SIGCHLD handler reaps them
 * with a waitpid(WNOHANG) loop, since one signal may stand for many exits.
 */
#define _GNU_SOURCE
#include "children.h"
#include "protocol.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static struct children kids; /* edited by the handler: change only with SIGCHLD blocked */

static void on_sigchld(int sig)
{
    (void)sig;
    int saved = errno; /* waitpid() may change errno under the interrupted code */
    children_reap(&kids, NULL);
    errno = saved;
}

static _Noreturn void child_main(int listen_fd, int fd, const struct options *o, pid_t parent)
{
    xclose(listen_fd); /* the listener belongs to the parent */
    free(kids.pid);
    kids = (struct children){0};
    /* If the parent dies, finish up rather than serve on unsupervised. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        die("prctl");
    if (getppid() != parent)
        exit(0);
    if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
        die("signal");
    int stop_fd = install_stop_handlers(-1); /* our own stop pipe, not the parent's */
    block_signals(false);
    serve_session(fd, o, stop_fd);
    exit(0);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o, 0);
    raise_fd_limit();
    int listen_fd = open_listener(&o, false);
    /* SIGTERM shuts listen_fd down, which ends a blocked accept() without a race. */
    int stop_fd = install_stop_handlers(listen_fd);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sigfillset(&sa.sa_mask);
    /* No SA_RESTART: accept() returns EINTR after each SIGCHLD and accept_next_client()
     * restarts it, the textbook way. SA_NOCLDSTOP: stopped children are not exits. */
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        die("sigaction(SIGCHLD)");
    print_ready_line(listen_fd);

    int fd;
    while ((fd = accept_next_client(listen_fd, stop_fd)) >= 0) {
        /* Blocked across fork(): the handler must not see the table half-updated,
         * and the child must not run the parent's SIGTERM handler (it would shut
         * the parent's listener down) before installing its own. */
        block_signals(true);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0)
            child_main(listen_fd, fd, &o, parent);
        if (pid < 0) {
            warn("fork");
            close_gracefully(fd); /* turn this client away, keep serving */
        } else {
            children_add(&kids, pid);
            xclose(fd); /* the parent's copy: the child has its own */
        }
        block_signals(false);
        if (pid < 0)
            accept_backoff(stop_fd); /* out of processes or memory: do not spin */
    }

    /* Drain: the children finish their owed acks within the grace period. */
    block_signals(true);
    xclose(listen_fd);
    children_stop(&kids, o.grace_ms, NULL);
    return 0;
}
