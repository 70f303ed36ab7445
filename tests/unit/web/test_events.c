/* Unit tests for web/js/10_events.js and 12_abort.js over web/events.c:
 * DOMException, Event, CustomEvent, EventTarget, AbortController / AbortSignal,
 * queueMicrotask, performance and navigator. */
#include "harness.h"

static const char HELPERS[] =
    WH_ERR_HELPER
    /* A manual clock for AbortSignal.timeout (the real timers are in timers.c). */
    "globalThis.__timers = [];"
    "globalThis.setTimeout = (fn, ms) => { __timers.push({ fn, ms }); return __timers.length; };"
    "globalThis.runTimers = () => { const t = __timers.splice(0); t.forEach((x) => x.fn()); return t.map((x) => x.ms).join(); };"
    "true";

static int setup(void **state)
{
    return wh_setup_with(state, HELPERS);
}

static void test_dom_exception(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const e = new DOMException('gone', 'AbortError');"
                 "[e.name, e.message, e.code, e instanceof Error, e instanceof DOMException].join()",
              "AbortError,gone,20,true,true");
    WH_EXPECT(h, "const e = new DOMException(); [e.name, e.message, e.code].join('|')", "Error||0");
    WH_EXPECT(h, "String(new DOMException('x', 'NotFoundError'))", "NotFoundError: x");
    WH_EXPECT(h, "Object.prototype.toString.call(new DOMException())", "[object DOMException]");
    WH_EXPECT(h, "typeof new DOMException('m').stack", "string");
    WH_EXPECT(h, "Object.getPrototypeOf(DOMException.prototype) === Error.prototype", "true");
    WH_EXPECT(h, "new DOMException('m', 'Custom').code", "0");
    WH_EXPECT(h, "const e = new DOMException('m', { name: 'DataError', cause: 7 });"
                 "e.name + ' ' + e.cause + ' ' + e.code",
              "DataError 7 0");
    WH_EXPECT(h, "[DOMException.ABORT_ERR, DOMException.INDEX_SIZE_ERR, DOMException.DATA_CLONE_ERR,"
                 " DOMException.QUOTA_EXCEEDED_ERR, new DOMException().TIMEOUT_ERR].join()",
              "20,1,25,22,23");
    WH_EXPECT(h, "DOMException.ABORT_ERR = 1; DOMException.ABORT_ERR", "20");
    /* Every legacy name maps to its code. */
    WH_EXPECT(h, "['IndexSizeError', 'DOMStringSizeError', 'HierarchyRequestError', 'WrongDocumentError',"
                 " 'InvalidCharacterError', 'NoDataAllowedError', 'NoModificationAllowedError',"
                 " 'NotFoundError', 'NotSupportedError', 'InUseAttributeError', 'InvalidStateError',"
                 " 'SyntaxError', 'InvalidModificationError', 'NamespaceError', 'InvalidAccessError',"
                 " 'ValidationError', 'TypeMismatchError', 'SecurityError', 'NetworkError', 'AbortError',"
                 " 'URLMismatchError', 'QuotaExceededError', 'TimeoutError', 'InvalidNodeTypeError',"
                 " 'DataCloneError'].map((n, i) => new DOMException('', n).code === i + 1).every(Boolean)",
              "true");
    WH_EXPECT(h, "['EncodingError', 'NotReadableError', 'OperationError', 'DataError']"
                 ".map((n) => new DOMException('', n).code).join()",
              "0,0,0,0");
    WH_EXPECT(h, "err(() => new DOMException(Symbol()))",
              "TypeError: cannot convert symbol to string");
    WH_EXPECT(h, "err(() => Object.getOwnPropertyDescriptor(DOMException.prototype, 'name').get.call({}))",
              "TypeError: Failed to execute 'name' on 'DOMException': Illegal invocation");
    WH_EXPECT(h, "class MyErr extends DOMException { constructor() { super('m', 'SyntaxError'); } }"
                 "const e = new MyErr(); e.name + e.code + (e instanceof DOMException)",
              "SyntaxError12true");
}

