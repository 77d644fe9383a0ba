// The lineage service's page: plain DOM and fetch, no build step. It reads only the documented
// JSON endpoints of the service that serves it. Routes live in the URL hash:
//   #/                          the DAG of repos and pipelines, repos with recent commits, recent jobs
//   #/job/<id>                  a job: progress, datums, failed datums with their log's tail, logs
//   #/global/<id>               every commit and job of a global ID, drawn as a graph
//   #/output/<pipeline>/<member> an output's provenance, drawn as a graph
//   #/pipeline/<name>           charts: processed vs skipped per job, job duration over commits
//   #/commit/<id>[/<after>]     a commit's counts, jobs, diff from its parent (paged), rejected rows
//   #/member/<repo>/<at>/<member> a member's rows as of a commit ("latest": the newest), its outputs' history
//   #/repo/<name>               charts: rows and changed members per commit
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

// One job as a table row, as the home, commit and pipeline pages list jobs: its ID linking to its
// page, its pipeline (left out on the pipeline's own page), state, progress and, on the home page,
// its global ID.
function jobRow(job, { pipeline = true, globalId = false } = {}) {
  return el(
    "tr",
    { class: "job-row", "data-job": job.id },
    el("td", {}, el("a", { href: "#/job/" + job.id, class: "job-link id", text: short(job.id) })),
    pipeline ? el("td", { text: job.pipeline }) : null,
    el("td", {}, stateSpan(job.state)),
    el("td", {}, progress(job)),
    globalId
      ? el("td", {}, el("a", { href: "#/global/" + job.globalId, class: "id", text: short(job.globalId) }))
      : null
  );
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
  return requestJson("GET", path);
}

