// The plan builder's office filter: with a national office file (hundreds of offices) a
// planner types part of an office's name or area and sees only those inputs. Capacities of
// hidden offices are kept and still sent with the form.
(function () {
  "use strict";
  var filter = document.getElementById("office-filter");
  var count = document.getElementById("office-count");
  if (!filter) { return; }
  var offices = Array.prototype.slice.call(document.querySelectorAll(".offices label"));
  function apply() {
    var query = filter.value.trim().toLowerCase();
    var shown = 0;
    offices.forEach(function (label) {
      var match = !query || label.getAttribute("data-search").indexOf(query) !== -1;
      label.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + " / " + offices.length;
  }
  filter.addEventListener("input", apply);
  apply();
}());