static void test_event(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const e = new Event('x');"
                 "[e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.eventPhase,"
                 " e.target, e.currentTarget, e.isTrusted].join()",
              "x,false,false,false,false,0,,,false");
    WH_EXPECT(h, "const e = new Event('x', { bubbles: 1, cancelable: true, composed: 'y' });"
                 "[e.bubbles, e.cancelable, e.composed].join()",
              "true,true,true");
    WH_EXPECT(h, "const e = new Event('x'); e.preventDefault(); e.defaultPrevented", "false");
    WH_EXPECT(h, "const e = new Event('x', { cancelable: true }); e.preventDefault();"
                 "e.defaultPrevented + ',' + e.returnValue",
              "true,false");
    WH_EXPECT(h, "const e = new Event('x', { cancelable: true }); e.returnValue = false; e.defaultPrevented",
              "true");
    WH_EXPECT(h, "const e = new Event('x'); typeof e.timeStamp === 'number' && e.timeStamp >= 0", "true");
    WH_EXPECT(h, "Event.AT_TARGET + Event.prototype.BUBBLING_PHASE + Event.NONE + Event.CAPTURING_PHASE",
              "6");
    WH_EXPECT(h, "Object.prototype.toString.call(new Event('a'))", "[object Event]");
    WH_EXPECT(h, "err(() => new Event())",
              "TypeError: Failed to construct 'Event': 1 argument required, but only 0 present.");
    WH_EXPECT(h, "err(() => new Event('x', 5))",
              "TypeError: Failed to construct 'Event': The provided value is not of type "
              "'EventInit'.");
    WH_EXPECT(h, "err(() => Object.getOwnPropertyDescriptor(Event.prototype, 'type').get.call({}))",
              "TypeError: Failed to execute 'type' on 'Event': Illegal invocation");
    WH_EXPECT(h, "const e = new CustomEvent('c', { detail: { a: 1 } });"
                 "e.detail.a + ',' + e.type + ',' + (e instanceof Event) + ',' + new CustomEvent('d').detail",
              "1,c,true,null");
    WH_EXPECT(h, "class MyEvent extends Event { constructor() { super('mine'); this.extra = 1; } }"
                 "const t = new EventTarget(); let got = ''; t.addEventListener('mine', (e) => { got = e.type + e.extra; });"
                 "t.dispatchEvent(new MyEvent()); got",
              "mine1");
}

