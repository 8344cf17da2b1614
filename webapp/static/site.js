// Progressive enhancement only: the pages work fully without this script.
// Ticking a filter applies it at once, so the "Apply filters" button becomes optional.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (box instanceof HTMLInputElement && box.type === "checkbox" && box.form &&
      box.form.classList.contains("facets")) {
    box.form.submit();
  }
});
