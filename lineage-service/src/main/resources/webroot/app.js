// The lineage service's page: plain DOM and fetch, no build step. It reads only the documented
// JSON endpoints of the service that serves it. Routes live in the URL hash:
//   #/                          repos with recent commits, recent jobs with live progress
//   #/job/<id>                  a job: progress, datums, failed datums, links to outputs
//   #/global/<id>               every commit and job of a global ID, drawn as a graph
//   #/output/<pipeline>/<member> an output's provenance, drawn as a graph
// Every API call sends the bearer token the user pasted into the sign-in box, kept in this tab's
// sessionStorage only; without one (or after a 401) the page shows the sign-in box.
"use strict";

const POLL_MILLIS = 2000;
const view = document.getElementById("view");
let pollTimer = null;

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function short(id) {
  return id ? id.substring(0, 8) : "";
}

function enc(text) {
  return encodeURIComponent(text);
}

const TOKEN_KEY = "tusk.token";

// No token, or the service refused it (401): the page asks for one.
class SignInNeeded extends Error {}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function getJson(path) {
  const bearer = token();
  if (!bearer) throw new SignInNeeded("Paste a bearer token to sign in.");
  const response = await fetch(path, {
    headers: { Accept: "application/json", Authorization: "Bearer " + bearer },
  });
  const body = await response.json();
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw new SignInNeeded(body.message || "The token was refused.");
  }
  if (!response.ok) {
    throw new Error(body.message || response.status + " " + response.statusText);
  }
  return body;
}

function section(title, ...children) {
  return el("section", {}, el("h2", { text: title }), ...children);
}

function showError(error) {
  if (error instanceof SignInNeeded) {
    renderSignIn(error.message);
    return;
  }
  view.replaceChildren(section("Error", el("p", { class: "error", text: error.message })));
}

// The sign-in box: a token (e.g. `./tusk auth token`, or the local stack's .tusk/token) is kept in
// sessionStorage for this tab and sent with every API call.
function renderSignIn(message) {
  clearTimeout(pollTimer);
  const input = el("textarea", { id: "token-input", rows: "4", cols: "70", placeholder: "eyJ..." });
  const form = el(
    "form",
    { id: "sign-in" },
    el("p", { id: "sign-in-message", text: message }),
    input,
    el("p", {}, el("button", { type: "submit", id: "sign-in-button", text: "Sign in" })),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) {
      sessionStorage.setItem(TOKEN_KEY, value);
      route();
    }
  });
  view.replaceChildren(section("Sign in", form));
}

function stateSpan(state) {
  return el("span", { class: "state state-" + state, text: state });
}

function progress(job) {
  const total = Math.max(job.total, 1);
  const bar = el(
    "div",
    { class: "bar", title: "processed / skipped / failed of total" },
    el("span", { class: "processed", style: "width:" + (100 * job.processed) / total + "%" }),
    el("span", { class: "skipped", style: "width:" + (100 * job.skipped) / total + "%" }),
    el("span", { class: "failed", style: "width:" + (100 * job.failed) / total + "%" })
  );
  const text = el("span", {
    class: "progress-text",
    text:
      "processed " + job.processed + " / skipped " + job.skipped + " / failed " + job.failed +
      " of " + job.total,
  });
  return el("div", { class: "progress" }, bar, text);
}

function poll(render) {
  clearTimeout(pollTimer);
  const tick = async () => {
    try {
      const again = await render();
      if (again) pollTimer = setTimeout(tick, POLL_MILLIS);
    } catch (error) {
      showError(error);
    }
  };
  tick();
}

// ---- views ----

