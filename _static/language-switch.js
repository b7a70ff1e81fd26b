// The language switch: a button in the page header to the same page in the other edition.
// The link itself is in the head (<link rel="alternate" data-mathchain-edition>, _ext/mathchain_i18n.py).
document.addEventListener("DOMContentLoaded", () => {
  const alt = document.querySelector("link[data-mathchain-edition]");
  if (!alt) return;
  const a = document.createElement("a");
  a.href = alt.getAttribute("href");
  a.hreflang = alt.hreflang;
  a.lang = alt.hreflang;
  a.className = "btn mathchain-language-switch";
  a.textContent = alt.dataset.mathchainEdition;
  a.title = alt.hreflang.startsWith("zh") ? "简体中文版" : "English edition";
  const header = document.querySelector(".article-header-buttons") || document.body;
  header.prepend(a);
});
