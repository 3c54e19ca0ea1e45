// fbcomet's chat bar: the 2008 chat of home.php, speaking the real
// protocol to the emulator on the page's own origin. It long-polls the
// channel (/x/ANY/true/p_UID=SEQ), strips `for (;;);`, follows refresh and
// continue, retries with backoff as fbcomet's receiver does, and posts
// send.php, typ.php, presence/update.php and history.php with the page's
// post_form_id. Text from the network only ever goes into the page as
// text (textContent), never as markup.
(function () {
  "use strict";

  var errors = (window.__fbcometErrors = []);
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled: " + String(e.reason)); });

  var config = JSON.parse(document.getElementById("fbcomet-config").textContent);
  var me = config.uid;
  var names = {};
  names[me] = config.name;
  var buddies = {}; // uid -> {online, idle}
  var windows = {}; // uid -> chat window state
  var delivered = new Set(); // "FROM:MSGID" of messages shown
  var LOGGED_OUT = [1357001, 1357003];

  // ---- the DOM ------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var bar = el("div"); bar.id = "chat_bar";
  var chatButton = el("div", "bar_button", "Chat"); chatButton.id = "chat_button";
  var wireButton = el("div", "bar_button", "Wire"); wireButton.id = "wire_button";
  bar.appendChild(chatButton); bar.appendChild(wireButton);
  var buddyPanel = el("div", "panel"); buddyPanel.id = "buddy_list";
  var buddyTitle = el("div", "panel_title", "Friends online");
  var buddyItems = el("ul");
  buddyPanel.appendChild(buddyTitle); buddyPanel.appendChild(buddyItems);
  var status = el("div"); status.id = "status_line";
  var wire = el("div"); wire.id = "wire";
  var wireTitle = el("div", "panel_title", "Wire: each request and answer of this page");
  var wireList = el("ol");
  wire.appendChild(wireTitle); wire.appendChild(wireList);
  document.body.appendChild(wire); document.body.appendChild(buddyPanel);
  document.body.appendChild(bar); document.body.appendChild(status);

  chatButton.addEventListener("click", function () { buddyPanel.classList.toggle("open"); });
  buddyTitle.addEventListener("click", function () { buddyPanel.classList.remove("open"); });
  wireButton.addEventListener("click", function () { wire.classList.toggle("open"); });

  function setStatus(text, bad) {
    status.textContent = text;
    status.className = bad ? "bad" : "";
  }

  // ---- the wire -------------------------------------------------------------

  var WIRE_KEPT = 200;

  function pretty(text) {
    var json = decode(text);
    return json === null ? text : JSON.stringify(json, null, 1);
  }

  function wireEntry(method, url) {
    var li = el("li");
    var line = el("div", "line", method + " " + url + " ...");
    li.appendChild(line);
    wireList.insertBefore(li, wireList.firstChild);
    while (wireList.children.length > WIRE_KEPT) wireList.removeChild(wireList.lastChild);
    var started = Date.now();
    return function (outcome, body) {
      var ms = Date.now() - started;
      line.textContent = method + " " + url + " \u2192 " + outcome + " (" + (ms >= 1000 ? (ms / 1000).toFixed(1) + " s" : ms + " ms") + ")";
      if (ms >= 1000) li.classList.add("held");
      if (!/^2/.test(String(outcome))) li.classList.add("failed");
      if (body) li.appendChild(el("pre", "", pretty(body).slice(0, 4000)));
    };
  }

  // The JSON after the `for (;;);` prefix (and anything else before `{`).
  function decode(text) {
    var at = text.indexOf("{");
    if (at < 0) return null;
    try { return JSON.parse(text.slice(at)); } catch (e) { return null; }
  }

  function request(method, url, fields) {
    var done = wireEntry(method, url);
    var init = { method: method, credentials: "same-origin", cache: "no-store" };
    if (fields) {
      var form = new URLSearchParams();
      Object.keys(fields).forEach(function (k) { form.append(k, fields[k]); });
      form.append("post_form_id", config.post_form_id);
      init.body = form;
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        done(response.status, text);
        return { status: response.status, text: text, json: decode(text) };
      });
    }, function (err) {
      done("failed: " + err.message, "");
      throw err;
    });
  }

  // A post's payload, or an Error with the server's code.
  function post(path, fields) {
    return request("POST", path, fields).then(function (r) {
      if (r.status !== 200 || !r.json) throw new Error("HTTP " + r.status + " from " + path);
      if (r.json.error) {
        var err = new Error(r.json.errorSummary || ("error " + r.json.error));
        err.code = r.json.error;
        throw err;
      }
      return r.json.payload;
    });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // ---- buddies --------------------------------------------------------------

  function nameOf(uid) { return names[uid] || String(uid); }

  function renderBuddies() {
    while (buddyItems.firstChild) buddyItems.removeChild(buddyItems.firstChild);
    var uids = Object.keys(buddies).map(Number).sort(function (a, b) {
      var oa = buddies[a].online ? 0 : 1, ob = buddies[b].online ? 0 : 1;
      return oa - ob || nameOf(a).localeCompare(nameOf(b));
    });
    var online = 0;
    uids.forEach(function (uid) {
      var b = buddies[uid];
      if (b.online) online++;
      var li = el("li", b.online ? (b.idle ? "idle" : "online") : "offline");
      li.dataset.uid = String(uid);
      li.appendChild(el("span", "dot"));
      li.appendChild(el("span", "name", nameOf(uid)));
      li.addEventListener("click", function () { openWindow(uid, true); });
      buddyItems.appendChild(li);
    });
    if (!uids.length) buddyItems.appendChild(el("li", "empty", "No friends yet."));
    chatButton.textContent = "Chat (" + online + ")";
    Object.keys(windows).forEach(function (uid) { renderTab(windows[uid]); });
  }

  function refreshBuddies() {
    return post("/ajax/presence/update.php", { buddy_list: "1", notifications: "0", force_render: "true", user: me })
      .then(function (payload) {
        var list = (payload && payload.buddy_list) || {};
        var infos = list.userInfos || {};
        Object.keys(infos).forEach(function (uid) { if (infos[uid].name) names[uid] = infos[uid].name; });
        var now = list.nowAvailableList || {};
        var next = {};
        Object.keys(infos).forEach(function (uid) {
          if (Number(uid) === me) return;
          next[uid] = { online: uid in now, idle: uid in now && !!now[uid].i };
        });
        Object.keys(buddies).forEach(function (uid) { if (!(uid in next)) next[uid] = { online: false, idle: false }; });
        buddies = next;
        renderBuddies();
      })
      .catch(function (err) { onFailure(err); });
  }

  // ---- chat windows ---------------------------------------------------------

  var TYPING_PAUSE = 3000;

  function openWindow(uid, focus) {
    var w = windows[uid];
    if (!w) {
      w = windows[uid] = { uid: uid, unread: 0, typing: false, myTyping: false, pauseTimer: null, loaded: false };
      w.tab = el("div", "bar_button tab");
      w.tab.dataset.uid = String(uid);
      w.tab.addEventListener("click", function () { toggle(w); });
      bar.insertBefore(w.tab, wireButton);
      w.panel = el("div", "panel chat_window");
      w.panel.dataset.uid = String(uid);
      var title = el("div", "panel_title");
      w.titleText = el("span", "", nameOf(uid));
      var close = el("span", "close", "\u00d7");
      close.addEventListener("click", function (e) { e.stopPropagation(); closeWindow(w); });
      title.appendChild(w.titleText); title.appendChild(close);
      title.addEventListener("click", function () { toggle(w); });
      w.messages = el("div", "messages");
      w.typingNotice = el("div", "typing_notice");
      w.input = el("textarea", "chat_input");
      w.input.setAttribute("placeholder", "Write to " + nameOf(uid));
      w.input.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendFrom(w); }
      });
      w.input.addEventListener("input", function () { typed(w); });
      w.panel.appendChild(title); w.panel.appendChild(w.messages);
      w.panel.appendChild(w.typingNotice); w.panel.appendChild(w.input);
      document.body.appendChild(w.panel);
      loadHistory(w);
      remember();
    }
    if (focus) {
      w.panel.classList.add("open");
      w.unread = 0;
      w.input.focus();
    }
    place();
    renderTab(w);
    return w;
  }

  function toggle(w) {
    w.panel.classList.toggle("open");
    if (w.panel.classList.contains("open")) { w.unread = 0; w.input.focus(); }
    renderTab(w);
    place();
  }

  function closeWindow(w) {
    stopTyping(w);
    w.panel.remove(); w.tab.remove();
    delete windows[w.uid];
    remember();
  }

  // Windows sit side by side above their tabs, right to left.
  function place() {
    var right = 250;
    Object.keys(windows).forEach(function (uid) {
      var w = windows[uid];
      w.panel.style.right = right + "px";
      if (w.panel.classList.contains("open")) right += 240;
    });
  }

  function renderTab(w) {
    var b = buddies[w.uid];
    var state = !b ? "" : b.online ? (b.idle ? " (idle)" : "") : " (offline)";
    w.input.setAttribute("placeholder", "Write to " + nameOf(w.uid));
    w.tab.textContent = nameOf(w.uid) + state;
    w.titleText.textContent = nameOf(w.uid) + state;
    if (w.unread) {
      var count = el("span", "count", String(w.unread));
      w.tab.appendChild(count);
    }
    w.tab.dataset.unread = String(w.unread);
  }

  function remember() {
    try { sessionStorage.setItem("fbcomet-windows-" + me, JSON.stringify(Object.keys(windows))); } catch (e) { /* private mode */ }
  }

  function loadHistory(w) {
    post("/ajax/chat/history.php", { id: w.uid }).then(function (payload) {
      var events = (payload && payload.history) || [];
      events.forEach(function (event) { if (event.type === "msg") showMessage(event, false); });
      w.loaded = true;
    }).catch(function (err) { onFailure(err); });
  }

  function addLine(w, from, text, mine) {
    var line = el("div", "message" + (mine ? " mine" : ""));
    line.appendChild(el("span", "who", nameOf(from) + ": "));
    line.appendChild(el("span", "text", text));
    w.messages.appendChild(line);
    w.messages.scrollTop = w.messages.scrollHeight;
    return line;
  }

  // A msg event (channel or history): shown once.
  function showMessage(event, fresh) {
    var msg = event.msg || {};
    var key = event.from + ":" + msg.msgID;
    if (msg.msgID !== undefined && delivered.has(key)) return;
    delivered.add(key);
    if (event.from_name) names[event.from] = event.from_name;
    if (event.to_name) names[event.to] = event.to_name;
    var partner = event.from === me ? event.to : event.from;
    var w = openWindow(partner, false);
    addLine(w, event.from, msg.text === undefined ? "" : String(msg.text), event.from === me);
    if (event.from !== me && fresh && !(buddies[event.from] && buddies[event.from].online)) {
      // Someone new writing: ask who is online now rather than in 5 s.
      refreshBuddies();
    }
    if (event.from !== me) {
      setTyping(w, false);
      if (fresh && (!w.panel.classList.contains("open") || document.hidden)) {
        w.unread++;
        renderTab(w);
      }
    }
  }

  function setTyping(w, typing) {
    w.typing = typing;
    w.typingNotice.textContent = typing ? nameOf(w.uid) + " is typing\u2026" : "";
    w.panel.dataset.typing = typing ? "1" : "0";
  }

  function typed(w) {
    if (!w.input.value) { stopTyping(w); return; }
    if (!w.myTyping) {
      w.myTyping = true;
      post("/ajax/chat/typ.php", { to: w.uid, typ: "1" }).catch(onFailure);
    }
    clearTimeout(w.pauseTimer);
    w.pauseTimer = setTimeout(function () { stopTyping(w); }, TYPING_PAUSE);
  }

  function stopTyping(w) {
    clearTimeout(w.pauseTimer);
    if (w.myTyping) {
      w.myTyping = false;
      post("/ajax/chat/typ.php", { to: w.uid, typ: "0" }).catch(onFailure);
    }
  }

  function sendFrom(w) {
    var text = w.input.value.replace(/\s+$/, "");
    if (!text) return;
    w.input.value = "";
    w.myTyping = false;
    clearTimeout(w.pauseTimer);
    var msgId = String(Math.floor(Math.random() * 4294967295));
    delivered.add(me + ":" + msgId);
    var line = addLine(w, me, text, true);
    // Retried with the same msg_id, so the service takes it once.
    var attempt = function (n) {
      return post("/ajax/chat/send.php", { msg_text: text, msg_id: msgId, client_time: String(Date.now()), to: w.uid, popped_out: "false", num_tabs: "1" })
        .catch(function (err) {
          if (err.code || n >= 3) throw err;
          return sleep(500 * n).then(function () { return attempt(n + 1); });
        });
    };
    attempt(1).catch(function (err) {
      line.appendChild(el("span", "failed", " (not sent: " + err.message + ")"));
      onFailure(err);
    });
  }

  // ---- the channel ----------------------------------------------------------

  var seq = -1;
  var failures = 0;
  var stopped = false;

  function onFailure(err) {
    if (err && LOGGED_OUT.indexOf(err.code) >= 0) {
      stopped = true;
      setStatus("You are logged out. Log in again to chat.", true);
    }
  }

  function handle(frame) {
    switch (frame.t) {
      case "msg":
        var events = frame.ms || [];
        events.forEach(function (event) {
          if (event.type === "msg") showMessage(event, true);
          else if (event.type === "typ" && event.from !== me) {
            if (event.from_name) names[event.from] = event.from_name;
            var w = windows[event.from] || (event.st ? openWindow(event.from, false) : null);
            if (w) setTyping(w, !!event.st);
          }
        });
        seq = typeof frame.seq === "number" ? frame.seq : seq + events.length;
        return Promise.resolve();
      case "refresh":
        if (typeof frame.seq === "number") { seq = frame.seq; return Promise.resolve(); }
        return post("/ajax/presence/reconnect.php", { reason: "3" }).then(function (p) {
          if (p && typeof p.seq === "number") seq = p.seq;
        });
      default:
        return Promise.resolve(); // continue, heartbeat: poll again
    }
  }

  function poll() {
    if (stopped) return;
    var buster = Math.floor(Math.random() * 1e9);
    request("GET", "/x/" + buster + "/true/p_" + me + "=" + seq)
      .then(function (r) {
        if (r.status !== 200) throw new Error("HTTP " + r.status);
        if (!r.json) throw new Error("an answer that does not decode");
        if (r.json.error) {
          var err = new Error(r.json.errorSummary || "error " + r.json.error);
          err.code = r.json.error;
          throw err;
        }
        return handle(r.json);
      })
      .then(function () {
        failures = 0;
        setStatus("");
        poll();
      }, function (err) {
        onFailure(err);
        if (stopped) return;
        failures++;
        // Full jitter, 0.5 s doubling to 30 s, as the receiver does.
        var cap = Math.min(30000, 500 * Math.pow(2, Math.min(failures - 1, 6)));
        var wait = Math.random() * cap;
        setStatus("Reconnecting\u2026 (" + err.message + ")", failures > 3);
        sleep(wait).then(poll);
      });
  }

  // ---- start ----------------------------------------------------------------

  try {
    var open = JSON.parse(sessionStorage.getItem("fbcomet-windows-" + me) || "[]");
    open.forEach(function (uid) { openWindow(Number(uid), true); });
  } catch (e) { /* nothing remembered */ }
  refreshBuddies();
  setInterval(function () { if (!stopped) refreshBuddies(); }, config.presence_ms || 5000);
  poll();
})();
