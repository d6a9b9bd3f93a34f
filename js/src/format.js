// Plain-text descriptions of summaries, steps and nodes for the panels (the DOM code sets them as textContent).

import { num } from "./dot.js";

export function describeSummary(s) {
  if (!s) return "(none)";
  if (s.items) {
    return `${s.type || "container"} {` + s.items.map(([k, v]) => `${k}: ${describeSummary(v)}`).join("; ") + "}";
  }
  const bits = [s.type || "?"];
  const stats = [];
  const zero = s.norm === undefined && s.min === undefined && s.max === undefined && !s.head;
  if (zero) stats.push("all zero");
  if (s.norm !== undefined) stats.push(`norm ${num(s.norm)}`);
  if (s.min !== undefined || s.max !== undefined) stats.push(`min ${num(s.min ?? 0)} max ${num(s.max ?? 0)}`);
  if (s.mean !== undefined) stats.push(`mean ${num(s.mean)}`);
  if (s.nan) stats.push(`${s.nan} NaN`);
  if (s.inf) stats.push(`${s.inf} Inf`);
  if (stats.length) bits.push(stats.join(", "));
  if (s.head && s.head.length) {
    const size = sizeOf(s.type);
    const more = size === null ? s.head.length >= 4 : size > s.head.length;
    bits.push(`[${s.head.map(num).join(", ")}${more ? ", \u2026" : ""}]`);
  }
  return bits.join("  ");
}

// The number of elements of a type string like "f64[3, 2]" ("f64[]" is a scalar), or null if it is not one.
export function sizeOf(type) {
  const m = /^[A-Za-z]+\d*\[([\d,\s]*)\]$/.exec(String(type || "").trim());
  if (!m) return null;
  return m[1].split(",").filter((d) => d.trim()).reduce((a, d) => a * Number(d), 1);
}

export function siteText(model, node) {
  if (node.site === undefined || node.site === null) return null;
  const site = model.sites[node.site];
  if (!site) return null;
  return { where: `${site.file}:${site.line} in ${site.function}`, code: site.code ?? null };
}

export function recipeText(node) {
  return `${node.primitive || node.op}(${(node.args || []).join(", ")})`;
}

export function nodeTitle(node) {
  return `%${node.id} ${node.name ? node.name + " = " : ""}${node.op}  ${node.type || ""}`.trim();
}

// How a node matches a search query: 1 by what it is (op, primitive, tap name), 2 by where it comes from (the
// code of its source line, its function, or a "file:line" query), 0 not at all.
export function matchTier(model, node, query) {
  const q = query.trim().toLowerCase();
  if (!q) return 0;
  const has = (f) => f !== undefined && f !== null && String(f).toLowerCase().includes(q);
  const fileLine = /^(.+):(\d+)$/.exec(q);
  const site = node.site !== undefined && node.site !== null ? model.sites[node.site] : null;
  if (fileLine) {
    if (!site) return 0;
    const file = String(site.file).toLowerCase();
    return site.line === Number(fileLine[2]) && file.endsWith(fileLine[1]) ? 2 : 0;
  }
  if (has(node.op) || has(node.primitive) || has(node.name)) return 1;
  return site && (has(site.code) || has(site.function)) ? 2 : 0;
}

// Does the node match a search query at all: primitive, tap name, source line text, function, or file:line?
export function matches(model, node, query) {
  return matchTier(model, node, query) > 0;
}

// The nodes a search finds: those matching by what they are if there are any (typing "tanh" finds the tanh nodes,
// not every node on a line that calls tanh), else those matching by their source. {ids, bySource}.
export function searchHits(model, query) {
  const first = [];
  const second = [];
  for (const node of model.nodes) {
    const tier = matchTier(model, node, query);
    if (tier === 1) first.push(node.id);
    else if (tier === 2) second.push(node.id);
  }
  return first.length ? { ids: first, bySource: false } : { ids: second, bySource: second.length > 0 };
}
