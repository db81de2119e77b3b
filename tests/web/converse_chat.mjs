// converse.js in headless Chromium (Debian's, driven by playwright-core): open the page
// Starling serves, log in through converse's login form, open the chat with PEER from the
// roster, send a message and wait for PEER's answer to appear; save a screenshot.
// JSON lines out for tests/interop/test_web_client.py.
// Environment: URL (the page), JID, PASSWORD, PEER, SCREENSHOT (a .png path).
import { chromium } from "playwright-core";

const say = (event, data = {}) => console.log(JSON.stringify({ event, ...data }));
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         // The server's first-start certificate is self-signed.
         "--ignore-certificate-errors"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
page.on("console", (msg) => { if (msg.type() === "error") say("console", { text: msg.text() }); });
page.on("response", (response) => { if (response.status() >= 400) say("http", { status: response.status(), url: response.url() }); });
const peer = env("PEER");
try {
  await page.goto(env("URL"));
  await page.locator('input[name="jid"]').fill(env("JID"));
  await page.locator('input[name="password"]').fill(env("PASSWORD"));
  await page.locator('input[name="password"]').press("Enter");
  const contact = page.locator(`.open-chat`, { hasText: peer.split("@")[0] }).first();
  await contact.waitFor({ timeout: 20000 });
  say("online");
  await contact.click();
  const textarea = page.locator("textarea.chat-textarea").first();
  await textarea.waitFor({ timeout: 10000 });
  await textarea.fill("hello from converse");
  await textarea.press("Enter");
  say("sent");
  await page.locator(".chat-msg__text", { hasText: "hello converse" }).first().waitFor({ timeout: 20000 });
  say("reply shown");
  await page.screenshot({ path: env("SCREENSHOT") });
  say("screenshot", { path: env("SCREENSHOT") });
} catch (err) {
  await page.screenshot({ path: env("SCREENSHOT") }).catch(() => {});
  say("failed", { error: String(err) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
