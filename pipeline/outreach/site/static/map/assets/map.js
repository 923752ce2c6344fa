/* Catalogue search and filters for the outreach map (no library, no network request).
   Reads window.INITIATIVES (data.js) and shows/hides the server-rendered list items. */
(function () {
  "use strict";
  var data = window.INITIATIVES || [];
  var form = document.getElementById("filtres");
  var list = document.getElementById("liste");
  if (!form || !list) { return; }
  var query = document.getElementById("q");
  var count = document.getElementById("compte");
  var empty = document.getElementById("vide");
  var selects = {
    organisateur: document.getElementById("organisateur"),
    type: document.getElementById("type"),
    "public": document.getElementById("public"),
    statut: document.getElementById("statut"),
    annee: document.getElementById("annee")
  };
  var more = document.getElementById("plus");
  var PAGE = 100;  /* cards shown at once: laying out 1,000 cards would make every keystroke slow */
  var limit = PAGE;
  var rows = [];
  var byId = {};
  var lis = list.querySelectorAll("li[data-id]");
  for (var i = 0; i < lis.length; i++) { byId[lis[i].getAttribute("data-id")] = lis[i]; }
  for (var j = 0; j < data.length; j++) {
    if (byId[data[j].id]) { rows.push({ d: data[j], li: byId[data[j].id], shown: true }); }
  }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function matches(d, terms, f) {
    for (var t = 0; t < terms.length; t++) { if (d.s.indexOf(terms[t]) < 0) { return false; } }
    if (f.organisateur && d.o.indexOf(f.organisateur) < 0) { return false; }
    if (f.type && d.k !== f.type) { return false; }
    if (f["public"] && d.a.indexOf(f["public"]) < 0) { return false; }
    if (f.statut && d.st !== f.statut) { return false; }
    if (f.annee && d.y.indexOf(f.annee) < 0) { return false; }
    return true;
  }

  function currentFilters() {
    var f = {};
    for (var name in selects) { if (selects[name]) { f[name] = selects[name].value; } }
    return f;
  }

  function apply() {
    var folded = fold(query.value);
    var terms = folded ? folded.split(" ") : [];
    var f = currentFilters();
    var shown = 0;
    for (var r = 0; r < rows.length; r++) {
      var ok = matches(rows[r].d, terms, f);
      if (ok) { shown++; }
      var visible = ok && shown <= limit;
      if (visible !== rows[r].shown) { rows[r].li.hidden = !visible; rows[r].shown = visible; }
    }
    if (more) {
      more.hidden = shown <= limit;
      more.textContent = "Afficher " + Math.min(PAGE, shown - limit) + " initiatives de plus";
    }
    count.textContent = shown + (shown > 1 ? " initiatives" : " initiative") +
      (shown === rows.length ? "" : " sur " + rows.length);
    empty.hidden = shown !== 0;
    rememberInUrl(f);
    document.documentElement.setAttribute("data-shown", String(shown));
  }

  function rememberInUrl(f) {
    var params = new URLSearchParams();
    if (query.value) { params.set("q", query.value); }
    for (var name in f) { if (f[name]) { params.set(name, f[name]); } }
    var search = params.toString();
    try {
      history.replaceState(null, "", search ? "?" + search : location.pathname);
    } catch (e) { /* file:// pages may refuse: the filters still work */ }
  }

  function restoreFromUrl() {
    var params = new URLSearchParams(location.search);
    if (params.get("q")) { query.value = params.get("q"); }
    for (var name in selects) {
      var value = params.get(name);
      if (value && selects[name]) { selects[name].value = value; }
    }
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.addEventListener("reset", function () { window.setTimeout(restart, 0); });
  function restart() { limit = PAGE; apply(); }
  query.addEventListener("input", restart);
  if (more) { more.addEventListener("click", function () { limit += PAGE; apply(); }); }
  for (var name in selects) { if (selects[name]) { selects[name].addEventListener("change", restart); } }
  restoreFromUrl();
  apply();
})();