static void test_event_target(void **state)
{
    wh *h = *state;
    /* Capture listeners first, then the others, each in registration order. */
    WH_EXPECT(h, "const t = new EventTarget(); const log = [];"
                 "t.addEventListener('a', () => log.push(1));"
                 "t.addEventListener('a', () => log.push(2), true);"
                 "t.addEventListener('a', () => log.push(3));"
                 "t.addEventListener('a', () => log.push(4), { capture: true });"
                 "t.addEventListener('b', () => log.push('b'));"
                 "t.dispatchEvent(new Event('a')); log.join()",
              "2,4,1,3");
    /* The same listener twice is added once; capture makes it a different one. */
    WH_EXPECT(h, "const t = new EventTarget(); let n = 0; const f = () => n++;"
                 "t.addEventListener('a', f); t.addEventListener('a', f); t.addEventListener('a', f, true);"
                 "t.dispatchEvent(new Event('a')); n",
              "2");
    WH_EXPECT(h, "const t = new EventTarget(); let n = 0; const f = () => n++;"
                 "t.addEventListener('a', f); t.removeEventListener('a', f, true);"
                 "t.dispatchEvent(new Event('a'));"
                 "t.removeEventListener('a', f); t.dispatchEvent(new Event('a')); n",
              "1");
    WH_EXPECT(h, "const t = new EventTarget(); let n = 0;"
                 "t.addEventListener('a', () => n++, { once: true });"
                 "t.dispatchEvent(new Event('a')); t.dispatchEvent(new Event('a')); n",
              "1");
    /* target, currentTarget, phase and `this` during dispatch; cleared after. */
    WH_EXPECT(h, "const t = new EventTarget(); let seen;"
                 "t.addEventListener('a', function (e) { seen = [this === t, e.target === t,"
                 " e.currentTarget === t, e.eventPhase, e.composedPath().length, e.isTrusted]; });"
                 "const e = new Event('a'); t.dispatchEvent(e);"
                 "seen.join() + '|' + [e.eventPhase, e.currentTarget, e.target === t, e.composedPath().length].join()",
              "true,true,true,2,1,false|0,,true,0");
    WH_EXPECT(h, "const t = new EventTarget(); const o = { n: 0, handleEvent(e) { this.n++; } };"
                 "t.addEventListener('a', o); t.dispatchEvent(new Event('a')); o.n",
              "1");
    /* dispatchEvent returns false when a listener cancelled the event. */
    WH_EXPECT(h, "const t = new EventTarget(); t.addEventListener('a', (e) => e.preventDefault());"
                 "t.dispatchEvent(new Event('a', { cancelable: true })) + ',' + t.dispatchEvent(new Event('a'))",
              "false,true");
    WH_EXPECT(h, "const t = new EventTarget(); t.addEventListener('a', (e) => e.preventDefault(), { passive: true });"
                 "t.dispatchEvent(new Event('a', { cancelable: true }))",
              "true");
    WH_EXPECT(h, "const t = new EventTarget(); const log = [];"
                 "t.addEventListener('a', (e) => { log.push(1); e.stopImmediatePropagation(); });"
                 "t.addEventListener('a', () => log.push(2));"
                 "t.dispatchEvent(new Event('a')); log.join()",
              "1");
    /* Added during dispatch: not run this time; removed during dispatch: not run. */
    WH_EXPECT(h, "const t = new EventTarget(); const log = []; const g = () => log.push('g');"
                 "const late = () => log.push('late');"
                 "t.addEventListener('a', () => { log.push('f'); t.removeEventListener('a', g);"
                 " t.addEventListener('a', late); });"
                 "t.addEventListener('a', g);"
                 "t.dispatchEvent(new Event('a')); t.dispatchEvent(new Event('a')); log.join()",
              "f,f,late");
    WH_EXPECT(h, "const t = new EventTarget(); const e = new Event('a'); let inner;"
                 "t.addEventListener('a', () => { inner = err(() => t.dispatchEvent(e)); });"
                 "t.dispatchEvent(e); inner",
              "InvalidStateError(11): Failed to execute 'dispatchEvent' on 'EventTarget': The "
              "event is already being dispatched.");
    /* The same event can be dispatched again afterwards. */
    WH_EXPECT(h, "const t = new EventTarget(); let n = 0; t.addEventListener('a', () => n++);"
                 "const e = new Event('a'); t.dispatchEvent(e); t.dispatchEvent(e); n",
              "2");
    WH_EXPECT(h, "class Door extends EventTarget { open() { this.dispatchEvent(new Event('open')); } }"
                 "const d = new Door(); let ok = false; d.addEventListener('open', () => { ok = true; });"
                 "d.open(); ok",
              "true");
    WH_EXPECT(h, "const t = new EventTarget(); t.addEventListener('a', null); t.dispatchEvent(new Event('a'))",
              "true");
}

