using Workerd = import "/workerd/workerd.capnp";

# Object storage on disk: the "do-storage" directory; bench/run points it at a fresh
# temporary folder with --directory-path do-storage=DIR.
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    (name = "do-storage", disk = (path = "/tmp/durable-bench-do-storage", writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8080", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "Counter", uniqueKey = "bench-counter", enableSql = true) ],
  durableObjectStorage = (localDisk = "do-storage"),
  bindings = [ (name = "COUNTER", durableObjectNamespace = "Counter") ],
);
