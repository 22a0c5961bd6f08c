/* On a phone, a results page opens with the filters folded away, so the results are on the first screen
 * rather than a screen and a half down. Without JavaScript the panel simply stays open; the summary line
 * ("Filters and sorting (2 in use)") and the filters listed above the results say what is applied.
 * Loaded (without defer) at the end of the body on results pages only, so the panel folds before the
 * first paint instead of jumping shut after it.
 */
(function () {
  "use strict";
  var panel = document.querySelector("details.filter-panel[data-collapse-on-phone]");
  if (panel && window.matchMedia("(max-width: 40rem)").matches) {
    panel.open = false;
  }
})();
