// One chat over BOSH (XEP-0124, XEP-0206) with StanzaJS, at the client's defaults but for the
// address and the transport: log in (SASL as the client picks), bind, send presence, send a
// message to PEER, wait for PEER's answer, and log out (a terminate <body/>). Each step is
// printed as a JSON line for tests/interop/test_bosh.py.
// Environment: SERVICE (http:// or https:// URL of /http-bind), JID, PASSWORD, PEER.
import * as XMPP from "stanza";

const say = (event, data = {}) => console.log(JSON.stringify({ event, ...data }));
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const peer = env("PEER");
const client = XMPP.createClient({
  jid: env("JID"),
  password: env("PASSWORD"),
  resource: "bosh",
  transports: { websocket: false, bosh: env("SERVICE") },
});
const deadline = setTimeout(() => {
  say("timeout");
  process.exit(2);
}, 30000);

client.on("session:started", async () => {
  say("online", { jid: client.jid });
  client.sendPresence();
  client.sendMessage({ to: peer, type: "chat", body: "hello over bosh" });
  say("sent");
});
client.on("message", (msg) => {
  if (!msg.body) return;
  say("message", { from: msg.from, body: msg.body });
  if (msg.from.startsWith(peer + "/")) client.disconnect();
});
client.on("disconnected", () => {
  say("stopped");
  clearTimeout(deadline);
});
client.on("auth:failed", () => {
  say("failed", { error: "auth failed" });
  process.exit(1);
});
client.on("stream:error", (err) => say("error", { error: JSON.stringify(err) }));
client.connect();
