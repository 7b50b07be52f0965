// keepwarm dashboard: answer a suggestion in place (done, talked, snooze, stop) without
// reloading the page. Without JavaScript the same forms post and come back to the page.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-inplace")) return;
  event.preventDefault();
  const data = new FormData(form, event.submitter);
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  const holder = form.closest(".card, .panel") || form.parentElement;
  const result = holder.querySelector(".result");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (result) result.textContent = answer.message || answer.error?.message || "Done";
    if (response.ok) holder.classList.add("answered");
  } catch (error) {
    if (result) result.textContent = "That did not work: reload the page and try again.";
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});
