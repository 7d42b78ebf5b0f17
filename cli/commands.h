/* The longjam subcommands: one file per command (cli/cmd_<name>.c), each a thin layer over the
 * libraries. Every command prints its usage for --help/-h and returns a process exit status. */
#ifndef LJ_CLI_COMMANDS_H
#define LJ_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;
    const char *summary;                 /* one line for `longjam --help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the command name */
} cli_command;

/* Exit statuses shared by every command. */
enum {
    CLI_OK = 0,
    CLI_FAILED = 1,        /* the command failed (or, for batch commands, every item failed) */
    CLI_USAGE = 2,         /* bad command line */
    CLI_SOME_FAILED = 3,   /* batch commands: finished, but some items have error lines */
    CLI_INTERRUPTED = 4,   /* batch commands: stopped by SIGINT/SIGTERM after flushing */
};

/* True when argv holds -h or --help (commands check this before parsing anything else). */
int cli_wants_help(int argc, char **argv);

#endif
