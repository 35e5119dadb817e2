/*
 * Shared pieces of the orderly command-line tool: exit codes, flag
 * parsing, and opening a database with an engine on it.
 */
#ifndef ORDERLY_CLI_H
#define ORDERLY_CLI_H

#include <stdio.h>

#include "orderly.h"
#include "orderly/sys/fault.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/sqlite.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* the work failed: bad database, invariant broken, ... */
#define CLI_EXIT_USAGE 2  /* bad flags or arguments */

#define CLI_DEFAULT_DB "orderly-sim.db"

/* The record simulate keeps its simulated clock in, so later commands
 * measure ages on the same clock as the data. */
#define CLI_CLOCK_KEY "~orderly-cli/clock"

int cli_is_help(const char *arg);
/* Prints "orderly CMD: message" and the hint to run --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parses a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_i64(const char *s, int64_t *out);
/* Parses a whole number in [0, 1]; 0 on success. */
int cli_parse_rate(const char *s, double *out);

/* An engine on a database file, with an in-memory transport (the tool
 * inspects; it never publishes to a real broker). */
typedef struct cli_db {
    orderly_storage *sqlite;
    orderly_transport *transport;
    orderly_engine *engine;
    const char *path;
} cli_db;

/* Opens an existing orderly database; never creates one. With read_only
 * (the inspection commands) nothing is written or migrated and reads never
 * wait for a writer. On failure prints the reason and returns
 * CLI_EXIT_FAIL; every handle in *db is then NULL. */
int cli_db_open(cli_db *db, const char *cmd, const char *path, int read_only);
void cli_db_close(cli_db *db);

/* The simulated clock stored in the database into *out; ENOTFOUND when
 * the database keeps none (it was not made by simulate). */
int cli_db_clock(cli_db *db, orderly_time_ms *out);
/* The simulated clock stored in the database, or the wall clock. */
orderly_time_ms cli_db_now(cli_db *db);
/* Stores now as the database's clock (used by simulate). */
int cli_db_set_now(orderly_storage *s, orderly_time_ms now);

/* A small fixed buffer for an encoded envelope. */
typedef struct cli_text {
    char data[1024];
    size_t len;
} cli_text;

/* An orderly_writer_cb appending to a cli_text (ENOMEM when full). */
int cli_text_append(const char *data, size_t len, void *user_data);

/* Wall clock in milliseconds since the epoch, and a monotonic one. */
orderly_time_ms cli_wall_ms(void);
double cli_mono_seconds(void);

/* "2026-01-05T10:00:00.000Z" into out (cap >= 25). */
void cli_format_time(char *out, size_t cap, orderly_time_ms t);

int cmd_simulate(int argc, char **argv);
int cmd_order(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_operations(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_drain(int argc, char **argv);

#endif
