/* gate: the output gate and commit state machine of Durable Objects (spec:
 * objects.md GATE-6..10, storage.md KV-24/25; docs/architecture.md "Storage and
 * commits", docs/objects.md "Inside: the gate").
 *
 * One obj_gate per object instance, one obj_gates per shard. The gate knows
 * whether the object has uncommitted writes (dirty) and whether any of them was a
 * confirmed write (one without allowUnconfirmed), in which case every output the
 * object produces from then on is held — in the order produced — until a commit
 * that covers that write succeeds. A commit that fails breaks the gate: held
 * replies become reset errors for their callers, other held outputs are dropped,
 * and nothing that depended on the lost writes leaves the shard.
 *
 * States (a flat machine; `committing` may span loop turns once commits become
 * asynchronous, e.g. fenced by a cluster lease):
 *
 *     clean --wrote--> dirty --commit_begin--> committing --commit_done--> clean
 *                                                |   ^ wrote: write_seq moves on;
 *                                                |   | the gate is dirty again after
 *     any --brk--> broken (final)                v   | commit_done (next commit)
 *
 * Sequence numbers make the gate's promise checkable: every write gets the next
 * write_seq; an output held after a confirmed write records the seq it waits for;
 * a commit covers the seqs up to what was written when it began; an output leaves
 * only when committed_seq reaches its seq. Writes made while a commit is in flight
 * coalesce into the next commit, and outputs made after them wait for that one.
 *
 * Invariants, checked after every state change in every build (OBJ_GATE_CHECK):
 * a gate is on its shard's dirty list iff it has writes no commit has begun to
 * cover; it holds outputs only while a confirmed write is uncommitted; no commit
 * begins inside a transaction; seqs only grow and committed_seq <= write_seq; an
 * output is released only when committed_seq covers it; a broken gate holds and
 * queues nothing. A violation aborts the process with a log line: it means the
 * runtime may be about to acknowledge a write that is not stored, and the shard's
 * bookkeeping (shared by every object on it) can no longer be trusted, whereas a
 * crash is a state durable is built to survive — nothing acknowledged is lost, and
 * whatever was not committed was never acknowledged.
 *
 * Single-threaded: a gate and its obj_gates belong to one shard. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct obj_msg obj_msg;
typedef struct obj_gate obj_gate;
typedef struct obj_gates obj_gates;

typedef enum obj_gate_state {
    OBJ_GATE_CLEAN = 0,       /* nothing uncommitted, nothing held */
    OBJ_GATE_DIRTY,           /* writes waiting for a commit */
    OBJ_GATE_COMMITTING,      /* a commit is in flight (maybe more writes behind it) */
    OBJ_GATE_BROKEN,          /* reset: final */
} obj_gate_state;

/* Posts a message to a shard's inbox; takes ownership of m. */
typedef void (*obj_gate_post_fn)(void *ud, int to, obj_msg *m);

/* The gates of one shard. `post` sends released outputs and failure replies. */
obj_gates *obj_gates_new(obj_gate_post_fn post, void *ud);
/* Drops the shard's reference; the memory goes when the last gate is freed too. */
void obj_gates_free(obj_gates *gs);
/* Gates with writes that no commit has begun to cover. */
size_t obj_gates_dirty_count(const obj_gates *gs);
/* The oldest dirty gate not inside a transaction, or NULL: the next to commit. */
obj_gate *obj_gates_next(obj_gates *gs);

/* `owner` is the caller's (borrowed, returned by obj_gate_owner). NULL on OOM. */
obj_gate *obj_gate_new(obj_gates *gs, void *owner);
/* Frees the gate and drops whatever it holds (the shard is going away, or the
 * instance was collected, which cannot happen while it holds outputs). */
void obj_gate_free(obj_gate *g);
void *obj_gate_owner(const obj_gate *g);
obj_gate_state obj_gate_get_state(const obj_gate *g);
/* True while writes are uncommitted (dirty or committing). */
bool obj_gate_pending(const obj_gate *g);
/* Outputs currently held. */
size_t obj_gate_held_count(const obj_gate *g);

/* A write joined the object's implicit transaction. `unconfirmed`
 * (allowUnconfirmed, GATE-9) does not hold outputs. DUR_ECLOSED on a broken gate
 * (the caller must not have written). */
int obj_gate_wrote(obj_gate *g, bool unconfirmed);
/* transaction()/transactionSync() nesting: no commit begins while depth > 0. */
void obj_gate_txn_enter(obj_gate *g);
void obj_gate_txn_exit(obj_gate *g);
int obj_gate_txn_depth(const obj_gate *g);

/* An output of the object (a reply, a WebSocket message); takes ownership of m. Posted now if nothing is held and no confirmed
 * write is uncommitted, else held behind the commit that covers the writes made
 * so far. On a broken gate a reply is replaced by the break's error reply (the
 * caller may race the reset), anything else is dropped. */
void obj_gate_output(obj_gate *g, int to, obj_msg *m);

/* True if an output made now would be held (a confirmed write is uncommitted). */
bool obj_gate_holding(const obj_gate *g);

/* Calls the object makes to the outside — fetch(), calls to other objects — are
 * outputs too (GATE-6), but the caller makes them itself once allowed: a ticket
 * waits among the held outputs, in order, and the shard's ticket callback (set
 * with obj_gates_on_ticket) later says go (the commit that covers the writes made
 * before the call succeeded) or not (the gate broke: the call must never be made).
 * Returns 0 if the call may go now (nothing held), OBJ_GATE_NO_TICKET on a broken
 * gate (it must not go), else the ticket. On OOM: OBJ_GATE_NO_TICKET too. */
#define OBJ_GATE_NO_TICKET UINT64_MAX
typedef void (*obj_gate_ticket_fn)(void *ud, uint64_t ticket, bool go);
void obj_gates_on_ticket(obj_gates *gs, obj_gate_ticket_fn fn, void *ud);
uint64_t obj_gate_hold_call(obj_gate *g);

/* Commit protocol: commit_begin (takes the gate off the dirty list; the caller
 * then commits its storage), then commit_done on success or obj_gate_break on
 * failure. */
void obj_gate_commit_begin(obj_gate *g);
/* Releases, in order, every held output the commit covered. */
void obj_gate_commit_done(obj_gate *g);
/* Resets the gate for good: held replies are answered with an error reply whose
 * payload is `err_payload` (structured-clone bytes, copied), other held outputs
 * are dropped (tickets: told not to go); later replies get the same error. */
void obj_gate_break(obj_gate *g, const uint8_t *err_payload, size_t err_len);
