/* Guard evaluation, shared by lookups and the engine. */
#ifndef ORDERLY_FSM_GUARD_H
#define ORDERLY_FSM_GUARD_H

#include "orderly/machine.h"

/* 1 when guard holds for in; unknown guards never hold. */
int orderly__guard_holds(int guard, const orderly_guard_input *in);

#endif
