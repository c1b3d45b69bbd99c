// On-site forms (data-position): when the person ticks "send my position" and the browser allows it, the
// check-in or check-out carries lat/lon; otherwise, or when the position cannot be had, it goes without.
(function () {
  "use strict";
  document.querySelectorAll("form[data-position]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var share = form.querySelector("input[name=share_position]");
      if (!share || !share.checked || !navigator.geolocation || form.dataset.located) {
        return;
      }
      event.preventDefault();
      var send = function () {
        form.dataset.located = "yes";
        form.submit();
      };
      navigator.geolocation.getCurrentPosition(
        function (found) {
          form.querySelector("input[name=lat]").value = found.coords.latitude.toFixed(6);
          form.querySelector("input[name=lon]").value = found.coords.longitude.toFixed(6);
          send();
        },
        send,
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    });
  });
})();
