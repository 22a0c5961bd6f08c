/* The superbill's Print button (templates/web/superbill.html). The Content-Security-Policy allows no
 * inline handlers, so the button is wired here; without JavaScript it stays hidden and the page says to
 * use the browser's Print command instead.
 */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
