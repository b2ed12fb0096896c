/* Guichet: progressive enhancement only. Every page works without this file.
   It adds: conditional reveal, character counts, autosave of drafts, focus on the error
   summary (and from its links to the fields), and one submission per click. */
(function () {
  "use strict";

  /* ---- Conditional reveal (the same rules as forms_app/formdefs/conditions.py) ---- */

  function toNumber(text) {
    var cleaned = String(text).replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    return cleaned === "" || isNaN(cleaned) ? null : Number(cleaned);
  }

  function valueOf(form, key) {
    var inputs = form.querySelectorAll('[name="' + key + '"]');
    if (!inputs.length) return undefined; /* on another page: the server decided */
    var first = inputs[0];
    if (first.type === "radio") {
      var checked = form.querySelector('[name="' + key + '"]:checked');
      return checked ? checked.value : null;
    }
    if (first.type === "checkbox") {
      if (inputs.length === 1 && !first.closest(".choices")) return first.checked ? true : null;
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }
    if (first.tagName === "SELECT" && first.multiple) {
      return Array.prototype.map.call(first.selectedOptions, function (o) { return o.value; });
    }
    return first.value === "" ? null : first.value;
  }

  function filled(value) {
    return !(value === null || value === "" || (Array.isArray(value) && !value.length));
  }

  function same(value, expected) {
    if (value === null || value === undefined) return false;
    if (typeof expected === "boolean") return (value === "oui" || value === true) === expected;
    if (typeof expected === "number") return toNumber(value) === expected;
    return String(value) === String(expected);
  }

  /* Returns true, false, or undefined when the condition reads a field not on this page. */
  function visible(condition, form) {
    if (condition.all) return combine(condition.all, form, true);
    if (condition.any) return combine(condition.any, form, false);
    if (condition.not) {
      var inner = visible(condition.not, form);
      return inner === undefined ? undefined : !inner;
    }
    var value = valueOf(form, condition.field);
    if (value === undefined) return undefined;
    for (var op in condition) {
      if (op === "field") continue;
      var expected = condition[op];
      switch (op) {
        case "filled": return filled(value) === expected;
        case "equals": return same(value, expected);
        case "not_equals": return !same(value, expected);
        case "in": return expected.some(function (e) { return same(value, e); });
        case "contains":
          return Array.isArray(value) && value.some(function (v) { return same(v, expected); });
        default:
          var number = toNumber(value);
          if (number === null) return false;
          if (op === "gt") return number > expected;
          if (op === "gte") return number >= expected;
          if (op === "lt") return number < expected;
          if (op === "lte") return number <= expected;
      }
    }
    return undefined;
  }

  function combine(parts, form, all) {
    var result = all;
    for (var i = 0; i < parts.length; i++) {
      var part = visible(parts[i], form);
      if (part === undefined) return undefined;
      result = all ? result && part : result || part;
    }
    return result;
  }

  function reveal(form) {
    form.querySelectorAll("[data-visible-if]").forEach(function (element) {
      var shown = visible(JSON.parse(element.getAttribute("data-visible-if")), form);
      if (shown !== undefined) element.hidden = !shown;
    });
  }

  /* ---- Character counts ---- */

  function counter(textarea) {
    var max = parseInt(textarea.getAttribute("data-maxlength"), 10);
    var note = document.createElement("p");
    note.className = "hint character-count";
    note.id = textarea.id + "-count";
    note.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", note);
    var described = textarea.getAttribute("aria-describedby");
    textarea.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    function update() {
      var left = max - textarea.value.length;
      note.textContent = left >= 0
        ? "Il vous reste " + left + " caractère" + (left > 1 ? "s" : "") + "."
        : "Vous avez " + -left + " caractère" + (-left > 1 ? "s" : "") + " de trop.";
      note.classList.toggle("error-message", left < 0);
    }
    textarea.addEventListener("input", update);
    update();
  }

  /* ---- Autosave of drafts ---- */

  function autosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = form.querySelector("[data-autosave-status]");
    var timer = null, dirty = false;
    function save() {
      if (!dirty) return;
      dirty = false;
      var data = new FormData(form);
      Array.from(data.keys()).forEach(function (key) {
        if (data.get(key) instanceof File) data.delete(key); /* files go with the page */
      });
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (result && result.saved && status) {
            var now = new Date();
            status.textContent = "Brouillon enregistré à " + now.toLocaleTimeString("fr-FR",
              { hour: "2-digit", minute: "2-digit" }) + ".";
          }
        })
        .catch(function () { dirty = true; }); /* offline: try again at the next change */
    }
    form.addEventListener("input", function () {
      dirty = true;
      clearTimeout(timer);
      timer = setTimeout(save, 2000);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") save();
    });
  }

  /* ---- Start ---- */

  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-visible-if]")) {
      reveal(form);
      form.addEventListener("change", function () { reveal(form); });
      form.addEventListener("input", function () { reveal(form); });
    }
    if (form.hasAttribute("data-autosave-url")) autosave(form);
    var button = form.querySelector("[data-prevent-double-click]");
    if (button) {
      form.addEventListener("submit", function () {
        setTimeout(function () { button.disabled = true; }, 0);
      });
    }
  });
  document.querySelectorAll("textarea[data-maxlength]").forEach(counter);
  /* An error summary link to a group (radios, checkboxes, an address) focuses its first
     field: the browser alone would only scroll to the group, leaving focus behind. */
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target || target.matches("input, select, textarea, button")) return;
      var field = target.querySelector("input:not([type=hidden]), select, textarea");
      if (!field) return;
      event.preventDefault();
      target.scrollIntoView();
      field.focus({ preventScroll: true });
    });
  });
  var summary = document.querySelector("[data-focus]");
  if (summary) summary.focus();
})();