static void test_event_target_errors(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "err(() => new EventTarget().addEventListener('a'))",
              "TypeError: Failed to execute 'addEventListener' on 'EventTarget': 2 arguments "
              "required, but only 1 present.");
    WH_EXPECT(h, "err(() => new EventTarget().addEventListener('a', 5))",
              "TypeError: Failed to execute 'addEventListener' on 'EventTarget': The callback "
              "provided as parameter 2 is not an object.");
    WH_EXPECT(h, "err(() => new EventTarget().addEventListener('a', () => {}, { signal: {} }))",
              "TypeError: Failed to execute 'addEventListener' on 'EventTarget': member signal is "
              "not of type 'AbortSignal'.");
    WH_EXPECT(h, "err(() => new EventTarget().dispatchEvent({ type: 'a' }))",
              "TypeError: Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not "
              "of type 'Event'.");
    WH_EXPECT(h, "err(() => EventTarget.prototype.addEventListener.call({}, 'a', () => {}))",
              "TypeError: Failed to execute 'addEventListener' on 'EventTarget': Illegal "
              "invocation");
    /* A listener that throws is reported like an uncaught error; the next one runs. */
    wh_output_reset(h);
    WH_EXPECT(h, "const t = new EventTarget(); let ran = false;"
                 "t.addEventListener('a', () => { throw new TypeError('boom'); });"
                 "t.addEventListener('a', { handleEvent: 5 });"
                 "t.addEventListener('a', () => { ran = true; });"
                 "t.dispatchEvent(new Event('a')) + ',' + ran",
              "true,true");
    const char *out = wh_output(h);
    assert_non_null(strstr(out, "error Uncaught TypeError: boom\n"));
    assert_non_null(strstr(out, "error Uncaught TypeError: The 'handleEvent' property of an event "
                                "listener is not a function."));
}

static void test_abort_controller(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const c = new AbortController(); const s = c.signal;"
                 "[s.aborted, s.reason, s instanceof EventTarget, s instanceof AbortSignal, c.signal === s].join()",
              "false,,true,true,true");
    WH_EXPECT(h, "const c = new AbortController(); const log = [];"
                 "c.signal.addEventListener('abort', (e) => log.push(e.type + e.isTrusted + c.signal.aborted));"
                 "c.signal.onabort = () => log.push('on');"
                 "c.abort(); c.abort();"
                 "const r = c.signal.reason;"
                 "log.join() + '|' + r.name + ',' + r.message + ',' + (r instanceof DOMException)",
              "aborttruetrue,on|AbortError,This operation was aborted,true");
    WH_EXPECT(h, "const c = new AbortController(); c.abort('why'); c.signal.reason", "why");
    WH_EXPECT(h, "const c = new AbortController(); const f = () => {}; c.signal.onabort = f;"
                 "c.signal.onabort === f && (c.signal.onabort = 5, c.signal.onabort === null)",
              "true");
    WH_EXPECT(h, "const c = new AbortController(); c.signal.throwIfAborted();"
                 "c.abort(new RangeError('r')); err(() => c.signal.throwIfAborted())",
              "RangeError: r");
    WH_EXPECT(h, "const s = AbortSignal.abort(); s.aborted + ',' + s.reason.name", "true,AbortError");
    WH_EXPECT(h, "AbortSignal.abort(42).reason", "42");
    WH_EXPECT(h, "err(() => new AbortSignal())",
              "TypeError: Failed to construct 'AbortSignal': Illegal constructor");
    WH_EXPECT(h, "err(() => Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted').get.call(new EventTarget()))",
              "TypeError: Failed to execute 'aborted' on 'AbortSignal': Illegal invocation");
    /* addEventListener's signal option removes the listener on abort. */
    WH_EXPECT(h, "const t = new EventTarget(); const c = new AbortController(); let n = 0;"
                 "t.addEventListener('a', () => n++, { signal: c.signal });"
                 "t.dispatchEvent(new Event('a')); c.abort(); t.dispatchEvent(new Event('a'));"
                 "t.addEventListener('a', () => n++, { signal: c.signal }); t.dispatchEvent(new Event('a')); n",
              "1");
}

