// keepwarm dashboard: answer a suggestion in place (done, talked, snooze, stop) without
// reloading the page. Without JavaScript the same forms post and come back to the page.
"use strict";
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-inplace")) return;
  event.preventDefault();
  const data = new FormData(form);
  const button = event.submitter;
  if (button && button.name) data.append(button.name, button.value);
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  const holder = form.closest(".card, .panel") || form.parentElement;
  const result = holder.querySelector(".result");
  try {
    // Not form.action: the buttons are named "action", and form.action would be one of them.
    const response = await fetch(form.getAttribute("action"), {
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
