#include <string.h>

#include "fault.h"

void orderly__faults_set(struct orderly__faults *f, const orderly_fault_plan *plan)
{
    uint64_t injected = f->injected;

    memset(f, 0, sizeof *f);
    f->injected = injected;
    if (plan == NULL)
        return;
    f->plan = *plan;
    f->active = 1;
    f->rng = plan->seed;
}

int orderly__faults_check(struct orderly__faults *f, int method, int default_code)
{
    int fail = 0;

    if (!f->active)
        return 0;
    if (f->plan.method != ORDERLY_METHOD_ANY && f->plan.method != method)
        return 0;
    f->matched++;
    if (f->plan.fail_at != 0 &&
        (f->matched == f->plan.fail_at || (f->plan.persistent && f->matched > f->plan.fail_at)))
        fail = 1;
    if (f->plan.probability > 0.0 && orderly__mem_rand01(&f->rng) < f->plan.probability)
        fail = 1;
    if (!fail)
        return 0;
    f->injected++;
    return f->plan.code != 0 ? f->plan.code : default_code;
}
