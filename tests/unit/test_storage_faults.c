/*
 * Fault plans on storage version 4's queue_next_due_except: the method id
 * ORDERLY_METHOD_QUEUE_NEXT_DUE_EXCEPT counts and fails it in the memory
 * storage and in the fault wrapper, and the wrapper offers the slot only
 * over an inner storage that answers it.
 */
#include <string.h>

#include "orderly/sys/fault.h"
#include "orderly/sys/memory.h"
#include "orderly/sys/storage.h"
#include "unit_main.h"

#define QO ORDERLY_QUEUE_OUTBOX
#define M_EXCEPT ORDERLY_METHOD_QUEUE_NEXT_DUE_EXCEPT

/* One READY outbox item due at 50, committed. */
static void push_one(orderly_storage *s)
{
    orderly_queue_item it;
    uint64_t id;
    void *txn;

    memset(&it, 0, sizeof it);
    it.group = "";
    it.kind = 1;
    it.created = 10;
    it.due = 50;
    ck_assert_int_eq(s->begin(s, NULL, &txn), 0);
    ck_assert_int_eq(s->queue_push(s, NULL, txn, QO, &it, &id), 0);
    ck_assert_int_eq(s->commit(s, NULL, txn), 0);
}

/* queue_next_due_except(QO, token 0) in a transaction of its own. */
static int ask(orderly_storage *s, orderly_time_ms *due)
{
    void *txn;
    int rc;

    ck_assert_int_eq(s->begin(s, NULL, &txn), 0);
    rc = s->queue_next_due_except(s, NULL, txn, QO, 0, due);
    s->rollback(s, NULL, txn);
    return rc;
}

static orderly_fault_plan plan_on(int method)
{
    orderly_fault_plan plan = ORDERLY_FAULT_PLAN_INIT;

    plan.method = method;
    plan.fail_at = 1;
    return plan;
}

START_TEST(memory_counts_except_under_its_own_method)
{
    orderly_storage *mem;
    orderly_time_ms due = 0;

    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    push_one(mem);
    ck_assert_int_eq(ask(mem, &due), 0);
    ck_assert_int_eq(due, 50);
    ck_assert_uint_eq(orderly_memory_storage_calls(mem, M_EXCEPT), 1);
    ck_assert_uint_eq(orderly_memory_storage_calls(mem, ORDERLY_METHOD_QUEUE_NEXT_DUE), 0);
    orderly_memory_storage_free(mem);
}
END_TEST

START_TEST(memory_fails_except_by_its_method_id)
{
    orderly_storage *mem;
    orderly_fault_plan plan = plan_on(M_EXCEPT);
    orderly_time_ms due = 7;

    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    push_one(mem);
    ck_assert_int_eq(orderly_memory_storage_set_faults(mem, &plan), 0);
    ck_assert_int_eq(ask(mem, &due), ORDERLY_ESTORAGE);
    ck_assert_int_eq(due, 7);
    ck_assert_uint_eq(orderly_memory_storage_faults(mem), 1);
    ck_assert_int_eq(ask(mem, &due), 0);
    ck_assert_int_eq(due, 50);
    orderly_memory_storage_free(mem);
}
END_TEST

START_TEST(wrapper_passes_except_through_and_counts_it)
{
    orderly_storage *mem, *w;
    orderly_time_ms due = 0;

    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    ck_assert_int_eq(orderly_fault_storage_new(&w, mem, NULL), 0);
    ck_assert(w->queue_next_due_except != NULL);
    push_one(w);
    ck_assert_int_eq(ask(w, &due), 0);
    ck_assert_int_eq(due, 50);
    ck_assert_uint_eq(orderly_fault_storage_calls(w, M_EXCEPT), 1);
    ck_assert_uint_eq(orderly_memory_storage_calls(mem, M_EXCEPT), 1);
    orderly_fault_storage_free(w);
    orderly_memory_storage_free(mem);
}
END_TEST

