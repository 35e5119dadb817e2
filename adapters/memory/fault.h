/* Fault-plan evaluation shared by the memory storage and transport. */
#ifndef ORDERLY_MEMORY_FAULT_H
#define ORDERLY_MEMORY_FAULT_H

#include "support.h"
#include "orderly/sys/memory.h"

struct orderly__faults {
    orderly_fault_plan plan;
    int active;
    uint64_t matched;     /* matching calls since the plan was set */
    uint64_t rng;
    uint64_t injected;
};

void orderly__faults_set(struct orderly__faults *f, const orderly_fault_plan *plan);
/* 0, or the code to inject for this call of method. */
int orderly__faults_check(struct orderly__faults *f, int method, int default_code);

#endif
