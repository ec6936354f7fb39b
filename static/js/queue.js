// The queue's "select every order on this page" box. Delegated from the document, so
// it keeps working when htmx swaps in new results.
document.addEventListener("change", (event) => {
  if (event.target.id !== "select-all") return;
  for (const box of document.querySelectorAll('#bulk input[name="orders"]')) {
    box.checked = event.target.checked;
  }
});

// After a bulk action the rows come back with only the orders it left alone still
// selected; the "select every order" box follows.
document.addEventListener("htmx:afterSettle", (event) => {
  const all = document.getElementById("select-all");
  if (!all || event.target.id !== "bulk-results") return;
  const boxes = [...document.querySelectorAll('#bulk input[name="orders"]')];
  all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
});

// The queue's status tabs and filter chips are links to the queue with other filters,
// which work without script. With script they change the filter form and send it (htmx
// takes the submit), so the form always shows the filters in force. A click that opens
// a new tab or window is the link's.
const filterForm = () => document.getElementById("filters");

function plainClick(event) {
  return event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey);
}

// A checkbox list's summary names what is checked in it.
function showPicked(form) {
  for (const list of form.querySelectorAll("details[data-multi]")) {
    const picked = [...list.querySelectorAll("input:checked")].map((box) => box.parentElement.textContent.trim());
    const shown = list.querySelector("[data-picked]");
    if (shown) shown.textContent = picked.length ? picked.join(", ") : "Any";
  }
}

function clearValue(form, name, value) {
  const controls = [...form.elements].filter((element) => element.name === name);
  for (const control of controls) {
    if (control.type === "checkbox" || control.type === "radio") {
      if (control.value === value) control.checked = false;
    } else if (control.tagName === "SELECT" && control.multiple) {
      for (const option of control.options) if (option.value === value) option.selected = false;
    } else {
      control.value = "";
    }
  }
  return controls.length > 0;
}

document.addEventListener("click", (event) => {
  const form = filterForm();
  if (!form || !plainClick(event)) return;
  const tab = event.target.closest("#status-tabs a[data-status]");
  const chip = event.target.closest("#queue-chips a[data-remove-name]");
  if (tab) {
    const boxes = form.querySelectorAll('input[name="status"]');
    if (!boxes.length) return;
    for (const box of boxes) box.checked = box.value === tab.dataset.status;
  } else if (chip) {
    if (!clearValue(form, chip.dataset.removeName, chip.dataset.removeValue)) return;
  } else {
    return;
  }
  event.preventDefault();
  showPicked(form);
  form.requestSubmit();
});

document.addEventListener("change", (event) => {
  const form = filterForm();
  if (form && form.contains(event.target)) showPicked(form);
});

// One checkbox list open at a time; a click elsewhere or Escape closes it.
document.addEventListener("toggle", (event) => {
  if (!event.target.matches?.("details[data-multi]") || !event.target.open) return;
  for (const other of document.querySelectorAll("details[data-multi][open]")) {
    if (other !== event.target) other.open = false;
  }
}, true);

document.addEventListener("click", (event) => {
  for (const list of document.querySelectorAll("details[data-multi][open]")) {
    if (!list.contains(event.target)) list.open = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const list = event.target.closest?.("details[data-multi][open]");
  if (!list) return;
  list.open = false;
  list.querySelector("summary")?.focus();
});

// "Copy link" on the saved views page: the view's link to the clipboard. Without the
// clipboard (an insecure origin) the link is selected for the person to copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    field.select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => {
    button.textContent = "Copy link";
  }, 3000);
});
