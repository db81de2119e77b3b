// One chat over XMPP-over-WebSocket with @xmpp/client (RFC 7395), at the client's defaults
// but for the address: log in (SASL SCRAM, as the client picks), bind, send presence, send a
// message to PEER, wait for PEER's answer, and log out with a closing <close/>. Each step is
// printed as a JSON line for the test that runs this (tests/interop/test_websocket.py).
// Environment: SERVICE (ws:// or wss:// URL), DOMAIN, USERNAME, PASSWORD, PEER (bare JID).
import { WebSocket } from "ws";

// @xmpp/client 0.14 uses the WebSocket global of Node 22; older Node gets the "ws" package's.
globalThis.WebSocket ??= WebSocket;
const { client, xml } = await import("@xmpp/client");

const say = (event, data = {}) => console.log(JSON.stringify({ event, ...data }));
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const xmpp = client({
  service: env("SERVICE"),
  domain: env("DOMAIN"),
  username: env("USERNAME"),
  password: env("PASSWORD"),
  resource: "websocket",
});
const peer = env("PEER");
const deadline = setTimeout(() => {
  say("timeout");
  process.exit(2);
}, 20000);

xmpp.on("error", (err) => say("error", { error: String(err) }));
xmpp.on("stanza", (stanza) => {
  if (!stanza.is("message") || !stanza.getChild("body")) return;
  say("message", { from: stanza.attrs.from, body: stanza.getChildText("body") });
  if (stanza.attrs.from.startsWith(peer + "/")) {
    xmpp.stop().then(() => {
      say("stopped");
      clearTimeout(deadline);
    });
  }
});
xmpp.on("online", async (address) => {
  say("online", { jid: address.toString() });
  await xmpp.send(xml("presence"));
  await xmpp.send(xml("message", { type: "chat", to: peer }, xml("body", {}, "hello over websocket")));
  say("sent");
});
try {
  await xmpp.start();
} catch (err) {
  say("failed", { error: String(err) });
  process.exit(1);
}
