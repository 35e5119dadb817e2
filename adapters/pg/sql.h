/* The adapter's prepared statements (sql.c). Never installed. */
#ifndef ORDERLY_PG_SQL_H
#define ORDERLY_PG_SQL_H

#include "internal.h"

struct orderly__pg_sql {
    const char *text;   /* '@' = the schema */
    const char *types;  /* one letter per parameter: i int8, t text, b bytea */
};

extern const struct orderly__pg_sql orderly__pg_sql[PG_COUNT];

#endif