async function renderHome() {
  const [repos, jobs] = await Promise.all([getJson("/repos"), getJson("/jobs?limit=20")]);
  const repoList = el("div", { id: "repos" });
  for (const repo of repos.repos) {
    const commits = await getJson("/repos/" + enc(repo.name) + "/commits?limit=5");
    const rows = commits.commits.map((c) =>
      el(
        "tr",
        { class: "commit-row", "data-commit": c.id },
        el("td", {}, el("a", { href: "#/global/" + c.globalId, class: "id", text: short(c.id) })),
        el("td", { text: "#" + c.sequence }),
        el("td", { text: c.branch }),
        el("td", { text: new Date(c.createdAt).toLocaleString() }),
        el("td", { text: c.stats ? c.stats.rows + " rows, " + c.stats.changedMembers + " changed" : "sealed" }),
        el("td", {}, ...Object.entries(c.jobStates || {}).map(([p, s]) => el("span", {}, p + " ", stateSpan(s), " ")))
      )
    );
    repoList.append(
      el(
        "div",
        { class: "repo", "data-repo": repo.name },
        el("h3", {}, repo.name + " ", el("small", { text: repo.sourcePipeline ? "derived from " + repo.sourcePipeline : repo.updatesTopic })),
        el("table", {}, el("tbody", {}, ...rows))
      )
    );
  }
  const jobRows = jobs.jobs.map((job) =>
    el(
      "tr",
      { class: "job-row", "data-job": job.id },
      el("td", {}, el("a", { href: "#/job/" + job.id, class: "job-link id", text: short(job.id) })),
      el("td", { text: job.pipeline }),
      el("td", {}, stateSpan(job.state)),
      el("td", {}, progress(job)),
      el("td", {}, el("a", { href: "#/global/" + job.globalId, class: "id", text: short(job.globalId) }))
    )
  );
  view.replaceChildren(
    section("Repos and recent commits", repoList),
    section(
      "Recent jobs",
      el(
        "table",
        { id: "jobs" },
        el("thead", {}, el("tr", {}, ...["job", "pipeline", "state", "progress", "global ID"].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...jobRows)
      )
    )
  );
  return true;
}

async function renderJob(id) {
  const job = await getJson("/jobs/" + id);
  const [datums, failed] = await Promise.all([
    getJson("/jobs/" + id + "/datums?limit=100"),
    getJson("/jobs/" + id + "/datums?state=failed&limit=100"),
  ]);
  const datumRow = (d) =>
    el(
      "tr",
      { class: "datum-row" },
      el("td", {}, el("a", { href: "#/output/" + enc(job.pipeline) + "/" + enc(d.member), class: "member-link", "data-member": d.member, text: d.member })),
      el("td", {}, stateSpan(d.state)),
      el("td", { text: d.attempts }),
      el("td", { text: (d.durationMicros / 1000).toFixed(1) + " ms" }),
      el("td", { class: "error", text: d.error || "" })
    );
  view.replaceChildren(
    section(
      "Job " + job.id,
      el("p", { id: "job-title" }, job.pipeline + " ", stateSpan(job.state), " " + job.kind + " / " + job.mode),
      progress(job),
      el(
        "p",
        {},
        "Input commit ",
        el("a", { href: "#/global/" + job.globalId, class: "id", text: short(job.commitId) }),
        " of " + job.repo + (job.outputCommit ? ", output commit " : ""),
        job.outputCommit ? el("code", { text: short(job.outputCommit) }) : null,
        job.durationMs !== null ? ", " + job.durationMs + " ms" : "",
        job.error ? el("span", { class: "error", text: " " + job.error }) : null
      ),
      el("p", {}, el("a", { href: "#/global/" + job.globalId, id: "global-link", text: "Lineage graph of global ID " + short(job.globalId) }))
    ),
    section("Failed datums", el("table", { id: "failed-datums" }, el("tbody", {}, ...failed.datums.map(datumRow)))),
    section("Datums (first 100)", el("table", { id: "datums" }, el("tbody", {}, ...datums.datums.map(datumRow))))
  );
  return job.state === "RUNNING" || job.state === "CREATED";
}

async function renderGlobal(id) {
  const global = await getJson("/global/" + id);
  const nodes = [];
  const edges = [];
  for (const c of global.commits) {
    nodes.push({ id: "c:" + c.id, kind: "commit", label: c.repo + " #" + c.sequence, sub: "commit " + short(c.id), href: "#/global/" + c.globalId });
    if (c.sourceJob) edges.push(["j:" + c.sourceJob, "c:" + c.id]);
  }
  for (const j of global.jobs) {
    nodes.push({ id: "j:" + j.id, kind: "job", label: j.pipeline, sub: j.state + " " + j.processed + "/" + j.total, href: "#/job/" + j.id });
    edges.push(["c:" + j.commitId, "j:" + j.id]);
  }
  view.replaceChildren(
    section(
      "Global ID " + global.globalId,
      el("p", {}, "State ", stateSpan(global.state), " — " + global.commits.length + " commits, " + global.jobs.length + " jobs"),
      graph(nodes, edges)
    )
  );
  return global.state === "running";
}

async function renderOutput(pipeline, member) {
  const prov = await getJson("/pipelines/" + enc(pipeline) + "/outputs/" + enc(member) + "/provenance?depth=5&limit=50");
  const nodes = [];
  const edges = [];
  addProvenance(prov, nodes, edges);
  const inputs = prov.inputs.map((row) =>
    el(
      "tr",
      { class: "input-row" },
      el("td", { text: row.table }),
      el("td", { class: "id", text: row.topic + "/" + row.partition + "/" + row.offset }),
      el("td", {}, row.upstream ? el("a", { href: "#/output/" + enc(row.upstream.pipeline) + "/" + enc(row.upstream.member), text: row.upstream.pipeline + " / " + row.upstream.member }) : "")
    )
  );
  view.replaceChildren(
    section(
      "Provenance of " + pipeline + " / " + member,
      el(
        "table",
        { id: "provenance" },
        el(
          "tbody",
          {},
          el("tr", {}, el("th", { text: "job" }), el("td", { id: "prov-job" }, prov.job ? el("a", { href: "#/job/" + prov.job.id, class: "id", text: prov.job.id }) : "not indexed yet")),
          el("tr", {}, el("th", { text: "input commit" }), el("td", { id: "prov-commit", class: "id", text: prov.output.commitId })),
          el("tr", {}, el("th", { text: "repo" }), el("td", { id: "prov-repo", text: prov.repo || "" })),
          el("tr", {}, el("th", { text: "datum" }), el("td", { id: "prov-datum", class: "id", text: prov.datum.hash })),
          el("tr", {}, el("th", { text: "input rows" }), el("td", { id: "prov-input-count", text: prov.inputCount }))
        )
      ),
      graph(nodes, edges)
    ),
    section("Input rows", el("table", { id: "input-rows" }, el("tbody", {}, ...inputs)))
  );
  return false;
}

/** Adds commit -> job -> output of a provenance node, and its upstream outputs, to the graph. */
function addProvenance(node, nodes, edges) {
  const outputId = "o:" + node.pipeline + "/" + node.member + "/" + node.output.jobId;
  if (nodes.some((n) => n.id === outputId)) return outputId;
  nodes.push({ id: outputId, kind: "output", label: node.pipeline + " / " + node.member, sub: "output " + short(node.output.outputHash || ""), href: "#/output/" + enc(node.pipeline) + "/" + enc(node.member) });
  const jobId = "j:" + node.output.jobId;
  if (!nodes.some((n) => n.id === jobId)) {
    nodes.push({ id: jobId, kind: "job", label: node.pipeline, sub: node.job ? node.job.state : "job " + short(node.output.jobId), href: "#/job/" + node.output.jobId });
  }
  edges.push([jobId, outputId]);
  const commitId = "c:" + node.output.commitId;
  if (!nodes.some((n) => n.id === commitId)) {
    nodes.push({ id: commitId, kind: "commit", label: (node.repo || "?") + (node.commit ? " #" + node.commit.sequence : ""), sub: "commit " + short(node.output.commitId), href: "#/global/" + node.output.globalId });
  }
  edges.push([commitId, jobId]);
  let sourceRows = 0;
  for (const row of node.inputs || []) {
    if (row.upstream && row.upstream.output && row.upstream.inputs) {
      const upstream = addProvenance(row.upstream, nodes, edges);
      edges.push([upstream, commitId]);
    } else if (!row.upstream) {
      sourceRows++;
    }
  }
  if (sourceRows > 0) {
    const rowsId = "r:" + node.output.commitId + "/" + node.pipeline + "/" + node.member;
    nodes.push({ id: rowsId, kind: "repo", label: sourceRows + " input rows", sub: node.repo || "", href: null });
    edges.push([rowsId, commitId]);
  }
  return outputId;
}

/** Draws nodes in columns by their longest path from a source, edges as curves (inline SVG). */
function graph(nodes, edges) {
  const ns = "http://www.w3.org/2000/svg";
  const unique = [];
  for (const e of edges) {
    if (!unique.some((u) => u[0] === e[0] && u[1] === e[1])) unique.push(e);
  }
  const column = new Map(nodes.map((n) => [n.id, 0]));
  for (let round = 0; round < nodes.length; round++) {
    for (const [from, to] of unique) {
      if (column.has(from) && column.has(to) && column.get(to) < column.get(from) + 1) {
        column.set(to, column.get(from) + 1);
      }
    }
  }
  const rows = new Map();
  const position = new Map();
  const width = 170;
  const height = 44;
  for (const n of nodes) {
    const c = column.get(n.id);
    const r = rows.get(c) || 0;
    rows.set(c, r + 1);
    position.set(n.id, { x: 10 + c * (width + 50), y: 10 + r * (height + 20) });
  }
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("id", "lineage-graph");
  const columns = Math.max(1, ...[...column.values()].map((c) => c + 1));
  const maxRows = Math.max(1, ...rows.values());
  svg.setAttribute("width", String(20 + columns * (width + 50)));
  svg.setAttribute("height", String(20 + maxRows * (height + 20)));
  const defs = document.createElementNS(ns, "defs");
  const marker = document.createElementNS(ns, "marker");
  for (const [name, value] of Object.entries({ id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto" })) {
    marker.setAttribute(name, value);
  }
  const head = document.createElementNS(ns, "path");
  head.setAttribute("d", "M0,0 L10,5 L0,10 z");
  head.setAttribute("fill", "#868e96");
  marker.append(head);
  defs.append(marker);
  svg.append(defs);
  for (const [from, to] of unique) {
    const a = position.get(from);
    const b = position.get(to);
    if (!a || !b) continue;
    const path = document.createElementNS(ns, "path");
    const x1 = a.x + width;
    const y1 = a.y + height / 2;
    const x2 = b.x;
    const y2 = b.y + height / 2;
    path.setAttribute("d", "M" + x1 + "," + y1 + " C" + (x1 + 25) + "," + y1 + " " + (x2 - 25) + "," + y2 + " " + x2 + "," + y2);
    path.setAttribute("class", "edge");
    path.setAttribute("marker-end", "url(#arrow)");
    path.setAttribute("data-from", from);
    path.setAttribute("data-to", to);
    svg.append(path);
  }
  for (const n of nodes) {
    const p = position.get(n.id);
    const group = document.createElementNS(ns, "g");
    group.setAttribute("class", "node " + n.kind);
    group.setAttribute("data-id", n.id);
    group.setAttribute("transform", "translate(" + p.x + "," + p.y + ")");
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("width", String(width));
    rect.setAttribute("height", String(height));
    group.append(rect);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", "8");
    label.setAttribute("y", "18");
    label.textContent = n.label;
    const sub = document.createElementNS(ns, "text");
    sub.setAttribute("x", "8");
    sub.setAttribute("y", "34");
    sub.textContent = n.sub;
    group.append(label, sub);
    if (n.href) {
      const link = document.createElementNS(ns, "a");
      link.setAttribute("href", n.href);
      link.append(group);
      svg.append(link);
    } else {
      svg.append(group);
    }
  }
  return el("div", { class: "graph" }, svg);
}

// ---- routing ----

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  clearTimeout(pollTimer);
  if (parts[0] === "job" && parts[1]) poll(() => renderJob(parts[1]));
  else if (parts[0] === "global" && parts[1]) poll(() => renderGlobal(parts[1]));
  else if (parts[0] === "output" && parts[2]) poll(() => renderOutput(parts[1], parts.slice(2).join("/")));
  else poll(renderHome);
}

document.getElementById("sign-out").addEventListener("click", (event) => {
  event.preventDefault();
  sessionStorage.removeItem(TOKEN_KEY);
  renderSignIn("Signed out. Paste a bearer token to sign in.");
});

document.getElementById("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = document.getElementById("search-input").value.trim();
  try {
    await getJson("/global/" + id);
    location.hash = "#/global/" + id;
  } catch (error) {
    location.hash = "#/job/" + id;
  }
});
window.addEventListener("hashchange", route);
route();
