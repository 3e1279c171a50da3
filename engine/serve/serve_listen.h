/* The server's listening socket: bound here (so that port 0 picks a free
 * port, which is then known) and handed to libmicrohttpd. */
#ifndef KILN_SERVE_LISTEN_H
#define KILN_SERVE_LISTEN_H

#include "kiln.h"

/* Binds a TCP socket to the numeric address `host` (IPv4 or IPv6) and
 * `port` (0: any free port), listens, and returns it in *fd with the
 * bound port in *bound.  KILN_E_CONFIG naming a host that is not an
 * address; KILN_E_IO with the reason when it cannot bind. */
kiln_status serve_listen(const char *host, unsigned port, int *fd, unsigned *bound);

#endif