// Sends the bearer token; a 401 asks for a new one, any other error status throws its message.
async function requestJson(method, path) {
  const bearer = token();
  if (!bearer) throw new SignInNeeded("Paste a bearer token to sign in.");
  const response = await fetch(path, {
    method,
    headers: { Accept: "application/json", Authorization: "Bearer " + bearer },
  });
  const body = await response.json();
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw new SignInNeeded(body.message || "The token was refused.");
  }
  if (!response.ok) {
    const error = new Error(body.message || response.status + " " + response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

// A part of a page that needs a right the caller may lack (content, writer): its answer, or the
// refusal's message shown in its place.
async function orRefusal(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    if (error instanceof SignInNeeded) throw error;
    return { refused: error.message, status: error.status };
  }
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
  generation++;
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

// Renders a page now and again every POLL_MILLIS while it says so. Each render builds into a
// detached element that replaces the page only if no other page was opened meanwhile: a slow
// answer for the page left behind must not overwrite the one the user went to.
let generation = 0;

function poll(render) {
  clearTimeout(pollTimer);
  const mine = ++generation;
  const tick = async () => {
    try {
      const staging = document.createElement("div");
      const again = await render(staging);
      if (mine !== generation) return;
      view.replaceChildren(...staging.childNodes);
      if (again) pollTimer = setTimeout(tick, POLL_MILLIS);
    } catch (error) {
      if (mine === generation) showError(error);
    }
  };
  tick();
}

// ---- views ----

async function renderHome(view) {
  const [repos, jobs, pipelines] = await Promise.all([
    getJson("/repos"),
    getJson("/jobs?limit=20"),
    getJson("/pipelines"),
  ]);
  const dag = await dagSection(repos.repos, pipelines.pipelines);
  const repoList = el("div", { id: "repos" });
  for (const repo of repos.repos) {
    const commits = await getJson("/repos/" + enc(repo.name) + "/commits?limit=5");
    const rows = commits.commits.map((c) =>
      el(
        "tr",
        { class: "commit-row", "data-commit": c.id },
        el("td", {}, el("a", { href: "#/global/" + c.globalId, class: "id", text: short(c.id) })),
        el("td", {}, el("a", { href: "#/commit/" + c.id, class: "commit-link", text: "#" + c.sequence })),
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
        el("h3", {}, el("a", { href: "#/repo/" + enc(repo.name), class: "repo-link", text: repo.name }), " ", el("small", { text: repo.sourcePipeline ? "derived from " + repo.sourcePipeline : repo.updatesTopic })),
        el("table", {}, el("tbody", {}, ...rows))
      )
    );
  }
  const jobRows = jobs.jobs.map((job) => jobRow(job, { globalId: true }));
  view.replaceChildren(
    dag,
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

async function renderJob(view, id) {
  const job = await getJson("/jobs/" + id);
  const [datums, failed] = await Promise.all([
    getJson("/jobs/" + id + "/datums?limit=100"),
    getJson("/jobs/" + id + "/datums?state=failed&limit=100"),
  ]);
  // Logs are content: a reader without content rights gets 403, shown in place of the logs.
  let logs = [];
  let logsRefused = null;
  try {
    logs = (await getJson("/jobs/" + id + "/logs?limit=50")).logs;
  } catch (error) {
    if (error instanceof SignInNeeded) throw error;
    logsRefused = error.message;
  }
  const logOf = new Map(logs.map((l) => [l.member, l.log]));
  const ended = job.state !== "RUNNING" && job.state !== "CREATED";
  const tail = (text) => (text && text.length > 2000 ? "…" + text.substring(text.length - 2000) : text || "");
  const failedRow = (d) => {
    const row = datumRow(d);
    row.append(el("td", {}, el("pre", { class: "log-tail", "data-member": d.member, text: tail(logOf.get(d.member)) })));
    return row;
  };
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
    section(
      "Failed datums (with their log's tail)",
      ended && job.failed > 0 ? restartControl(job) : null,
      el("table", { id: "failed-datums" }, el("tbody", {}, ...failed.datums.map(failedRow)))
    ),
    section("Datums (first 100)", el("table", { id: "datums" }, el("tbody", {}, ...datums.datums.map(datumRow)))),
    section(
      "Logs (first 50 datums)",
      logsRefused
        ? el("p", { id: "logs-refused", class: "error", text: logsRefused })
        : el("div", { id: "job-logs" }, ...logs.map((l) =>
            el("div", { class: "log", "data-member": l.member }, el("h3", {}, l.member + " ", stateSpan(l.state), " attempts " + l.attempts), el("pre", { text: tail(l.log) }))
          ))
    )
  );
  return job.state === "RUNNING" || job.state === "CREATED";
}

// What the last restart of a job answered, kept across the job page's re-renders.
const restartAnswers = new Map();

// Restarts an ended job's failed datums (writer on the pipeline; the commit service decides, and a
// refusal such as 403 or 409 is shown beside the button).
function restartControl(job) {
  const button = el("button", { id: "restart-job", type: "button", text: "Restart the failed datums" });
  const answer = el("span", { id: "restart-answer", text: restartAnswers.get(job.id) || "" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await requestJson("POST", "/jobs/" + enc(job.id) + "/restart");
      restartAnswers.set(job.id, "Restarted the failed datums of job " + short(job.id));
    } catch (error) {
      if (error instanceof SignInNeeded) return showError(error);
      restartAnswers.set(job.id, error.message);
    }
    answer.textContent = restartAnswers.get(job.id);
    answer.className = restartAnswers.get(job.id).startsWith("Restarted") ? "" : "error";
    route();
  });
  return el("p", {}, button, " ", answer);
}

async function renderGlobal(view, id) {
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

async function renderOutput(view, pipeline, member) {
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
          prov.repo ? el("tr", {}, el("th", { text: "member" }), el("td", {}, el("a", { href: memberHref(prov.repo, prov.output.commitId, member), id: "prov-member-link", text: member + " as of the input commit" }))) : null,
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
function graph(nodes, edges, id = "lineage-graph") {
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
  svg.setAttribute("id", id);
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
    if (n.state) group.setAttribute("data-state", n.state);
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

// A commit: its counts once complete (rows, rejected, members, changed members) and its jobs.
async function renderCommit(view, id, after) {
  const answer = await getJson("/commits/" + enc(id));
  const c = answer.commit;
  const stats = c.stats || {};
  const diff = c.stats ? await diffSection(c, after) : null;
  const count = (name, value) =>
    el("tr", {}, el("th", { text: name }), el("td", { id: "commit-" + name, text: value === undefined ? "pending" : String(value) }));
  view.replaceChildren(
    section(
      "Commit " + short(c.id) + " of " + c.repo,
      el(
        "table",
        { id: "commit-counts" },
        el(
          "tbody",
          {},
          el("tr", {}, el("th", { text: "id" }), el("td", { class: "id", text: c.id })),
          el("tr", {}, el("th", { text: "sequence" }), el("td", { text: "#" + c.sequence })),
          el("tr", {}, el("th", { text: "global ID" }), el("td", {}, el("a", { href: "#/global/" + c.globalId, class: "id", text: c.globalId }))),
          count("rows", stats.rows),
          count("rejected", stats.rejected),
          count("members", stats.members),
          count("changed", stats.changedMembers)
        )
      )
    ),
    section(
      "Jobs",
      el(
        "table",
        { id: "commit-jobs" },
        el("tbody", {}, ...answer.jobs.map((job) => jobRow(job)))
      )
    ),
    diff ? diff.node : section("Changes", el("p", { text: "The commit is not complete yet." })),
    c.stats ? await rejectedSection(c) : null
  );
  // Polled until the commit and its diff are complete everywhere (the diff answers 503 until then).
  return !c.stats || diff.again;
}

const DIFF_PAGE = 50;

// The members the commit added, changed or removed against its parent, a page at a time; each
// member links to its page as of this commit.
async function diffSection(c, after) {
  if (!c.parent) {
    return { node: section("Changes", el("p", { id: "diff-first", text: "The repo's first commit: every member in it is added (" + c.stats.members + ")." })), again: false };
  }
  const query = "?from=" + enc(c.parent) + "&to=" + enc(c.id) + "&limit=" + DIFF_PAGE + (after ? "&after=" + enc(after) : "");
  const diff = await orRefusal(getJson("/repos/" + enc(c.repo) + "/diff" + query));
  if (diff.refused) {
    return { node: section("Changes", el("p", { id: "diff-refused", class: "error", text: diff.refused })), again: diff.status === 503 };
  }
  const d = diff.value;
  const counts = after
    ? el("p", { id: "diff-page", text: "Members after " + after })
    : el(
        "table",
        { id: "diff-counts" },
        el("tbody", {}, ...["added", "changed", "removed"].map((kind) => el("tr", {}, el("th", { text: kind }), el("td", { id: "diff-" + kind, text: String(d[kind]) }))))
      );
  const rows = d.members.map((m) =>
    el(
      "tr",
      { class: "diff-row", "data-member": m.member },
      el("td", {}, el("a", { href: memberHref(c.repo, c.id, m.member), class: "member-link", text: m.member })),
      el("td", { class: "change-" + m.change, text: m.change })
    )
  );
  const node = section(
    "Changes since commit " + short(c.parent),
    counts,
    el("table", { id: "diff-members" }, el("tbody", {}, ...rows)),
    d.next ? el("p", {}, el("a", { id: "diff-next", href: "#/commit/" + c.id + "/" + enc(d.next), text: "next " + DIFF_PAGE + " members" })) : null
  );
  return { node, again: false };
}

const REJECTED_PAGE = 1000;

// The commit's rejected rows counted by reason (from the first page), and where the first ones are.
async function rejectedSection(c) {
  if (!c.stats.rejected) return section("Rejected rows", el("p", { id: "rejected-none", text: "No row of this commit was rejected." }));
  const page = await orRefusal(getJson("/repos/" + enc(c.repo) + "/rejected?commit=" + enc(c.id) + "&limit=" + REJECTED_PAGE));
  if (page.refused) return section("Rejected rows", el("p", { id: "rejected-refused", class: "error", text: page.refused }));
  const byReason = new Map();
  for (const row of page.value.rows) byReason.set(row.reason, (byReason.get(row.reason) || 0) + 1);
  const reasons = [...byReason.entries()].sort((a, b) => b[1] - a[1]);
  return section(
    "Rejected rows by reason" + (page.value.next ? " (first " + REJECTED_PAGE + ")" : ""),
    el(
      "table",
      { id: "rejected-reasons" },
      el("tbody", {}, ...reasons.map(([reason, count]) => el("tr", { class: "reason-row", "data-reason": reason }, el("th", { text: reason }), el("td", { text: String(count) }))))
    ),
    el("h3", { text: "First rejected rows" }),
    el(
      "table",
      { id: "rejected-rows" },
      el("thead", {}, el("tr", {}, ...["partition/offset", "table", "reason", "detail"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...page.value.rows.slice(0, 20).map((row) =>
        el("tr", { class: "rejected-row" }, el("td", { class: "id", text: row.partition + "/" + row.offset }), el("td", { text: row.table || "" }), el("td", { text: row.reason }), el("td", { text: row.detail || "" }))
      ))
    )
  );
}

function memberHref(repo, at, member) {
  return "#/member/" + enc(repo) + "/" + enc(at || "latest") + "/" + enc(member);
}

// A member: its rows as of a commit (chosen among the repo's recent commits), and for every
// pipeline reading the repo, the history of its output with links to the provenance graph.
async function renderMember(view, repo, at, member) {
  const latest = at === "latest";
  const [commits, pipelines] = await Promise.all([
    getJson("/repos/" + enc(repo) + "/commits?limit=50"),
    getJson("/pipelines"),
  ]);
  const version = await orRefusal(
    getJson("/repos/" + enc(repo) + "/members/" + enc(member) + (latest ? "" : "?at=" + enc(at)))
  );
  const picker = el(
    "select",
    { id: "member-at" },
    el("option", { value: "latest", text: "latest" }),
    ...commits.commits.filter((c) => c.stats).map((c) => el("option", { value: c.id, text: "#" + c.sequence + " " + short(c.id) }))
  );
  picker.value = at;
  picker.addEventListener("change", () => (location.hash = memberHref(repo, picker.value, member)));
  let rows;
  if (version.refused) {
    rows = el("p", { id: "member-refused", class: "error", text: version.refused });
  } else {
    // One table per table of the repo, each with its own columns.
    const byTable = new Map();
    for (const r of version.value.rows) {
      if (!byTable.has(r.table)) byTable.set(r.table, []);
      byTable.get(r.table).push(r);
    }
    const tables = [...byTable.entries()].map(([table, tableRows]) => {
      const columns = [...new Set(tableRows.flatMap((r) => Object.keys(r.values)))];
      return el(
        "div",
        {},
        el("h3", { text: table + " (" + tableRows.length + ")" }),
        el(
          "table",
          { class: "member-table", "data-table": table },
          el("thead", {}, el("tr", {}, ...[...columns, "source"].map((h) => el("th", { text: h })))),
          el("tbody", {}, ...tableRows.map((r) =>
            el("tr", { class: "member-row" }, ...columns.map((col) => el("td", { text: r.values[col] ?? "" })), el("td", { class: "id", text: r.partition + "/" + r.offset }))
          ))
        )
      );
    });
    rows = el(
      "div",
      {},
      el("p", { id: "member-version", text: version.value.rows.length + " rows as of commit #" + version.value.sequence + " " + short(version.value.commitId) }),
      el("div", { id: "member-rows" }, ...tables)
    );
  }
  const readers = pipelines.pipelines.filter((p) => p.inputRepo === repo);
  const histories = await Promise.all(
    readers.map((p) => orRefusal(getJson("/pipelines/" + enc(p.name) + "/outputs/" + enc(member) + "/history")))
  );
  const outputs = readers.map((p, i) => {
    const h = histories[i];
    const body = h.refused
      ? el("p", { class: "error", text: h.refused })
      : el(
          "table",
          { class: "output-history", "data-pipeline": p.name },
          el("thead", {}, el("tr", {}, ...["job", "commit", "output", "inputs", "at"].map((x) => el("th", { text: x })))),
          el("tbody", {}, ...(h.value.outputs || []).map((v) =>
            el(
              "tr",
              { class: "output-version" },
              el("td", {}, el("a", { href: "#/job/" + v.jobId, class: "id", text: short(v.jobId) })),
              el("td", {}, el("a", { href: "#/commit/" + v.commitId, class: "id", text: short(v.commitId) })),
              el("td", { class: "id", text: v.removed ? "removed" : short(v.outputHash || "") }),
              el("td", { text: String(v.inputCount) }),
              el("td", { text: new Date(v.timestamp).toLocaleString() })
            )
          ))
        );
    return el(
      "div",
      {},
      el("h3", {}, p.name + " ", el("a", { href: "#/output/" + enc(p.name) + "/" + enc(member), class: "provenance-link", text: "provenance graph" })),
      body
    );
  });
  view.replaceChildren(
    section("Member " + member + " of " + repo, el("p", {}, "As of ", picker), rows),
    section("Outputs' history", ...(outputs.length ? outputs : [el("p", { text: "No pipeline reads " + repo + "." })]))
  );
  return false;
}



// The DAG of repos and pipelines: an edge from a pipeline's input repo to the pipeline, and from a
// pipeline to the repo derived from its outputs. Each pipeline node carries its newest job's state.
async function dagSection(repos, pipelines) {
  const latest = await Promise.all(
    pipelines.map((p) => getJson("/jobs?limit=1&pipeline=" + enc(p.name)).then((j) => j.jobs[0]))
  );
  const nodes = repos.map((r) => ({
    id: "r:" + r.name,
    kind: "repo",
    label: r.name,
    sub: r.sourcePipeline ? "derived" : "source repo",
  }));
  const edges = [];
  pipelines.forEach((p, i) => {
    const job = latest[i];
    nodes.push({
      id: "p:" + p.name,
      kind: "pipeline",
      label: p.name,
      sub: job ? job.state + " " + short(job.id) : "no job yet",
      state: job ? job.state : "NONE",
      href: "#/pipeline/" + enc(p.name),
    });
    edges.push(["r:" + p.inputRepo, "p:" + p.name]);
  });
  for (const r of repos) {
    if (r.sourcePipeline) edges.push(["p:" + r.sourcePipeline, "r:" + r.name]);
  }
  return section("Repos and pipelines", el("div", { class: "graph" }, graph(nodes, edges, "dag-graph")));
}

// Vertical bar chart drawn by hand: one group of bars per item, one bar per series (SVG).
function barChart(id, items, series, label) {
  const ns = "http://www.w3.org/2000/svg";
  const barWidth = 14;
  // Wide enough for an 8-character label under each group.
  const groupWidth = Math.max(series.length * barWidth + 12, 70);
  const height = 160;
  const max = Math.max(1, ...items.flatMap((item) => series.map((s) => s.value(item))));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("id", id);
  svg.setAttribute("class", "chart");
  svg.setAttribute("width", String(60 + items.length * groupWidth));
  svg.setAttribute("height", String(height + 40));
  const axis = document.createElementNS(ns, "text");
  axis.setAttribute("x", "2");
  axis.setAttribute("y", "12");
  axis.textContent = "max " + max;
  svg.append(axis);
  items.forEach((item, i) => {
    series.forEach((s, k) => {
      const value = s.value(item);
      const h = Math.round((height - 20) * value / max);
      const bar = document.createElementNS(ns, "rect");
      bar.setAttribute("class", "bar-" + s.name);
      bar.setAttribute("data-item", label(item));
      bar.setAttribute("data-value", String(value));
      bar.setAttribute("x", String(50 + i * groupWidth + k * barWidth));
      bar.setAttribute("y", String(height - h));
      bar.setAttribute("width", String(barWidth - 2));
      bar.setAttribute("height", String(h));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = s.name + " " + value + " (" + label(item) + ")";
      bar.append(tip);
      svg.append(bar);
    });
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", String(50 + i * groupWidth));
    text.setAttribute("y", String(height + 16));
    text.textContent = label(item);
    svg.append(text);
  });
  const legend = el("p", { class: "legend" }, ...series.map((s) => el("span", { class: "key-" + s.name, text: "\u25A0 " + s.name + " " })));
  return el("div", { class: "graph" }, svg, legend);
}

// A pipeline's charts, oldest job first: processed vs skipped datums, and duration (seconds).
async function renderPipeline(view, name) {
  const page = await getJson("/jobs?limit=50&pipeline=" + enc(name));
  const jobs = page.jobs.slice().reverse();
  const label = (job) => short(job.commitId);
  // Tenths of a second: a running job counts 0 until it finishes.
  const seconds = (job) => (job.finishedAt ? Math.round((job.finishedAt - job.createdAt) / 100) / 10 : 0);
  view.replaceChildren(
    section(
      "Pipeline " + name,
      el("p", { id: "pipeline-job-count", text: jobs.length + " jobs" }),
      el("h3", { text: "Processed vs skipped datums per job" }),
      barChart("chart-datums", jobs, [
        { name: "processed", value: (j) => j.processed },
        { name: "skipped", value: (j) => j.skipped },
      ], label),
      el("h3", { text: "Job duration (s) over commits" }),
      barChart("chart-duration", jobs, [{ name: "duration", value: seconds }], label),
      el(
        "table",
        { id: "pipeline-jobs" },
        el("tbody", {}, ...page.jobs.map((job) => jobRow(job, { pipeline: false })))
      )
    )
  );
  return true;
}

// A repo's charts, oldest commit first: rows and changed members per commit.
async function renderRepo(view, name) {
  const page = await getJson("/repos/" + enc(name) + "/commits?limit=50");
  const commits = page.commits.filter((c) => c.stats).reverse();
  view.replaceChildren(
    section(
      "Repo " + name,
      el("p", { id: "repo-commit-count", text: commits.length + " commits with stats" }),
      el("h3", { text: "Rows and changed members per commit" }),
      barChart("chart-rows", commits, [
        { name: "rows", value: (c) => c.stats.rows },
        { name: "changed", value: (c) => c.stats.changedMembers },
      ], (c) => "#" + c.sequence)
    )
  );
  return true;
}

// ---- routing ----

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  clearTimeout(pollTimer);
  if (parts[0] === "job" && parts[1]) poll((view) => renderJob(view, parts[1]));
  else if (parts[0] === "global" && parts[1]) poll((view) => renderGlobal(view, parts[1]));
  else if (parts[0] === "pipeline" && parts[1]) poll((view) => renderPipeline(view, parts[1]));
  else if (parts[0] === "commit" && parts[1]) poll((view) => renderCommit(view, parts[1], parts[2]));
  else if (parts[0] === "member" && parts[3]) poll((view) => renderMember(view, parts[1], parts[2], parts.slice(3).join("/")));
  else if (parts[0] === "repo" && parts[1]) poll((view) => renderRepo(view, parts[1]));
  else if (parts[0] === "output" && parts[2]) poll((view) => renderOutput(view, parts[1], parts.slice(2).join("/")));
  else poll(renderHome);
}

document.getElementById("sign-out").addEventListener("click", (event) => {
  event.preventDefault();
  sessionStorage.removeItem(TOKEN_KEY);
  renderSignIn("Signed out. Paste a bearer token to sign in.");
});

// Search: "repo/member" opens a member, "pipeline/member" an output; otherwise a global ID, a job ID (or prefix), then a
// commit ID (or prefix) are tried in that order, each against the API, the first found wins.
async function search(text) {
  if (text.includes("/")) {
    const [first, ...rest] = text.split("/");
    const repos = await getJson("/repos");
    const isRepo = repos.repos.some((r) => r.name === first);
    return isRepo ? memberHref(first, "latest", rest.join("/")) : "#/output/" + text.split("/").map(enc).join("/");
  }
  const tries = [
    ["/global/" + enc(text), () => "#/global/" + enc(text)],
    ["/jobs/" + enc(text), (job) => "#/job/" + job.id],
    ["/commits/" + enc(text), (answer) => "#/commit/" + answer.commit.id],
  ];
  for (const [path, target] of tries) {
    try {
      return target(await getJson(path));
    } catch (error) {
      if (error instanceof SignInNeeded) throw error;
    }
  }
  return null;
}

document.getElementById("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("search-input").value.trim();
  try {
    const target = await search(text);
    if (target) location.hash = target;
    else {
      generation++;
      view.replaceChildren(section("Search", el("p", { id: "search-miss", class: "error", text: "Nothing found for " + text })));
    }
  } catch (error) {
    showError(error);
  }
});
window.addEventListener("hashchange", route);
route();
