/* Bidline DNI: shows each visitor a tracking number of their own. No dependencies, no
   eval; talks only to the host it was loaded from. Size-checked: <= 2 KB gzipped. */
(function (w, d) {
  var script = d.currentScript || d.querySelector("script[data-campaign]");
  if (!script || !w.fetch || !w.MutationObserver) return;
  var api = new URL(script.src).origin + "/dni/v1/lease";
  var campaign = script.getAttribute("data-campaign");
  var store = "bidline_dni_" + campaign;
  var lease, from, shown = [], timer, renewal, observer;

  function read() {
    try {
      return JSON.parse(localStorage.getItem(store) || "{}");
    } catch (e) {
      var m = d.cookie.match("(?:^|; )" + store + "=([^;]*)");
      try { return m ? JSON.parse(decodeURIComponent(m[1])) : {}; } catch (e2) { return {}; }
    }
  }
  function write(v) {
    v = JSON.stringify(v);
    try {
      localStorage.setItem(store, v);
    } catch (e) {
      d.cookie = store + "=" + encodeURIComponent(v) + ";path=/;max-age=31536000;samesite=lax";
    }
  }
  function post(path, body) {
    // text/plain keeps the request simple: no CORS preflight before the number shows.
    // The visitor's cookie goes along: it keeps their id when this page's storage cannot.
    return fetch(api + path, { method: "POST", body: JSON.stringify(body), credentials: "include" })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  // The numbers in any common US format: optional +1 / 1, optional parentheses, spaces,
  // dots or dashes between the groups, and no digit on either side.
  function pattern(numbers) {
    var s = "[\\s.-]?";
    return new RegExp("(?<!\\d)(?:\\+?1" + s + ")?(?:" + numbers.map(function (n) {
      n = n.replace(/\D/g, "").slice(-10);
      return "\\(?" + n.slice(0, 3) + "\\)?" + s + n.slice(3, 6) + s + n.slice(6);
    }).join("|") + ")(?!\\d)", "g");
  }
  // The match with its last ten digits replaced, so the page's own format is kept.
  function swap(text) {
    return text.replace(from, function (m) {
      var to = lease.number.replace(/\D/g, ""), i = to.length, out = "";
      for (var k = m.length - 1; k >= 0; k--) {
        var c = m[k];
        out = (/\d/.test(c) && i > to.length - 10 ? to[--i] : c) + out;
      }
      return out;
    });
  }
  function national(n) {
    n = n.slice(-10);
    return "(" + n.slice(0, 3) + ") " + n.slice(3, 6) + "-" + n.slice(6);
  }
  function apply() {
    timer = 0;
    var walk = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT), node, v;
    while ((node = walk.nextNode())) {
      var tag = node.parentNode.nodeName;
      if (tag == "SCRIPT" || tag == "STYLE") continue;
      v = swap(node.nodeValue);
      if (v != node.nodeValue) node.nodeValue = v;
    }
    d.querySelectorAll('a[href^="tel:"]').forEach(function (a) {
      v = swap(a.getAttribute("href"));
      if (v != a.getAttribute("href")) a.setAttribute("href", v);
    });
    d.querySelectorAll("[data-bidline-number]").forEach(function (e) {
      v = e.getAttribute("data-bidline-number") == "e164" ? lease.number : national(lease.number);
      if (e.textContent != v) e.textContent = v;
    });
  }
  function remember(n) {
    if (shown.indexOf(n) < 0) shown.push(n);
  }
  function show(l) {
    if (!l || !l.number) return;
    lease = l;
    // The default number, and any number shown before (a lease that ended and was
    // replaced by another).
    remember(l.default_number || l.number);
    from = pattern(shown);
    apply();
    remember(l.number);
    // Renewed while seen, half way through the lease (and when the tab is shown again).
    clearTimeout(renewal);
    renewal = setTimeout(renew, Math.max(15000, (Date.parse(l.expires_at) - Date.now()) / 2));
    if (!observer) {
      // Content added later is swapped too, at most every 100 ms.
      observer = new MutationObserver(function () { timer = timer || setTimeout(apply, 100); });
      observer.observe(d.body, { childList: true, subtree: true, characterData: true });
    }
  }

  var saved = read(), url = new URL(location.href), params = {}, any = false;
  url.searchParams.forEach(function (v, k) { params[k] = v; any = true; });
  // A visit from an ad or a link replaces what the visitor came with before.
  if (any || !saved.landing) {
    saved.params = params;
    saved.landing = location.href;
    saved.referrer = d.referrer;
  }

  function start() {
    post("", {
      campaign: campaign, visitor_id: saved.visitor_id || null, url: saved.landing,
      referrer: saved.referrer, params: saved.params, page: location.href
    }).then(function (l) {
      if (!l) return;
      saved.visitor_id = l.visitor_id;
      write(saved);
      show(l);
    }).catch(function () {});
  }
  function renew() {
    if (!lease || d.visibilityState != "visible") return;
    // Shown the default number: try for a number of the visitor's own again.
    if (!lease.lease_id) return start();
    post("/" + lease.lease_id + "/renew", {}).then(function (l) { l ? show(l) : start(); })
      .catch(function () {});
  }

  write(saved);
  start();
  d.addEventListener("visibilitychange", renew);
  w.addEventListener("pagehide", function () {
    if (lease && lease.lease_id) navigator.sendBeacon(api + "/" + lease.lease_id + "/release");
  });
  w.addEventListener("pageshow", function (e) { if (e.persisted) start(); });
})(window, document);
