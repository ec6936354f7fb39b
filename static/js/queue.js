// The queue's "select every order on this page" box. Delegated from the document, so
// it keeps working when htmx swaps in new results.
document.addEventListener("change", (event) => {
  if (event.target.id !== "select-all") return;
  for (const box of document.querySelectorAll('#bulk input[name="orders"]')) {
    box.checked = event.target.checked;
  }
});
