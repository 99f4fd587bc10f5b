// The import form: while a file is uploaded and checked (a large one takes a while), the
// button says so and cannot be pressed a second time.
(function () {
  "use strict";
  var form = document.querySelector("form[enctype='multipart/form-data']");
  if (!form) return;
  var button = form.querySelector("button[type='submit']");
  if (!button) return;
  var label = button.textContent;
  form.addEventListener("submit", function () {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = button.getAttribute("data-busy") || label;
  });
  // Back to this page from the browser's history: the form can be sent again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  });
})();
