// Progressive enhancement only: the pages work fully without this script.
// Ticking a filter applies it at once, so the "Apply filters" button becomes optional.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box instanceof HTMLInputElement && box.type === "checkbox" && box.form &&
      box.form.classList.contains("facets")) {
    box.form.submit();
  }
});

// After filtering or paging the address ends in #results-heading: put focus on the results
// heading, so the next Tab reaches the first result (browsers only scroll to it by default).
// The same goes for an error summary: focus it so the problems are read out first.
document.addEventListener("DOMContentLoaded", function () {
  var target = null;
  if (location.hash === "#results-heading") {
    target = document.getElementById("results-heading");
  }
  if (!target) {
    target = document.querySelector(".error-summary[tabindex]");
  }
  if (target) {
    target.focus();
  }
});
