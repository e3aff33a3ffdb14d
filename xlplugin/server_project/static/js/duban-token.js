// The task pane's token field: saved in this Excel's localStorage, sent by auth.js.
document.addEventListener("DOMContentLoaded", () => {
  const field = document.getElementById("duban-token");
  const note = document.getElementById("duban-token-note");
  if (!field) return;
  field.value = localStorage.getItem("duban-token") || "";
  document.getElementById("duban-token-save").addEventListener("click", () => {
    localStorage.setItem("duban-token", field.value.trim());
    note.textContent = "已保存。";
  });
});
