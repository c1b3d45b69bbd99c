// The workspace's service worker (served at /sw.js: its scope is the whole site).
//
// Online, pages come from the server as ever; "My work" and the task pages are kept in the "pages" cache as they
// are opened, and the task pages "My work" lists are fetched into it when offline.js asks ("keep"). With no
// connection those pages come from the cache, marked so that offline.js shows the "offline" banner. A completion
// or check-in/out form sent with no connection is kept in IndexedDB and sent when offline.js says the page is
// back ("sync"): in order, each once; the task form's idempotency key makes a completion sent twice count once.
// Signing out, or the sign-in page, empties the pages cache and the queue: nobody reads another person's pages.
"use strict";

var ASSETS = "assets-1";
var PAGES = "pages";
var PRECACHE = ["/assets/workspace.css", "/assets/offline.js", "/assets/field.js", "/assets/vendor/htmx.min.js"];
var KEPT = /^\/(tasks\/[^/]+)?$/;
var QUEUED = /^\/tasks\/[^/]+\/(complete|check-in|check-out)$/;
var syncing = null;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(ASSETS).then(function (cache) {
      return Promise.all(PRECACHE.map(function (path) { return cache.add(path).catch(function () { return null; }); }));
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name !== ASSETS && name !== PAGES;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(forget().then(function () { return fetch(request); }));
  } else if (request.method === "POST" && QUEUED.test(url.pathname)) {
    event.respondWith(sendOrKeep(request));
  } else if (request.method === "GET" && url.pathname.indexOf("/assets/") === 0) {
    event.respondWith(asset(request));
  } else if (request.method === "GET" && request.mode === "navigate") {
    event.respondWith(page(request));
  }
});

self.addEventListener("message", function (event) {
  var source = event.source;
  var data = event.data || {};
  if (data.type === "sync") {
    event.waitUntil(sync().then(function (report) { source.postMessage(report); }));
  } else if (data.type === "keep") {
    event.waitUntil(keep(data.urls || []).then(function (count) {
      source.postMessage({ type: "kept", count: count });
    }));
  }
});

// Static assets: the cached copy at once, refreshed from the server behind it.
function asset(request) {
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) {
          cache.put(request, response.clone());
        }
        return response;
      });
      if (hit) {
        fresh.catch(function () { return null; });
        return hit;
      }
      return fresh;
    });
  });
}

// A page: the server's answer (kept when it is one of the person's task pages), else the kept copy, marked.
function page(request) {
  return fetch(request).then(function (response) {
    var path = new URL(response.url).pathname;
    if (path === "/login") {
      return forget().then(function () { return response; });
    }
    if (response.ok && KEPT.test(path) && path === new URL(request.url).pathname) {
      var copy = response.clone();
      return caches.open(PAGES).then(function (cache) { return cache.put(request.url, copy); }).then(function () {
        return response;
      });
    }
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url).then(function (hit) {
        return hit || cache.match(request.url, { ignoreSearch: true });
      });
    }).then(function (hit) { return hit ? marked(hit) : Response.error(); });
  });
}

// The kept copy of a page, its body marked so that offline.js shows the "offline" banner.
function marked(response) {
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    return new Response(html.replace("<body>", '<body data-offline="kept">'), { status: 200, headers: headers });
  });
}

// Fetch the pages "My work" lists into the cache (those of this site's task pages only).
function keep(urls) {
  var wanted = urls.map(function (href) { return new URL(href, self.location.origin); }).filter(function (url) {
    return url.origin === self.location.origin && KEPT.test(url.pathname);
  });
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(wanted.map(function (url) {
      return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) {
          return cache.put(url.href, response).then(function () { return 1; });
        }
        return 0;
      }).catch(function () { return 0; });
    }));
  }).then(function (kept) { return kept.reduce(function (a, b) { return a + b; }, 0); });
}

// Send the form; with no connection keep it for later and go back to the page it was sent from.
function sendOrKeep(request) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.text().then(function (body) {
      var back = request.referrer || "/";
      var form = { url: request.url, body: body, type: copy.headers.get("Content-Type"), back: back };
      return queue("readwrite", function (store) { store.add(form); }).then(function () {
        return Response.redirect(back, 303);
      });
    });
  });
}

// Send the kept forms in the order they were sent, one at a time; stop at the first that cannot go yet.
function sync() {
  if (syncing === null) {
    syncing = sendKept([], null).then(function (report) {
      syncing = null;
      return report;
    });
  }
  return syncing;
}

function sendKept(sent, go) {
  return queue("readonly", function (store) { return store.getAll(); }).then(function (forms) {
    if (!forms.length) {
      return { type: "synced", sent: sent.length, left: 0, go: go };
    }
    var form = forms[0];
    var options = { method: "POST", body: form.body, headers: { "Content-Type": form.type }, credentials: "same-origin" };
    return fetch(form.url, options).then(function (response) {
      return queue("readwrite", function (store) { store.delete(form.id); }).then(function () {
        return sendKept(sent.concat([form.url]), response.redirected ? response.url : form.back);
      });
    }, function () {
      return { type: "synced", sent: sent.length, left: forms.length, go: go };
    });
  });
}

// Empty the pages cache and the kept forms (at sign-out and on the sign-in page).
function forget() {
  return Promise.all([caches.delete(PAGES), queue("readwrite", function (store) { store.clear(); })]);
}

// Run `work` on the kept forms' store in one transaction; resolves with what its request gave, once it is done.
function queue(mode, work) {
  return new Promise(function (resolve, reject) {
    var opening = indexedDB.open("offline", 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore("forms", { keyPath: "id", autoIncrement: true });
    };
    opening.onerror = function () { reject(opening.error); };
    opening.onsuccess = function () {
      var db = opening.result;
      var tx = db.transaction("forms", mode);
      var asked = work(tx.objectStore("forms"));
      tx.oncomplete = function () {
        db.close();
        resolve(asked ? asked.result : undefined);
      };
      tx.onerror = function () {
        db.close();
        reject(tx.error);
      };
    };
  });
}
