// The campaign form: when another server is chosen, refill the channel lists and the role
// boxes with what the bot sees of it. Without this script the form still works: the lists
// show the saved server's, and an id can always be typed beside them.
"use strict";
(function () {
  function option(value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function showError(picker, message) {
    let note = picker.querySelector(".picker__error");
    if (!message) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "picker__error";
      note.setAttribute("role", "status");
      picker.appendChild(note);
    }
    note.textContent = message;
  }

  function refill(found) {
    document.querySelectorAll('select[data-picker="channel"]').forEach(function (select) {
      const blank = select.options[0] ? select.options[0].textContent : "---------";
      select.replaceChildren(option("", blank));
      found.channels.forEach(function (c) { select.appendChild(option(c.id, c.name)); });
      showError(select.closest(".picker"), found.error);
    });
    document.querySelectorAll('ul[data-picker="roles"]').forEach(function (list) {
      const name = list.dataset.name;
      list.replaceChildren();
      found.roles.forEach(function (r) {
        const item = document.createElement("li");
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = name;
        box.value = r.id;
        label.append(box, " " + (r.note ? r.name + " (" + r.note + ")" : r.name));
        item.appendChild(label);
        list.appendChild(item);
      });
      showError(list.closest(".picker"), found.error);
    });
  }

  document.addEventListener("change", function (event) {
    const select = event.target.closest('select[data-picker="guild"]');
    if (!select || !select.dataset.directoryUrl) return;
    const url = select.dataset.directoryUrl + "?guild_id=" + encodeURIComponent(select.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(refill)
      .catch(function () {
        refill({ channels: [], roles: [], error: "The bot's view of that server could not be read; type the ids." });
      });
  });
})();
