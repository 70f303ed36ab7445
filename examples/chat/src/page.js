// The page the Worker serves at "/": pick a name and a room, then talk.
// Plain HTML and script, no build step.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>durable chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em; }
  #log { border: 1px solid #ccc; height: 22em; overflow-y: auto; padding: .5em; margin: .5em 0; }
  #log p { margin: .2em 0; }
  .note { color: #777; font-style: italic; }
  form { display: flex; gap: .5em; }
  #text { flex: 1; }
  #users { color: #555; }
</style>
</head>
<body>
<h1>durable chat</h1>
<form id="join">
  <input id="user" placeholder="your name" maxlength="32" required pattern="[A-Za-z0-9_.\\-]+">
  <input id="room" placeholder="room" maxlength="64" value="lobby" required pattern="[A-Za-z0-9_.\\-]+">
  <button>Join</button>
</form>
<div id="users"></div>
<div id="log"></div>
<form id="say">
  <input id="text" placeholder="say something" maxlength="2000" autocomplete="off" disabled>
  <button id="send" disabled>Send</button>
</form>
<script>
const $ = (id) => document.getElementById(id);
const log = $("log");
let ws = null, pinger = null;

function line(text, note) {
  const p = document.createElement("p");
  if (note) p.className = "note";
  p.textContent = text;
  log.append(p);
  log.scrollTop = log.scrollHeight;
}

function said(m) { line(new Date(m.at).toLocaleTimeString() + " " + m.user + ": " + m.text); }

$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  if (ws) ws.close(1000, "leaving");
  const user = $("user").value, room = $("room").value;
  const url = new URL("/room/" + encodeURIComponent(room), location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("user", user);
  const sock = ws = new WebSocket(url);
  log.replaceChildren();
  line("connecting to " + room + " as " + user + "...", true);
  sock.onopen = () => {
    $("text").disabled = $("send").disabled = false;
    $("text").focus();
    // The room answers "ping" with "pong" without waking up.
    clearInterval(pinger);
    pinger = setInterval(() => sock.readyState === WebSocket.OPEN && sock.send("ping"), 30000);
  };
  sock.onmessage = (ev) => {
    if (ev.data === "pong") return;
    const m = JSON.parse(ev.data);
    if (m.type === "history") m.messages.forEach(said);
    else if (m.type === "message") said(m);
    else if (m.type === "join" || m.type === "leave") {
      line(m.user + (m.type === "join" ? " joined" : " left"), true);
      $("users").textContent = "here: " + m.users.join(", ");
    } else if (m.type === "error") line("error: " + m.error, true);
  };
  sock.onclose = (ev) => {
    if (sock !== ws) return;
    $("text").disabled = $("send").disabled = true;
    line("disconnected (" + ev.code + ")", true);
  };
});

$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(text);
  $("text").value = "";
});
</script>
</body>
</html>
`;
