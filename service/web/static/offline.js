// Registers the service worker (sw.js) and shows what it reports: the "offline" banner on a page it answered from
// its cache, the forms it keeps until the connection returns, the task pages it keeps for use offline. When the
// connection returns it asks the worker to send the kept forms, then shows where the last one led.
(function () {
  "use strict";
  var RETRY_MS = 5000;
  if (!("serviceWorker" in navigator)) {
    return;
  }
  var show = function (id, text) {
    var element = document.getElementById(id);
    if (element) {
      element.hidden = text === null;
    }
    if (id === "offline-queued" && text !== null) {
      document.getElementById("offline-count").textContent = text;
    }
  };
  var ask = function (message) {
    navigator.serviceWorker.ready.then(function (registration) {
      (navigator.serviceWorker.controller || registration.active).postMessage(message);
    });
  };
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "synced") {
      show("offline-queued", data.left ? String(data.left) : null);
      if (data.sent && data.go) {
        window.location.assign(data.go);
      } else if (data.left && navigator.onLine) {  // the connection is said to be back, yet did not carry them
        window.setTimeout(function () { ask({ type: "sync" }); }, RETRY_MS);
      }
    } else if (data.type === "kept" && data.count) {
      show("offline-kept", "");
    }
  });
  navigator.serviceWorker.register("/sw.js", { scope: "/" });
  var offline = document.body.dataset.offline === "kept" || !navigator.onLine;
  show("offline-banner", offline ? "" : null);
  window.addEventListener("offline", function () { show("offline-banner", ""); });
  window.addEventListener("online", function () { ask({ type: "sync" }); });
  ask({ type: "sync" });
  var rows = document.querySelectorAll("#rows a[href^='/tasks/']");
  if (rows.length && !offline) {
    ask({ type: "keep", urls: Array.prototype.map.call(rows, function (link) { return link.getAttribute("href"); }) });
  }
})();