START_TEST(wrapper_fails_except_before_the_inner_storage)
{
    orderly_storage *mem, *w;
    orderly_fault_plan plan = plan_on(M_EXCEPT);
    orderly_time_ms due = 7;

    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    ck_assert_int_eq(orderly_fault_storage_new(&w, mem, NULL), 0);
    push_one(w);
    ck_assert_int_eq(orderly_fault_storage_set_faults(w, &plan), 0);
    ck_assert_int_eq(ask(w, &due), ORDERLY_ESTORAGE);
    ck_assert_int_eq(due, 7);
    ck_assert_uint_eq(orderly_fault_storage_faults(w), 1);
    ck_assert_uint_eq(orderly_memory_storage_calls(mem, M_EXCEPT), 0);
    orderly_fault_storage_free(w);
    orderly_memory_storage_free(mem);
}
END_TEST

/* Never called: the wrapper must not offer what its inner storage's
 * version does not cover. */
static int stray_except(orderly_storage *s, orderly_ctx *ctx, void *txn, int queue,
                        uint64_t token, orderly_time_ms *due_out)
{
    (void)s;
    (void)ctx;
    (void)txn;
    (void)queue;
    (void)token;
    (void)due_out;
    ck_abort_msg("the wrapper called a slot past its inner storage's version");
    return ORDERLY_ESTORAGE;
}

START_TEST(wrapper_leaves_except_out_over_a_version_3_inner)
{
    orderly_storage inner, *w;

    ck_assert_int_eq(orderly_storage_init(&inner, 3), 0);
    inner.queue_next_due_except = stray_except;   /* past a version 3 struct's end */
    ck_assert_int_eq(orderly_fault_storage_new(&w, &inner, NULL), 0);
    ck_assert(w->queue_next_due_except == NULL);
    orderly_fault_storage_free(w);
}
END_TEST

START_TEST(wrapper_leaves_except_out_when_the_inner_slot_is_null)
{
    orderly_storage inner, *w;

    ck_assert_int_eq(orderly_storage_init(&inner, 4), 0);
    ck_assert_int_eq(orderly_fault_storage_new(&w, &inner, NULL), 0);
    ck_assert(w->queue_next_due_except == NULL);
    orderly_fault_storage_free(w);
}
END_TEST

START_TEST(wrapper_plans_take_the_except_method_and_refuse_the_count)
{
    orderly_storage *mem, *w;
    orderly_fault_plan plan = plan_on(M_EXCEPT);

    ck_assert_int_eq(orderly_memory_storage_new(&mem, NULL), 0);
    ck_assert_int_eq(orderly_fault_storage_new(&w, mem, NULL), 0);
    ck_assert_int_eq(orderly_fault_storage_set_faults(w, &plan), 0);
    plan.method = ORDERLY_METHOD_COUNT;
    ck_assert_int_eq(orderly_fault_storage_set_faults(w, &plan), ORDERLY_EINVAL);
    ck_assert_uint_eq(orderly_fault_storage_calls(w, ORDERLY_METHOD_COUNT), 0);
    orderly_fault_storage_free(w);
    orderly_memory_storage_free(mem);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("storage_faults");

    orderly_test_case(s, memory_counts_except_under_its_own_method, UNIT_TIMEOUT);
    orderly_test_case(s, memory_fails_except_by_its_method_id, UNIT_TIMEOUT);
    orderly_test_case(s, wrapper_passes_except_through_and_counts_it, UNIT_TIMEOUT);
    orderly_test_case(s, wrapper_fails_except_before_the_inner_storage, UNIT_TIMEOUT);
    orderly_test_case(s, wrapper_leaves_except_out_over_a_version_3_inner, UNIT_TIMEOUT);
    orderly_test_case(s, wrapper_leaves_except_out_when_the_inner_slot_is_null, UNIT_TIMEOUT);
    orderly_test_case(s, wrapper_plans_take_the_except_method_and_refuse_the_count, UNIT_TIMEOUT);
    return s;
}

int main(void)
{
    Suite *suites[] = { faults_suite(), NULL };

    return unit_run(suites);
}
