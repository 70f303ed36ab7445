// Host objects are never structured-cloned, not even as plain objects (spec SER-3,
// ID-12, RPC-10): the serializer (src/js/clone.c) refuses any object whose
// prototype chain carries Symbol.for("durable.noClone").
(() => {
  "use strict";
  const mark = Symbol.for("durable.noClone");
  for (const name of ["Request", "Response", "Headers", "ReadableStream", "WritableStream",
    "TransformStream", "DurableObjectId", "DurableObjectStub", "DurableObjectNamespace",
    "DurableObjectState", "DurableObjectStorage", "DurableObjectTransaction", "SqlStorage",
    "SqlStorageCursor", "WebSocket", "AbortSignal", "AbortController", "EventTarget",
    "TextEncoder", "TextDecoder", "ExecutionContext", "FormData"]) {
    const C = globalThis[name];
    if (typeof C === "function" && C.prototype)
      Object.defineProperty(C.prototype, mark, { value: true });
  }
})();
