// Availability page (templates/web/availability.html): an "Add another time" button under each day of the
// week editor. Progressive enhancement only: without JavaScript every day already has blank rows to type
// into, and the server reads rows by their names (w<location>-<weekday>-<n>-start/end), so rows made here
// are saved like the others.
(function () {
  "use strict";

  function newRow(fieldset) {
    var index = Number(fieldset.dataset.nextIndex);
    fieldset.dataset.nextIndex = String(index + 1);
    var prefix = "w" + fieldset.dataset.location + "-" + fieldset.dataset.weekday + "-" + index;
    var spoken = fieldset.dataset.day + ", hours " + (index + 1) + ", ";
    var row = document.createElement("div");
    row.className = "interval-row";
    var inputs = document.createElement("div");
    inputs.className = "interval-inputs";
    [["start", "from"], ["end", "to"]].forEach(function (pair) {
      var id = prefix + "-" + pair[0];
      var label = document.createElement("label");
      label.htmlFor = id;
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = spoken;
      label.append(hidden, pair[1]);
      var input = document.createElement("input");
      input.type = "time";
      input.step = "300";
      input.id = id;
      input.name = id;
      inputs.append(label, input);
    });
    row.append(inputs);
    return row;
  }

  document.querySelectorAll("fieldset.week-day").forEach(function (fieldset) {
    var rows = fieldset.querySelector(".interval-rows");
    if (!rows) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button link-button add-interval";
    button.append("Add another time");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " on " + fieldset.dataset.day;
    button.append(hidden);
    button.addEventListener("click", function () {
      var row = newRow(fieldset);
      rows.append(row);
      row.querySelector("input").focus();
    });
    fieldset.append(button);
  });
})();
