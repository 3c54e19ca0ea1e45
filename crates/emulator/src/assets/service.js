// The service page: /fbcomet/state.json every second, as tables. Text
// from the service goes in as text only.
(function () {
  "use strict";
  var errors = (window.__fbcometErrors = []);
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });

  function row(cells, header) {
    var tr = document.createElement("tr");
    cells.forEach(function (c, i) {
      var td = document.createElement(header && i === 0 ? "th" : "td");
      td.textContent = c === null || c === undefined ? "" : String(c);
      if (i === cells.length - 1) td.className = "path";
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(id, rows) {
    var table = document.getElementById(id);
    var body = table.tBodies[0] || table;
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function update() {
    fetch("/fbcomet/state.json", { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (s) {
      document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString();
      fill("stats", Object.keys(s.stats).map(function (k) { return row([k, s.stats[k]], true); }));
      fill("users", s.users.map(function (u) {
        return row([u.uid, u.name, u.online ? (u.idle ? "idle" : "online") : "offline", u.logins, u.held, u.next_seq]);
      }));
      fill("doors", Object.keys(s.doors).map(function (d) { return row([d, s.doors[d]]); }));
      fill("pages", s.pages.map(function (p) { return row([p.id, p.name, p.webhook]); }));
      fill("recent", s.recent.map(function (e) {
        return row([new Date(e.time).toLocaleTimeString(), e.door, e.method + " " + e.host + e.path]);
      }));
    }).catch(function (err) {
      document.getElementById("updated").textContent = "Not updated: " + err.message;
    });
  }
  update();
  setInterval(update, 1000);
})();
