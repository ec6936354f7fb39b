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
