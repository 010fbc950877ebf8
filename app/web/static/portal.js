// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
(function () {
  "use strict";

  function report(id, message) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) { status.textContent = message; }
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy");
      var source = document.getElementById(id);
      if (!source) { return; }
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { report(id, "Copied."); },
          function () { selectText(source); report(id, "Selected: press Ctrl+C (or ⌘C) to copy."); }
        );
      } else {
        selectText(source);
        report(id, "Selected: press Ctrl+C (or ⌘C) to copy.");
      }
    });
  });
})();
