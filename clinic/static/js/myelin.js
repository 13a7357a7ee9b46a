/* Myelin's one script of its own (no inline script anywhere: the Content-Security-Policy
   allows only the app's files). Pages work without it; it only adds what CSS cannot.

   A table wider than its box scrolls sideways inside it (myelin.css, narrow screens). A
   keyboard user can only scroll a box that takes focus, so an overflowing table gets a tab
   stop, and loses it again when it fits. */
(function () {
  "use strict";

  function reachScrollingTables(root) {
    (root || document).querySelectorAll(".table").forEach(function (table) {
      var overflows = table.scrollWidth > table.clientWidth + 1;
      if (overflows && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.dataset.scrollStop = "true";
      } else if (!overflows && table.dataset.scrollStop) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrollStop;
      }
    });
  }

  var pending = null;
  function soon() {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(function () {
      pending = null;
      reachScrollingTables(document);
    });
  }

  document.addEventListener("DOMContentLoaded", soon);
  document.addEventListener("htmx:afterSettle", soon);
  window.addEventListener("resize", soon);
})();