static void test_abort_timeout_any(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const s = AbortSignal.timeout(50); globalThis.ts = s; const before = s.aborted;"
                 "const ms = runTimers(); before + ',' + ms + ',' + s.aborted + ',' + s.reason.name + ',' + s.reason.code",
              "false,50,true,TimeoutError,23");
    WH_EXPECT(h, "err(() => AbortSignal.timeout(-1))",
              "TypeError: Failed to execute 'timeout' on 'AbortSignal': Value is outside the "
              "'unsigned long long' value range.");
    WH_EXPECT(h, "err(() => AbortSignal.timeout(NaN))",
              "TypeError: Failed to execute 'timeout' on 'AbortSignal': Value is outside the "
              "'unsigned long long' value range.");
    WH_EXPECT(h, "err(() => AbortSignal.timeout())",
              "TypeError: Failed to execute 'timeout' on 'AbortSignal': 1 argument required, but "
              "only 0 present.");
    WH_EXPECT(h, "AbortSignal.timeout(0).aborted + ',' + runTimers()", "false,0");
    /* any(): already aborted source, later abort, nested any, bad input. */
    WH_EXPECT(h, "const s = AbortSignal.any([new AbortController().signal, AbortSignal.abort('r')]);"
                 "s.aborted + ',' + s.reason",
              "true,r");
    WH_EXPECT(h, "const a = new AbortController(), b = new AbortController();"
                 "const s = AbortSignal.any([a.signal, b.signal]); const t = AbortSignal.any([s]);"
                 "let fired = ''; s.onabort = () => { fired += 's' + t.aborted; }; t.onabort = () => { fired += 't'; };"
                 "b.abort('B'); a.abort('A');"
                 "[s.aborted, s.reason, t.aborted, t.reason, fired].join()",
              "true,B,true,B,struet");
    WH_EXPECT(h, "AbortSignal.any([]).aborted", "false");
    WH_EXPECT(h, "err(() => AbortSignal.any([{}]))",
              "TypeError: Failed to execute 'any' on 'AbortSignal': Failed to convert value to "
              "'AbortSignal'.");
    WH_EXPECT(h, "err(() => AbortSignal.any(5))",
              "TypeError: Failed to execute 'any' on 'AbortSignal': The provided value cannot be "
              "converted to a sequence.");
}

static void test_queue_microtask(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "globalThis.order = []; queueMicrotask(() => order.push('m1'));"
                 "Promise.resolve().then(() => order.push('p')); queueMicrotask(() => order.push('m2'));"
                 "order.push('sync'); true",
              "true");
    WH_EXPECT(h, "order.join()", "sync,m1,p,m2");
    WH_EXPECT(h, "err(() => queueMicrotask(5))",
              "TypeError: Failed to execute 'queueMicrotask' on 'WorkerGlobalScope': The callback "
              "provided as parameter 1 is not a function.");
    WH_EXPECT(h, "err(() => queueMicrotask())",
              "TypeError: Failed to execute 'queueMicrotask' on 'WorkerGlobalScope': 1 argument "
              "required, but only 0 present.");
    /* Replacing Promise does not break it. */
    WH_EXPECT(h, "const P = Promise; let ran = false; globalThis.Promise = null;"
                 "queueMicrotask(() => { ran = true; }); globalThis.Promise = P; globalThis.qm = () => ran; true",
              "true");
    WH_EXPECT(h, "qm()", "true");
    /* An exception is reported through console.error, not swallowed. */
    wh_output_reset(h);
    WH_EXPECT(h, "queueMicrotask(() => { throw new Error('in microtask'); }); 1", "1");
    assert_non_null(strstr(wh_output(h), "error Uncaught Error: in microtask\n    at"));
    assert_int_equal(h->job_errors.len, 0);
}

static void test_performance_navigator(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const a = performance.now(); let x = 0; for (let i = 0; i < 1e5; i++) x += i;"
                 "const b = performance.now(); a >= 0 && b >= a && b < 60000",
              "true");
    WH_EXPECT(h, "Math.abs(performance.timeOrigin + performance.now() - Date.now()) < 1000", "true");
    WH_EXPECT(h, "typeof performance.toJSON().timeOrigin", "number");
    WH_EXPECT(h, "err(() => new Performance())", "TypeError: Illegal constructor");
    WH_EXPECT(h, "navigator.userAgent", "Cloudflare-Workers");
    WH_EXPECT(h, "Object.keys(globalThis).filter((k) => ['performance', 'navigator', 'Event',"
                 " 'EventTarget', 'DOMException', 'queueMicrotask', 'AbortSignal'].includes(k)).length",
              "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dom_exception, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_event, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_event_target, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_event_target_errors, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_abort_controller, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_abort_timeout_any, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_queue_microtask, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_performance_navigator, setup, wh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
