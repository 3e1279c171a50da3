/* `kiln serve [JOB.ini] [--host H] [--port P] [--set section.key=value]`:
 * the job's stages behind HTTP (engine/serve). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"

#define CLI_SERVE_MAX_SETS 256

/* Prints the usage of the command. */
static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: kiln serve [JOB.ini] [--host ADDR] [--port N] [--set section.key=value ...]\n"
            "  Serves background removal over HTTP, one worker per device of [device] select:\n"
            "    POST /api/remove   rembg's API: multipart form `file` (or the image as the body)\n"
            "                       with rembg's fields model, a, af, ab, ae, om, ppm, bgc\n"
            "    POST /v1/run       the image as the body (or form `file`); query parameters\n"
            "                       stages=segment,refine,resize,composite and section.key=value\n"
            "    GET /healthz, GET /readyz, GET /metrics (Prometheus text)\n"
            "  Answers are PNGs.  [segment] is on; the [serve] keys set host, port, queue,\n"
            "  max_body, timeout, grace, access_log (kiln config --reference).\n"
            "  --host ADDR  listen on this address (default [serve] host, 127.0.0.1)\n"
            "  --port N     listen on this port; 0 picks a free one (default [serve] port, 7000)\n"
            "  Prints \"kiln serve: listening on http://HOST:PORT\" on stderr once listening.\n"
            "  SIGTERM or SIGINT drains: no new connections, queued requests get [serve] grace\n"
            "  seconds, the rest 503.  exit status: 0 stopped cleanly, 1 a device leaked\n"
            "  buffers, 2 a usage error or the server could not start.\n");
}

static const cli_command serve_command = { "serve", serve_usage };

/* Parses the command line and runs the server. */
int cli_serve(int argc, char **argv)
{
    const char *sets[CLI_SERVE_MAX_SETS];
    serve_options o = { NULL, sets, 0, NULL, -1 };

    for (int i = 0; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i]))
            return cli_help(&serve_command);
        if (strcmp(argv[i], "--set") == 0) {
            if (!(v = cli_option_value(&serve_command, argc, argv, &i)))
                return 2;
            if (o.nsets == CLI_SERVE_MAX_SETS)
                return cli_usage_error(&serve_command, "too many --set options (at most %d)",
                                       CLI_SERVE_MAX_SETS);
            sets[o.nsets++] = v;
        } else if (strcmp(argv[i], "--host") == 0) {
            if (!(o.host = cli_option_value(&serve_command, argc, argv, &i)))
                return 2;
        } else if (strcmp(argv[i], "--port") == 0) {
            char *end = NULL;
            if (!(v = cli_option_value(&serve_command, argc, argv, &i)))
                return 2;
            o.port = strtol(v, &end, 10);
            if (!end || *end != '\0' || v[0] == '\0' || o.port < 0 || o.port > 65535)
                return cli_usage_error(&serve_command, "--port wants 0..65535, not '%s'", v);
        } else if (argv[i][0] == '-') {
            return cli_usage_error(&serve_command, "unknown option '%s'", argv[i]);
        } else if (!o.job_path) {
            o.job_path = argv[i];
        } else {
            return cli_usage_error(&serve_command, "one job file at a time ('%s' and '%s')",
                                   o.job_path, argv[i]);
        }
    }
    return serve_run(&o);
}
