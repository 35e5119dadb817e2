/*
 * One service of the review's services topology as a process of its own
 * (tests/redis/test_services.c): an ORDERLY_ENGINE_REPLICA engine with the
 * service's roles on its own SQLite file, its own Redis transport
 * publishing to the topic streams "<prefix>.<topic>", reading the one
 * ordered input log "<prefix>.inputs" through the consumer group named
 * after the service. Each log entry's field `data` is a JSON object:
 *   {"now": ms, "call": "create", "order": id, "method": m
 *    [, "promotion": true] [, "points": n]}   the create's key is the entry id
 *   {"now": ms, "call": "event", "envelope": {CloudEvents command}
 *    [, "die_after_commit": service]}          that service dies by SIGKILL
 *                                              after the commit, before the
 *                                              XACK, on the first delivery
 *   {"now": ms, "call": "round"}              tick and run the operations
 *   {"now": ms, "call": "stop"}               report and end
 * At "stop" the service adds its counters to "<prefix>.results" (fields
 * service and stats, a JSON object: delivered, acked, failed, reclaimed,
 * dead, duplicates, late, refused, reconnects).
 */
#ifndef ORDERLY_TESTS_REDIS_SERVICE_H
#define ORDERLY_TESTS_REDIS_SERVICE_H

#include <jansson.h>

#include "orderly/engine.h"
#include "../services.h"

/* The service named name, or -1. */
int service_of(const char *name);

/* Sleeps ms milliseconds. */
void nap(long ms);

/* Gives every orderly operation an executor that succeeds, so the commands
 * topic carries deadline commands only. 0 or -1. */
int set_executors(orderly_engine *e);

/* names[i] = "<prefix>.<default name of topic i>", ptrs[i] = names[i]
 * (ptrs[0] = NULL), for orderly_engine_options.topics. */
void topic_names(char (*names)[96], const char **ptrs, const char *prefix);

/* A "create" entry's order spec (borrows from j and entry_id). */
orderly_order_spec spec_of(json_t *j, const char *entry_id, orderly_time_ms now);

/* Runs service `which` until its "stop" entry: 0 when it stopped and
 * reported, else nonzero. Call it in a forked child. */
int service_main(int which, const char *url, const char *prefix, const char *db_path);

#endif
