/*
 * orderly - command-line tool. Links only the public API.
 *
 * Exit codes: 0 success, 1 a failure while doing the work, 2 a usage error.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define EXIT_USAGE CLI_EXIT_USAGE

static int write_stdout(const char *data, size_t len, void *user_data)
{
    (void)user_data;
    return fwrite(data, 1, len, stdout) == len ? ORDERLY_OK : ORDERLY_ERROR;
}

static int is_help(const char *arg)
{
    return cli_is_help(arg);
}

static void usage(FILE *f)
{
    fputs("usage: orderly <command> [options]\n"
          "\n"
          "commands:\n"
          "  machines                         list the declared state machines\n"
          "  graph MACHINE [--format FORMAT]  print a machine as dot, mermaid or json\n"
          "  graph choreography [--format F]  the reactions between the machines\n"
          "  version                          print the library version\n"
          "  simulate [options]               run many order lifecycles and check them\n"
          "  order show ID                    one order, its parts and operations\n"
          "  outbox [--pending|--dead]        outbox rows\n"
          "  operations list|replay ID        queued operations and operator replay\n"
          "  health [--metrics]               backlog, dead letters, readiness\n"
          "  drain [options]                  run the due background work after a crash\n"
          "\n"
          "Commands that read a database take --db FILE (default " CLI_DEFAULT_DB ").\n"
          "machines, order show, outbox, operations list and health take --json\n"
          "for one JSON document on stdout instead of the table.\n"
          "\n"
          "Run 'orderly <command> --help' for a command's options.\n",
          f);
}

static int cmd_machines(int argc, char **argv)
{
    const orderly_machine *m;
    json_t *list = NULL;
    int id, json = 0;

    if (argc > 1) {
        if (is_help(argv[1])) {
            puts("usage: orderly machines [--json]\n\n"
                 "Lists each machine with its states, events and rows.\n"
                 "  --json   one JSON object instead (see doc/cli.md)");
            return 0;
        }
        if (strcmp(argv[1], "--json") != 0 || argc > 2) {
            fprintf(stderr, "orderly machines: unexpected argument '%s'\n",
                    strcmp(argv[1], "--json") != 0 ? argv[1] : argv[2]);
            return EXIT_USAGE;
        }
        if ((list = json_array()) == NULL)
            return 1;
        json = 1;
    }
    if (!json)
        printf("%-12s %6s %6s %5s  %s\n", "machine", "states", "events", "rows", "initial");
    for (id = 1; id <= orderly_machine_count(); id++) {
        const char *name, *initial;
        int states, events, rows;
        if (orderly_machine_by_id(&m, id) < 0) {
            json_decref(list);
            return 1;
        }
        name = orderly_machine_name(m);
        states = orderly_machine_state_limit(m) - 1;
        events = orderly_machine_event_limit(m) - orderly_event_first();
        rows = orderly_machine_transition_count(m);
        initial = orderly_machine_state_name(m, orderly_machine_initial(m));
        if (!json)
            printf("%-12s %6d %6d %5d  %s\n", name, states, events, rows, initial);
        else if (json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:i,s:s}", "name", name,
                                                       "states", states, "events", events,
                                                       "transitions", rows, "initial",
                                                       initial)) < 0) {
            json_decref(list);
            return 1;
        }
    }
    if (json) {
        json_t *doc = json_pack("{s:o}", "machines", list);
        if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) < 0) {
            json_decref(doc);
            return 1;
        }
        json_decref(doc);
        putchar('\n');
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (is_help(argv[1])) {
            puts("usage: orderly version\n\nPrints the version of liborderly the tool runs on.");
            return 0;
        }
        fprintf(stderr, "orderly version: unexpected argument '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    puts(orderly_version_string());
    return 0;
}

static int cmd_graph(int argc, char **argv)
{
    const orderly_machine *m = NULL;
    const char *name = NULL, *format_name = "mermaid";
    int format, rc, i;

    for (i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            puts("usage: orderly graph MACHINE|choreography [--format dot|mermaid|json]\n\n"
                 "Prints MACHINE (order, payment, reservation, fulfillment, shipment,\n"
                 "return) generated from its declared table, or 'choreography': the\n"
                 "machines and the declared reactions between them. Default format: mermaid.");
            return 0;
        } else if (strcmp(argv[i], "--format") == 0 || strncmp(argv[i], "--format=", 9) == 0) {
            format_name = argv[i][8] == '=' ? argv[i] + 9 : i + 1 < argc ? argv[++i] : "";
            if (format_name[0] == '\0') {
                fputs("orderly graph: --format needs a value (dot, mermaid, json)\n", stderr);
                return EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' || name != NULL) {
            fprintf(stderr, "orderly graph: unexpected argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        } else {
            name = argv[i];
        }
    }
    if (name == NULL) {
        fputs("orderly graph: MACHINE is required (see 'orderly machines')\n", stderr);
        return EXIT_USAGE;
    }
    /* no machine is named choreography: the view takes the name */
    if (strcmp(name, "choreography") != 0 && orderly_machine_by_name(&m, name) < 0) {
        fprintf(stderr, "orderly graph: no machine named '%s' (see 'orderly machines')\n", name);
        return EXIT_USAGE;
    }
    if (orderly_graph_format_by_name(&format, format_name) < 0) {
        fprintf(stderr, "orderly graph: unknown format '%s' (dot, mermaid, json)\n", format_name);
        return EXIT_USAGE;
    }
    rc = m != NULL ? orderly_graph_export(m, format, write_stdout, NULL, NULL)
                   : orderly_graph_export_choreography(format, write_stdout, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "orderly graph: %s\n", orderly_strerror(rc));
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "machines") == 0)
        return cmd_machines(argc - 1, argv + 1);
    if (strcmp(argv[1], "graph") == 0)
        return cmd_graph(argc - 1, argv + 1);
    if (strcmp(argv[1], "simulate") == 0)
        return cmd_simulate(argc - 1, argv + 1);
    if (strcmp(argv[1], "order") == 0)
        return cmd_order(argc - 1, argv + 1);
    if (strcmp(argv[1], "outbox") == 0)
        return cmd_outbox(argc - 1, argv + 1);
    if (strcmp(argv[1], "operations") == 0)
        return cmd_operations(argc - 1, argv + 1);
    if (strcmp(argv[1], "health") == 0)
        return cmd_health(argc - 1, argv + 1);
    if (strcmp(argv[1], "drain") == 0)
        return cmd_drain(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0)
        return cmd_version(argc - 1, argv + 1);
    fprintf(stderr, "orderly: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
