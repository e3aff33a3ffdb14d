// duban: the token of `duban serve --users FILE` is kept per user in the task pane
// (localStorage "duban-token"); Entra ID works as in xlwings-server.
globalThis.getAuth = async function () {
  if (config.authProviders.includes("entraid")) {
    const token = await xlwings.getAccessToken();
    return { token: token, provider: "entraid" };
  }
  if (config.authProviders.includes("custom")) {
    return { token: localStorage.getItem("duban-token") || "", provider: "custom" };
  }
  return { token: "", provider: "" };
};
