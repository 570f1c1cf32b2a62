/*
 * event_loop_core.h - one thread serving any number of sessions with epoll.
 * The event-loop server runs it once; master-worker runs it in every worker.
 */
#ifndef SERVER_MODELS_EVENT_LOOP_CORE_H
#define SERVER_MODELS_EVENT_LOOP_CORE_H

#include "protocol.h"

/* Serves sessions until a drain has finished, then returns.
 * New connections come either from listen_fd (non-blocking; accepted here) or
 * from fd_source, a Unix socket that carries them as SCM_RIGHTS messages
 * (master-worker); pass -1 for the one not used. Both are closed when the drain
 * begins, which happens when stop_fd becomes readable or fd_source hits EOF. */
void event_loop_run(const struct options *o, int listen_fd, int fd_source, int stop_fd);

#endif
