/* How every kiln command answers --help and a usage error (see cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* 1 when `arg` asks for help (--help or -h), else 0. */
int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Prints the command's usage on stdout; returns 0, the exit status of
 * an answered --help. */
int cli_help(const cli_command *cmd)
{
    cmd->usage(stdout);
    return 0;
}

/* Prints "kiln NAME: MESSAGE" and then the command's usage on stderr;
 * returns 2, the exit status of a usage error. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kiln %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cmd->usage(stderr);
    return 2;
}

/* Returns the value of the option at argv[*i], advancing *i past it;
 * NULL after a usage error when the value is missing. */
const char *cli_option_value(const cli_command *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
