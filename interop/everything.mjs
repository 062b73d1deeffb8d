// Starts the pinned @modelcontextprotocol/server-everything bound to 127.0.0.1 only.
//
//     PORT=3001 node interop/everything.mjs streamableHttp|sse
//
// The server (dist/transports/*.js) calls `app.listen(PORT)` with no host, which listens
// on every interface, and it has no HOST setting. Its tools include `get-env`, which
// returns the process environment, so it must not be reachable from the network: this
// wrapper makes every `listen(port)` without a host listen on the loopback address, then
// runs the server's own entry point unchanged (argv is passed through).
import net from "node:net";

const LOOPBACK = "127.0.0.1";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    if (first.path === undefined && first.host === undefined) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (typeof args[1] !== "string" && (typeof first === "number" || /^\d+$/.test(String(first)))) {
    args.splice(1, 0, LOOPBACK);
  }
  return listen.apply(this, args);
};

await import("@modelcontextprotocol/server-everything/dist/index.js");
